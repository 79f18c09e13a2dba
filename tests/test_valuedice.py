"""ValueDICE: the math on hand-computable cases, absorbing states, normalization, save/load, offline mode, learning."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from imitation.data.types import Trajectory
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from sb3_behave.demos import DemonstrationError, RecordDemonstrations, play_episodes
from sb3_behave.valuedice import (
    ValueDICE,
    ValueDICEPolicy,
    dv_terms,
    expert_statistics,
    expert_transitions,
    gradient_penalty,
    orthogonal_regularization,
    weighted_log_mean_exp,
)

SMALL = dict(net_arch=[64, 64])


@pytest.fixture(autouse=True)
def _one_thread():
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def cartpole_expert(obs: np.ndarray) -> int:
    """Push the cart the way the pole is falling: balances CartPole-v1 for the full 500 steps."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def pendulum_linear_expert(obs: np.ndarray) -> np.ndarray:
    """A smooth (not swinging-up) Pendulum controller: a linear function of sin(theta) and theta_dot."""
    return np.array([np.clip(-1.5 * obs[1] - 0.2 * obs[2], -2.0, 2.0)], dtype=np.float32)


def play(env_id, expert, episodes, seed=0):
    return play_episodes(gym.make(env_id), expert, episodes, seed=seed)


@pytest.fixture(scope="module")
def cartpole_demos():
    return play("CartPole-v1", cartpole_expert, 3)


@pytest.fixture(scope="module")
def pendulum_demos():
    return play("Pendulum-v1", pendulum_linear_expert, 5)


class StepCounter(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.steps = 0

    def step(self, action):
        self.steps += 1
        return self.env.step(action)


def parameters(module):
    return th.nn.utils.parameters_to_vector(module.parameters()).detach().clone()


# --------------------------------------------------------------------------- the objective
def test_log_e_exp_is_exact_and_its_gradient_is_the_surrogates():
    """nu(x) = w.x: the log-E-exp term, its value by hand, and the gradient of the reference code's surrogate."""
    gamma, alpha = 0.9, 0.25
    x_e, x1_e = th.tensor([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]]), th.tensor([[0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    x_r, x1_r = th.tensor([[2.0, 1.0], [-1.0, 0.5]]), th.tensor([[1.0, -1.0], [0.0, 0.0]])
    w = th.tensor([0.3, -0.7], requires_grad=True)
    expert_diff, replay_diff = x_e @ w - gamma * x1_e @ w, x_r @ w - gamma * x1_r @ w
    nonlinear, _ = dv_terms(expert_diff, replay_diff, th.zeros(1), gamma, alpha)
    (gradient,) = th.autograd.grad(nonlinear, w)

    diffs = np.concatenate([expert_diff.detach().numpy(), replay_diff.detach().numpy()]).astype(np.float64)
    weights = np.array([(1 - alpha) / 3] * 3 + [alpha / 2] * 2)
    assert nonlinear.item() == pytest.approx(math.log(np.sum(weights * np.exp(diffs))), rel=1e-6)
    # d/dw log sum_i w_i exp(d_i) = sum_i p_i d(d_i)/dw with p = w exp(d) / sum w exp(d)
    p = weights * np.exp(diffs) / np.sum(weights * np.exp(diffs))
    inputs = np.concatenate([(x_e - gamma * x1_e).numpy(), (x_r - gamma * x1_r).numpy()])
    np.testing.assert_allclose(gradient.numpy(), p @ inputs, rtol=1e-5)
    # the surrogate sum_i stop_gradient(p_i) * diff_i has that gradient too (but another value)
    w2 = w.detach().clone().requires_grad_(True)
    diff2 = th.cat([x_e @ w2 - gamma * x1_e @ w2, x_r @ w2 - gamma * x1_r @ w2])
    surrogate = (th.tensor(p, dtype=th.float32) * diff2).sum()
    (surrogate_gradient,) = th.autograd.grad(surrogate, w2)
    np.testing.assert_allclose(gradient.numpy(), surrogate_gradient.numpy(), rtol=1e-5)


def test_log_e_exp_is_stable_and_alpha_zero_ignores_the_replay():
    big = th.tensor([1000.0, 1001.0])
    value = weighted_log_mean_exp(big, th.tensor([0.5, 0.5]))
    assert value.item() == pytest.approx(1000.0 + math.log((1 + math.e) / 2), rel=1e-6)
    replay_diff = th.tensor([5.0, -3.0], requires_grad=True)
    nonlinear, linear = dv_terms(th.tensor([0.0, math.log(3.0)]), replay_diff, th.tensor([2.0]), 0.5, 0.0)
    assert nonlinear.item() == pytest.approx(math.log(2.0))  # log((1 + 3) / 2)
    assert linear.item() == pytest.approx(0.5 * 2.0)  # (1 - gamma) E[nu_0]
    (nonlinear + linear).backward()
    assert th.all(replay_diff.grad == 0)


def test_linear_term_by_hand():
    nu_0, replay_diff = th.tensor([1.0, 3.0]), th.tensor([2.0, 4.0, 6.0])
    _, linear = dv_terms(th.zeros(4), replay_diff, nu_0, gamma=0.9, alpha=0.2)
    assert linear.item() == pytest.approx(0.8 * 0.1 * 2.0 + 0.2 * 4.0)


def test_gradient_penalty_and_orthogonal_regularization_by_hand():
    linear = nn.Linear(2, 1, bias=False)
    with th.no_grad():
        linear.weight.copy_(th.tensor([[3.0, 4.0]]))
    penalty = gradient_penalty(linear, th.randn(5, 2))
    assert penalty.item() == pytest.approx((5.0 - 1.0) ** 2)  # (||w|| - 1)^2 everywhere
    penalty.backward()
    np.testing.assert_allclose(linear.weight.grad.numpy(), [[2 * 4 * 3 / 5, 2 * 4 * 4 / 5]], rtol=1e-5)

    layer = nn.Linear(2, 2)
    with th.no_grad():
        layer.weight.copy_(th.tensor([[1.0, 2.0], [3.0, 4.0]]))  # W W^T = [[5, 11], [11, 25]]
    assert orthogonal_regularization([layer]).item() == pytest.approx(2 * 11.0**2)
    rotation = nn.Linear(2, 2)
    with th.no_grad():
        rotation.weight.copy_(th.tensor([[0.6, -0.8], [0.8, 0.6]]))
    assert orthogonal_regularization([rotation]).item() == pytest.approx(0.0, abs=1e-10)


def fixed_discrete_policy(probabilities, nu_state_weights, nu_action_weights, nu_bias):
    """A policy with no hidden layers: constant pi(.|s) = probabilities, nu(s, a) = u.s + v[a] + b."""
    k = len(probabilities)
    policy = ValueDICEPolicy(
        gym.spaces.Box(-10, 10, (2,)), gym.spaces.Discrete(k), lambda _: 0.0, net_arch=[], absorbing_state=True
    )
    with th.no_grad():
        policy.actor.logits.weight.zero_()
        policy.actor.logits.bias.copy_(th.log(th.tensor(probabilities)))
        (nu,) = [m for m in policy.nu if isinstance(m, nn.Linear)]
        nu.weight.copy_(th.tensor([[*nu_state_weights, 0.0, *nu_action_weights]]))  # [obs, indicator, one-hot]
        nu.bias.fill_(nu_bias)
    return policy


def test_discrete_expectation_is_the_exact_sum_over_actions():
    p, u, v, b = [0.2, 0.3, 0.5], [1.0, -2.0], [4.0, -1.0, 2.0], 0.5
    policy = fixed_discrete_policy(p, u, v, b)
    states = th.tensor([[0.5, 1.0, 0.0], [-1.0, 0.25, 0.0]])
    expected, drawn = policy.expected_nu(states)
    by_hand = [np.dot(u, s[:2]) + np.dot(p, v) + b for s in states.numpy()]
    np.testing.assert_allclose(expected.detach().numpy(), by_hand, rtol=1e-6)
    assert drawn.shape == (2, 3) and th.all(drawn.sum(dim=1) == 1)
    # its gradient with respect to the logits: d/dz_a sum_b p_b nu_b = p_a (nu_a - E[nu])
    expected[0].backward()
    nu_values = np.dot(u, [0.5, 1.0]) + np.array(v) + b
    np.testing.assert_allclose(
        policy.actor.logits.bias.grad.numpy(), np.array(p) * (nu_values - np.dot(p, nu_values)), rtol=1e-5
    )
    # at the absorbing state the action does not matter: nu(s_abs, a) = nu(s_abs, 0) = b
    absorbing_value, _ = policy.expected_nu(th.tensor([[0.0, 0.0, 1.0]]))
    assert absorbing_value.item() == pytest.approx(b)


def test_box_expectation_is_reparametrized_and_ignores_actions_when_absorbing():
    policy = ValueDICEPolicy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-2, 2, (2,)), lambda _: 0.0, net_arch=[16])
    states = th.cat([th.randn(8, 3), th.zeros(8, 1)], dim=1)
    value, action = policy.expected_nu(states)
    assert action.shape == (8, 2) and th.all(action.abs() <= 1)
    value.sum().backward()
    assert policy.actor.mu.weight.grad.abs().sum() > 0  # the actor gets the gradient through the sampled action
    absorbing = th.tensor([[0.0, 0.0, 0.0, 1.0]] * 2)
    first, second = policy.encode_actions(th.tensor([[1.0, -1.0], [0.3, 0.2]]), absorbing)
    assert th.all(first == 0) and th.all(second == 0)


# --------------------------------------------------------------------------- absorbing states
def test_real_termination_gets_absorbing_transitions_a_truncation_does_not():
    obs = np.arange(8, dtype=np.float32).reshape(4, 2)
    acts = np.array([0, 1, 0])
    terminated = expert_transitions([Trajectory(obs, acts, None, terminal=True)])
    assert terminated.states.shape == (4, 3)  # 3 transitions + (absorbing -> absorbing)
    np.testing.assert_array_equal(terminated.states[:3, :2], obs[:3])
    np.testing.assert_array_equal(terminated.states[:, 2], [0, 0, 0, 1])  # the indicator
    np.testing.assert_array_equal(terminated.next_states[:2], [[2, 3, 0], [4, 5, 0]])
    np.testing.assert_array_equal(terminated.next_states[2:], [[0, 0, 1], [0, 0, 1]])  # into the absorbing state
    np.testing.assert_array_equal(terminated.states[3], [0, 0, 1])
    np.testing.assert_array_equal(terminated.actions, [0, 1, 0, 0])
    np.testing.assert_array_equal(terminated.initial_states, [[0, 1, 0]])

    for truncated in (
        Trajectory(obs, acts, None, terminal=False),
        # imitation's rollouts set terminal at time limits too; the info says it was a truncation
        Trajectory(obs, acts, np.array([{}, {}, {"TimeLimit.truncated": True}]), terminal=True),
    ):
        transitions = expert_transitions([truncated])
        assert transitions.states.shape == (3, 3) and not transitions.next_states[:, 2].any()
        np.testing.assert_array_equal(transitions.next_states[2], [6, 7, 0])  # the real last observation

    plain = expert_transitions([Trajectory(obs, acts, None, terminal=True)], absorbing=False)
    assert plain.states.shape == (3, 2) and plain.next_states[2].tolist() == [6, 7]


def test_replay_data_absorbs_real_terminations_only(cartpole_demos):
    model = ValueDICE(
        "MlpPolicy",
        "CartPole-v1",
        cartpole_demos,
        buffer_size=100,
        normalize_expert_states=False,
        absorbing_loops=1,
        policy_kwargs=SMALL,
        seed=0,
    )
    buffer = model.replay_buffer
    rows = [  # (obs, next obs, done, info): ordinary, truncated by the time limit, terminated
        (np.full(4, 1.0), np.full(4, 2.0), False, {}),
        (np.full(4, 3.0), np.full(4, 4.0), True, {"TimeLimit.truncated": True}),
        (np.full(4, 5.0), np.full(4, 6.0), True, {}),
        (np.full(4, 7.0), np.full(4, 8.0), False, {}),
    ]
    for obs, next_obs, done, info in rows:
        buffer.add(obs[None], next_obs[None], np.array([[1]]), np.array([1.0]), np.array([done]), [info])
    fraction = model.replay_absorbing_fraction()
    assert fraction == pytest.approx(1 / 5)  # one termination: one absorbing loop for 4 transitions
    states, actions, next_states = model._sample_replay(4000, fraction)
    first, following = states[:, 0].numpy(), next_states.numpy()
    loops = states[:, 4] == 1
    assert th.all(next_states[loops, 4] == 1) and th.all(actions[loops] == 0) and th.all(states[loops, :4] == 0)
    assert loops.float().mean().item() == pytest.approx(0.2, abs=0.03)
    assert np.all(following[first == 5.0] == [0, 0, 0, 0, 1])  # the termination leads to the absorbing state
    assert np.all(following[first == 3.0] == [4, 4, 4, 4, 0])  # the truncation keeps its next observation
    assert np.all(following[first == 1.0] == [2, 2, 2, 2, 0])


def cartpole_buffer_model(cartpole_demos, terminate=True, **kwargs):
    """A CartPole model whose replay buffer holds 3 ordinary transitions and one real termination (or 4 ordinary ones)."""
    settings = dict(buffer_size=100, normalize_expert_states=False, policy_kwargs=SMALL, seed=0, **kwargs)
    model = ValueDICE("MlpPolicy", "CartPole-v1", cartpole_demos, **settings)
    for value, done in ((1.0, False), (3.0, False), (5.0, terminate), (7.0, False)):
        obs = np.full((1, 4), value)
        model.replay_buffer.add(obs, obs + 1, np.array([[1]]), np.array([1.0]), np.array([done]), [{}])
    return model


def test_absorbing_loops_count_per_termination(cartpole_demos):
    model = cartpole_buffer_model(cartpole_demos)  # 10 loops by default, as the paper's code
    assert model.replay_absorbing_fraction() == pytest.approx(10 / 14)  # as if 10 loops were stored beside 4 transitions
    assert cartpole_buffer_model(cartpole_demos, absorbing_loops=1).replay_absorbing_fraction() == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="absorbing_loops=0"):
        cartpole_buffer_model(cartpole_demos, absorbing_loops=0)


def test_one_backward_pass_gives_each_network_its_own_gradient(cartpole_demos):
    model = cartpole_buffer_model(cartpole_demos, orthogonal_reg_weight=0.1)
    nu, actor = list(model.nu.parameters()), list(model.actor.parameters())

    def seeded():
        th.manual_seed(1)
        np.random.seed(1)  # SB3's replay buffer samples with numpy

    seeded()
    losses = model.losses(32, 0.2)
    expected_nu = th.autograd.grad(losses["nu_loss"], nu, retain_graph=True)
    expected_actor = th.autograd.grad(losses["actor_loss"], actor)
    assert max(g.abs().max().item() for g in expected_actor) > 0
    seeded()
    model.update(32, 0.2)  # the gradients stay in .grad after the optimizers' steps
    for parameter, gradient in zip([*nu, *actor], [*expected_nu, *expected_actor]):
        th.testing.assert_close(parameter.grad, gradient, rtol=1e-4, atol=1e-6)


def test_gradient_penalty_can_leave_out_segments_to_the_absorbing_state(cartpole_demos):
    def penalty(penalize_absorbing, fraction, terminate=True):
        model = cartpole_buffer_model(cartpole_demos, terminate, penalize_absorbing=penalize_absorbing)
        th.manual_seed(2)
        np.random.seed(2)
        return model.losses(64, fraction)["gradient_penalty"].item()

    assert penalty(True, 1.0) > 0.01  # every replay sample is an absorbing loop
    assert penalty(False, 1.0) == 0.0  # ... so every interpolation has an absorbing end, and none is penalized
    assert penalty(False, 0.0) != pytest.approx(penalty(True, 0.0))  # the termination's next state is absorbing
    assert penalty(False, 0.0, terminate=False) == pytest.approx(penalty(True, 0.0, terminate=False))  # nothing absorbing


def test_paper_settings_build_and_update(pendulum_demos):
    model = ValueDICE("MlpPolicy", "Pendulum-v1", pendulum_demos, seed=0, **ValueDICE.PAPER)
    assert (model.gradient_steps, model.absorbing_loops, model.initial_states) == (5, 10, "expert")
    assert len(model._expert["initial_states"]) == len(model._expert["states"])  # every expert state starts an episode
    model.learn(300)  # random actions only (learning_starts 2,000)
    assert np.isfinite(list(model.update(64, model.replay_absorbing_fraction()).values())).all()


# --------------------------------------------------------------------------- normalization, save and load
def test_expert_statistics_are_applied_in_predict(pendulum_demos):
    model = ValueDICE("MlpPolicy", "Pendulum-v1", pendulum_demos, policy_kwargs=SMALL, seed=0)
    every_obs = np.concatenate([t.obs for t in pendulum_demos]).astype(np.float64)
    mean, std = expert_statistics(pendulum_demos)
    np.testing.assert_allclose(mean, every_obs.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(std, every_obs.std(axis=0) + 1e-3, rtol=1e-5)
    np.testing.assert_allclose(model.policy.obs_mean.numpy(), mean)
    np.testing.assert_allclose(model.policy.obs_std.numpy(), std)

    obs = np.array([[1.0, 0.0, 0.5], [-1.0, 0.0, -3.0], [0.0, 1.0, 8.0]], dtype=np.float32)
    actions, _ = model.predict(obs, deterministic=True)
    model.policy.set_normalization(np.zeros(3), np.ones(3))
    same, _ = model.predict((obs - mean) / std, deterministic=True)
    np.testing.assert_allclose(actions, same, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(actions) <= 2.0)

    plain = ValueDICE("MlpPolicy", "Pendulum-v1", pendulum_demos, normalize_expert_states=False, policy_kwargs=SMALL)
    assert th.all(plain.policy.obs_mean == 0) and th.all(plain.policy.obs_std == 1)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_save_and_load_give_the_same_actions(env_id, cartpole_demos, pendulum_demos, tmp_path):
    demos = cartpole_demos if env_id == "CartPole-v1" else pendulum_demos
    model = ValueDICE("MlpPolicy", env_id, demos, offline=True, batch_size=32, learning_rate=1e-4, policy_kwargs=SMALL, seed=1)
    model.learn(30)
    model.save(tmp_path / "model.zip")
    obs = np.concatenate([t.obs for t in demos])[::7]
    expected, _ = model.predict(obs, deterministic=True)

    loaded = ValueDICE.load(tmp_path / "model.zip")
    actions, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_allclose(actions, expected, rtol=1e-6)
    assert {"obs_mean", "obs_std"} <= set(model.policy.state_dict())  # the statistics are part of the policy's weights
    assert th.equal(loaded.policy.obs_mean, model.policy.obs_mean) and loaded._n_updates == 30
    assert loaded.offline and loaded.alpha == model.alpha and loaded.nu_learning_rate == 1e-3
    with pytest.raises(ValueError, match="no demonstrations"):
        loaded.learn(5)

    # training goes on with the demonstrations given again; the saved statistics are kept
    other = [Trajectory(t.obs * 0.5, t.acts, None, t.terminal) for t in demos]
    resumed = ValueDICE.load(tmp_path / "model.zip", env=gym.make(env_id), demonstrations=other)
    assert th.equal(resumed.policy.obs_std, model.policy.obs_std)
    resumed.learn(5, reset_num_timesteps=False)
    assert resumed._n_updates == 35


# --------------------------------------------------------------------------- offline mode
def test_offline_mode_takes_no_env_steps_and_trains_both_networks(cartpole_demos):
    env = StepCounter(gym.make("CartPole-v1"))
    model = ValueDICE("MlpPolicy", env, cartpole_demos, offline=True, batch_size=32, policy_kwargs=SMALL, seed=0)
    actor, nu = parameters(model.actor), parameters(model.nu)
    model.learn(40)
    assert env.steps == 0
    assert model.num_timesteps == 40 and model._n_updates == 40  # one timestep = one gradient step
    assert not th.allclose(parameters(model.actor), actor) and not th.allclose(parameters(model.nu), nu)
    assert model.replay_buffer.pos == 0 and not model.replay_buffer.full
    model.learn(15, reset_num_timesteps=False)  # a second call goes on counting
    assert model.num_timesteps == 55 and model._n_updates == 55
    assert SMALL == {"net_arch": [64, 64]}  # the caller's policy_kwargs are not written into


def test_in_memory_demonstrations_keep_their_time_limit_flags(cartpole_demos):
    # imitation's rollouts mark an episode cut by the time limit terminal=True with TimeLimit.truncated in its
    # infos: the loader keeps those infos, so ValueDICE makes no absorbing state of it.
    cut = [Trajectory(t.obs, t.acts, [{}] * (len(t.acts) - 1) + [{"TimeLimit.truncated": True}], True) for t in cartpole_demos]
    model = ValueDICE("MlpPolicy", "CartPole-v1", cut, policy_kwargs=SMALL, seed=0)
    assert model._expert["next_states"][:, -1].sum() == 0  # no transition into the absorbing state
    ended = [Trajectory(t.obs, t.acts, None, True) for t in cartpole_demos]
    model = ValueDICE("MlpPolicy", "CartPole-v1", ended, policy_kwargs=SMALL, seed=0)
    assert model._expert["next_states"][:, -1].sum() == 2 * len(ended)  # into it, and its own loop, per episode


def test_offline_mode_does_not_use_alpha(cartpole_demos):
    def trained(alpha):
        model = ValueDICE(
            "MlpPolicy", "CartPole-v1", cartpole_demos, offline=True, alpha=alpha, batch_size=32, policy_kwargs=SMALL, seed=3
        )
        model.learn(10)
        return parameters(model.policy)

    assert th.equal(trained(0.0), trained(0.5))


# --------------------------------------------------------------------------- learning
@pytest.mark.slow
def test_offline_cartpole_learns_from_three_demonstrations_and_logs(cartpole_demos, tmp_path):
    eval_env = Monitor(gym.make("CartPole-v1"))
    model = ValueDICE(
        "MlpPolicy",
        "CartPole-v1",
        cartpole_demos,
        offline=True,
        learning_rate=1e-4,
        batch_size=64,
        policy_kwargs=SMALL,
        tensorboard_log=str(tmp_path / "tb"),
        seed=0,
    )
    callback = EvalCallback(eval_env, n_eval_episodes=2, eval_freq=500, verbose=0)
    model.learn(1000, callback=callback)
    returns, _ = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True, warn=False)
    assert returns >= 400  # a random policy gets about 20, the demonstrator 500 (seeds 0-4: 497.6 to 500)
    tags = set()
    for events in (tmp_path / "tb").rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags |= set(accumulator.Tags()["scalars"])
    assert {"train/nu_loss", "train/actor_loss", "train/gradient_penalty", "train/orthogonal_penalty"} <= tags
    assert "eval/mean_reward" in tags


@pytest.mark.slow
def test_online_cartpole_learns_from_recorded_demonstrations(tmp_path):
    recorder = RecordDemonstrations(gym.make("CartPole-v1"), tmp_path / "demos", player="scripted")
    for seed in range(3):
        obs, _ = recorder.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = recorder.step(cartpole_expert(obs))
            done = terminated or truncated
    model = ValueDICE(
        "MlpPolicy",
        "CartPole-v1",
        tmp_path / "demos",
        learning_rate=1e-4,
        batch_size=64,
        learning_starts=500,
        policy_kwargs=SMALL,
        seed=0,
    )
    model.learn(1500)
    assert model.replay_absorbing_fraction() > 0  # the agent's episodes really terminate
    returns, _ = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=10, deterministic=True, warn=False)
    assert returns >= 400  # random: about 20, the demonstrator: 500 (seeds 0-4: 492 to 500)


@pytest.mark.slow
def test_box_actions_imitate_a_smooth_pendulum_controller(pendulum_demos):
    model = ValueDICE(
        "MlpPolicy",
        "Pendulum-v1",
        pendulum_demos,
        offline=True,
        learning_rate=1e-4,
        batch_size=64,
        policy_kwargs=SMALL,
        seed=0,
    )
    obs = np.concatenate([t.obs[:-1] for t in pendulum_demos])
    demonstrated = np.concatenate([t.acts for t in pendulum_demos])[:, 0]

    def correlation():
        actions, _ = model.predict(obs, deterministic=True)
        return np.corrcoef(actions[:, 0], demonstrated)[0, 1]

    before = correlation()
    model.learn(1000)
    assert correlation() > 0.9 > before  # seeds 0-4: 0.93 to 0.998 after


def test_flappy_bird_runs(tmp_path):
    from sb3_behave.demos import record_demonstrations

    record_demonstrations(
        "sb3_behave/FlappyBird-v0", tmp_path / "d", 2, skill="strong", max_episode_steps=100, progress_bar=False
    )
    model = ValueDICE(
        "MlpPolicy", "sb3_behave/FlappyBird-v0", tmp_path / "d", learning_starts=20, batch_size=16, policy_kwargs=SMALL
    )
    model.learn(40)
    action, _ = model.predict(np.zeros(12, dtype=np.float32))
    assert action in (0, 1) and model._n_updates > 0


def test_box_exploration_is_the_mean_action_plus_clipped_gaussian_noise(pendulum_demos):
    model = ValueDICE("MlpPolicy", "Pendulum-v1", pendulum_demos, learning_starts=0, policy_kwargs=SMALL, seed=0)
    model.learn(1)  # sets up the env and _last_obs
    mean, _ = model.predict(model._last_obs, deterministic=True)
    model.exploration_noise = 0.0
    action, buffer_action = model._sample_action(learning_starts=0)
    np.testing.assert_allclose(action, mean, atol=1e-6)
    np.testing.assert_allclose(buffer_action, model.policy.scale_action(mean), atol=1e-6)
    model.exploration_noise = 0.1
    noisy = np.concatenate([model._sample_action(learning_starts=0)[1] for _ in range(2000)])
    noise = noisy - model.policy.scale_action(mean)
    assert abs(noise.mean()) < 0.01 and 0.09 < noise.std() < 0.11  # N(0, 0.1^2) in the [-1, 1] scale
    model.exploration_noise = 10.0
    assert np.abs(model._sample_action(learning_starts=0)[1]).max() <= 1.0  # clipped to the action bounds
    model.exploration_noise = None  # sample from the actor: its spread at initialization, far wider than 0.1
    sampled = np.concatenate([model._sample_action(learning_starts=0)[1] for _ in range(200)])
    assert sampled.std() > 0.2  # 0.40 for this seed
    with pytest.raises(ValueError, match="exploration_noise"):
        ValueDICE("MlpPolicy", "Pendulum-v1", pendulum_demos, exploration_noise=-1.0)


# --------------------------------------------------------------------------- errors
def test_errors_name_the_problem(cartpole_demos, tmp_path):
    with pytest.raises(DemonstrationError, match="nowhere"):
        ValueDICE("MlpPolicy", "CartPole-v1", tmp_path / "nowhere")
    recorder = RecordDemonstrations(gym.make("CartPole-v1"), tmp_path / "cartpole")
    recorder.reset(seed=0)
    while not any(recorder.step(0)[2:4]):
        pass
    with pytest.raises(DemonstrationError, match=r"episode-.*\.npz.*CartPole-v1"):
        ValueDICE("MlpPolicy", "Pendulum-v1", tmp_path / "cartpole")
    with pytest.raises(DemonstrationError, match=r"demonstrations\[0\]: observations are \(4,\) float32, but Pendulum-v1 has"):
        ValueDICE("MlpPolicy", "Pendulum-v1", cartpole_demos)
    bad = [Trajectory(t.obs, t.acts + 2, None, t.terminal) for t in cartpole_demos]
    with pytest.raises(DemonstrationError, match=r"demonstrations\[0\]: action 0 is 2, outside CartPole-v1's .*Discrete\(2\)"):
        ValueDICE("MlpPolicy", "CartPole-v1", bad)
    with pytest.raises(DemonstrationError, match=r"demonstrations\[0\] is a ndarray: expected a path.*Trajectory"):
        ValueDICE("MlpPolicy", "CartPole-v1", [np.zeros((3, 4))])
    nan = [Trajectory(np.full_like(t.obs, np.nan), t.acts, None, t.terminal) for t in cartpole_demos]
    with pytest.raises(DemonstrationError, match=r"demonstrations\[0\]: obs holds NaN"):
        ValueDICE("MlpPolicy", "CartPole-v1", nan)
    with pytest.raises(ValueError, match="no demonstrations"):
        ValueDICE("MlpPolicy", "CartPole-v1").learn(10)
    with pytest.raises(ValueError, match="alpha"):
        ValueDICE("MlpPolicy", "CartPole-v1", cartpole_demos, alpha=1.0)
    with pytest.raises(ValueError, match="Box observation space"):
        ValueDICE("MlpPolicy", "FrozenLake-v1")
    with pytest.raises(ValueError, match="VecNormalize"):
        ValueDICE("MlpPolicy", VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")])), cartpole_demos)
