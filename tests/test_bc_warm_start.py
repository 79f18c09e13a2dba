import subprocess
import sys

import numpy as np
import pytest
import torch as th
import yaml
from sb3_contrib import TRPO, MaskablePPO
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.callbacks import BCWarmStartCallback
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.envs import FlappyBirdVecEnv

ENV_ID = "sb3_behave/FlappyBird-v0"


@pytest.fixture(scope="module")
def flappy_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warm") / "strong"
    record_demonstrations(ENV_ID, folder, 3, skill="strong", max_episode_steps=600, progress_bar=False)
    return folder


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warm") / "pendulum"
    record_demonstrations("Pendulum-v1", folder, 2, expert="random", progress_bar=False)
    return folder


def constant_policy_loss(folder):
    """The BC loss of the best policy that ignores the observation: the entropy of the demonstrated actions.

    A policy that never flaps scores 0.93 accuracy on Flappy Bird (the expert flaps in 7% of
    frames); only a policy that reads the observation has a BC loss below this number.
    """
    acts = np.concatenate([t.acts for t in load_demonstrations(folder)])
    p = np.bincount(acts) / len(acts)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def scalars(folder, tag):
    found = []
    for events in folder.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if tag in accumulator.Tags()["scalars"]:
            found += [(s.step, s.value) for s in accumulator.Scalars(tag)]
    return sorted(found)


def tags(folder):
    found = set()
    for events in folder.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        found |= set(accumulator.Tags()["scalars"])
    return found


def test_ppo_warm_start_clones_the_expert_and_logs_to_tensorboard(flappy_demos, tmp_path):
    env = FlappyBirdVecEnv(8, seed=0)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=256, n_epochs=2, seed=0, device="cpu", tensorboard_log=str(tmp_path))
    callback = BCWarmStartCallback(flappy_demos, bc_epochs=8, eval_env=FlappyBirdVecEnv(2, seed=9, max_episode_steps=300))
    before = {n: p.detach().clone() for n, p in model.policy.named_parameters()}
    model.learn(3 * 64 * 8, callback=callback)
    stats = callback.stats
    assert stats["bc_loss"] < 0.95 * constant_policy_loss(flappy_demos), stats  # it reads the observation
    assert stats["bc_accuracy"] > 0.9, stats
    assert "eval_return" in stats and "value_loss" not in stats  # the default fits the critic on the env, not on returns
    assert stats["entropy"] >= 0.05 - 1e-4  # the entropy floor
    assert callback.rl_updates == 2
    # The defaults: BC moved the actor; then 1,536 env steps of the 10,000-step critic-only warm-up moved the
    # value head and left the actor where BC put it.
    changed = [n for n, p in model.policy.named_parameters() if not th.equal(p, before[n])]
    assert any("value" in n for n in changed) and any("action_net" in n for n in changed)
    assert callback._actor_share_now() == 0.0
    found = tags(tmp_path)
    for tag in (
        "warm_start/bc_loss",
        "warm_start/bc_accuracy",
        "warm_start/eval_return",
        "warm_start/actor_share",
    ):
        assert tag in found, found
    assert any(t.startswith("bc/") for t in found)  # imitation's own BC curves


def bc_loss_after_rl(demos, tensorboard_log, **term):
    # An entropy bonus of 5 pulls every RL update toward the uniform policy, away from the demonstrations.
    model = PPO("MlpPolicy", FlappyBirdVecEnv(4, seed=0), n_steps=32, batch_size=128, n_epochs=4, ent_coef=5.0,
                seed=0, device="cpu", tensorboard_log=str(tensorboard_log))
    callback = BCWarmStartCallback(demos, bc_epochs=4, bc_term_batches=60, fit_value=None, actor_ramp_steps=0, **term)
    model.learn(4 * 32 * 4, callback=callback)
    assert callback.rl_updates == 3
    obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in demos]))
    acts = th.as_tensor(np.concatenate([t.acts for t in demos]))
    with th.no_grad():
        _, log_prob, _ = model.policy.evaluate_actions(obs, acts)
    return float(-log_prob.mean()), [w for _, w in scalars(tensorboard_log, "warm_start/bc_weight")]


def test_the_bc_term_holds_the_policy_near_the_demonstrations_during_rl(flappy_demos, tmp_path):
    demos = load_demonstrations(flappy_demos)
    with_term, weights = bc_loss_after_rl(demos, tmp_path / "with", bc_term_weight=1.0, bc_term_decay=1.0)
    without_term, _ = bc_loss_after_rl(demos, tmp_path / "without", bc_term_weight=0.0)
    assert weights == [1.0, 1.0, 1.0]
    # Without the term, RL pulls the policy back to what a constant policy scores; the term keeps the clone.
    assert without_term > 0.95 * constant_policy_loss(flappy_demos)
    assert with_term < 0.9 * without_term, (with_term, without_term)


def test_the_bc_term_weight_decays_per_rl_update(flappy_demos, tmp_path):
    model = PPO("MlpPolicy", FlappyBirdVecEnv(2, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu",
                tensorboard_log=str(tmp_path))
    seen = []
    callback = BCWarmStartCallback(
        flappy_demos, bc_epochs=1, fit_value="returns", bc_term_weight=0.8, bc_term_decay=0.5, bc_term_batches=2
    )
    original = BCWarmStartCallback._on_rollout_start

    def spy(self):  # the learning rate the BC term trains with, after each RL update
        original(self)
        seen.append(self._trainer.optimizer.param_groups[0]["lr"])

    callback._on_rollout_start = spy.__get__(callback)
    model.learn(4 * 32 * 2, callback=callback)
    expected = [0.8 * 0.5**k for k in (1, 2, 3)]
    assert [w for _, w in scalars(tmp_path, "warm_start/bc_weight")] == pytest.approx(expected)
    assert seen[-3:] == pytest.approx([callback.bc_learning_rate * w for w in expected])


def test_value_head_learns_the_demonstration_returns(flappy_demos):
    demos = load_demonstrations(flappy_demos)
    model = PPO("MlpPolicy", FlappyBirdVecEnv(2, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
    obs = th.as_tensor(np.concatenate([t.obs[:100] for t in demos]))
    untrained = model.policy.predict_values(obs).detach().numpy().ravel()
    callback = BCWarmStartCallback(demos, bc_epochs=1, fit_value="returns", value_epochs=20)
    model.learn(64, callback=callback)
    fitted = model.policy.predict_values(obs).detach().numpy().ravel()
    # an expert that never crashes earns 0.1 per frame: its discounted return is about 0.1 / (1 - 0.99) = 10
    assert np.abs(untrained - 10).mean() > 5
    assert np.abs(fitted - 10).mean() < 2.0


def test_second_learn_does_not_clone_again_and_training_end_twice(flappy_demos):
    model = PPO("MlpPolicy", FlappyBirdVecEnv(2, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
    callback = BCWarmStartCallback(flappy_demos, bc_epochs=1, bc_term_decay=0.5)
    model.learn(64, callback=callback)
    stats = dict(callback.stats)
    model.learn(64, callback=callback, reset_num_timesteps=False)
    assert callback.stats == stats and callback.rl_updates == 1  # the update that ended the first learn()
    callback.on_training_end()
    callback.on_training_end()  # as the RL Zoo does


def test_critic_warmup_holds_the_actor(flappy_demos):
    model = PPO("MlpPolicy", FlappyBirdVecEnv(4, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
    callback = BCWarmStartCallback(flappy_demos, bc_epochs=1, fit_value="critic", critic_warmup_steps=10_000)
    model.learn(32 * 4 * 3, callback=callback)
    after_bc = callback._actor_state()
    values_before = [p.detach().clone() for p in callback._value_parameters()]
    model.learn(32 * 4 * 2, callback=callback, reset_num_timesteps=False)
    for name, value in callback._actor_state().items():
        assert th.equal(value, after_bc[name]), name
    assert any(not th.equal(a, b) for a, b in zip(values_before, callback._value_parameters()))


def test_actor_ramp_scales_the_actors_step(flappy_demos):
    # Two identical runs, one with the ramp: its actor moves by share * the other's step, its critic by the full step.
    def one_update(ramp):
        model = PPO("MlpPolicy", FlappyBirdVecEnv(4, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
        callback = BCWarmStartCallback(
            flappy_demos, bc_epochs=1, fit_value="returns", entropy_floor=None, actor_ramp_steps=ramp
        )  # no critic-only warm-up: the ramp starts at the first update
        model.learn(0, callback=callback)
        before = callback._actor_state()
        model.learn(128, callback=callback, reset_num_timesteps=False)
        return before, callback._actor_state(), [p.detach().clone() for p in callback._value_parameters()]

    before, full, critic_full = one_update(0)
    before_ramped, ramped, critic_ramped = one_update(512)
    share = 128 / 512
    assert all(th.equal(before[name], before_ramped[name]) for name in before)
    for name in before:
        moved = full[name] - before[name]
        assert moved.abs().max() > 0, name
        assert th.allclose(ramped[name] - before[name], share * moved, atol=1e-6), name
    assert all(th.equal(a, b) for a, b in zip(critic_full, critic_ramped))
    with pytest.raises(ValueError, match="actor_ramp_steps must be >= 0"):
        BCWarmStartCallback(flappy_demos, actor_ramp_steps=-1)


@pytest.mark.parametrize("recipe", ["default", "0.1.0"])
def test_the_exploration_floor_holds_while_the_actor_is_held_or_ramped(flappy_demos, recipe):
    model = PPO("MlpPolicy", FlappyBirdVecEnv(2, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
    if recipe == "default":  # held to 128 env steps, ramped to 256
        callback = BCWarmStartCallback(flappy_demos, bc_epochs=1, critic_warmup_steps=128, actor_ramp_steps=128)
    else:  # neither held nor ramped: the floor holds for the whole run
        callback = BCWarmStartCallback(flappy_demos, bc_epochs=1, fit_value="returns", actor_ramp_steps=0)
    floors = []
    apply_floor = callback._apply_exploration_floor
    callback._apply_exploration_floor = lambda: floors.append(callback.num_timesteps) or apply_floor()
    model.learn(640, callback=callback)
    # Once after BC, then before each rollout (every 64 env steps) that may move the actor while the floor holds
    # (the held actor does not move: none at 64 and 128), and at the end of learn().
    assert floors == ([0, 192] if recipe == "default" else [0, *range(64, 640, 64), 640])


def test_gail_generator_starts_from_the_clone_and_is_held_during_the_critic_warmup(flappy_demos):
    from sb3_behave.zoo.adapters import GAIL

    def gail():
        env = FlappyBirdVecEnv(4, seed=0)
        return GAIL("MlpPolicy", env, demonstrations=str(flappy_demos), n_steps=32, batch_size=64, demo_batch_size=64, seed=0)

    model = gail()
    callback = BCWarmStartCallback(flappy_demos, bc_epochs=8, fit_value="critic", critic_warmup_steps=10_000)
    model.learn(2 * 32 * 4, callback=callback)
    assert callback.stats["bc_accuracy"] > 0.9, callback.stats  # the generator's policy is the clone
    assert callback.stats["bc_loss"] < 0.95 * constant_policy_loss(flappy_demos)
    after_bc = callback._actor_state()
    values_before = [p.detach().clone() for p in callback._value_parameters()]
    model.learn(2 * 32 * 4, callback=callback, reset_num_timesteps=False)
    assert model.num_timesteps == 4 * 32 * 4 and model.round_num == 4
    for name, value in callback._actor_state().items():
        assert th.equal(value, after_bc[name]), name  # held while the discriminator and the critic learn
    assert any(not th.equal(a, b) for a, b in zip(values_before, callback._value_parameters()))
    with pytest.raises(ValueError, match=r"fit_value='returns'.*GAIL has no discount factor.*use fit_value='critic'"):
        gail().learn(128, callback=BCWarmStartCallback(flappy_demos, bc_epochs=1, fit_value="returns"))


def test_rewards_are_required_only_where_they_are_used(flappy_demos):
    # Trajectories without rewards: the value fit on returns needs them (no silent zeros), the critic warm-up does not.
    from imitation.data.types import Trajectory

    from sb3_behave.demos import DemonstrationError

    bare = [Trajectory(t.obs, t.acts, None, t.terminal) for t in load_demonstrations(flappy_demos)]
    model = PPO("MlpPolicy", FlappyBirdVecEnv(2, seed=0), n_steps=32, batch_size=64, seed=0, device="cpu")
    with pytest.raises(DemonstrationError, match=r"demonstrations\[0\]: .*without rewards.*fit_value='returns'"):
        model.learn(64, callback=BCWarmStartCallback(bare, bc_epochs=1, fit_value="returns"))
    callback = BCWarmStartCallback(bare, bc_epochs=1)  # the default critic warm-up learns from the env's rewards
    model.learn(64, callback=callback)
    assert callback.warm_started


def all_allowed(env):
    return np.ones(env.action_space.n, dtype=bool)


@pytest.mark.parametrize("algo", [A2C, TRPO, MaskablePPO])
def test_other_algorithms_with_discrete_actions(algo, flappy_demos):
    kwargs = {"n_steps": 64} if algo is not TRPO else {"n_steps": 64, "batch_size": 64}
    env = FlappyBirdVecEnv(2, seed=0)
    if algo is MaskablePPO:  # every action is always allowed in Flappy Bird
        env = make_vec_env(
            ENV_ID, n_envs=2, seed=0, wrapper_class=ActionMasker, wrapper_kwargs={"action_mask_fn": all_allowed}
        )
    model = algo("MlpPolicy", env, seed=0, device="cpu", **kwargs)
    callback = BCWarmStartCallback(flappy_demos, bc_epochs=3)
    model.learn(256, callback=callback)
    assert callback.stats["bc_loss"] < constant_policy_loss(flappy_demos) and callback.rl_updates >= 1


@pytest.mark.parametrize("algo", [PPO, A2C, TRPO])
def test_box_actions_and_log_std_floor(algo, pendulum_demos):
    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    model = algo("MlpPolicy", env, n_steps=64, seed=0, device="cpu", policy_kwargs={"log_std_init": -3.0})
    callback = BCWarmStartCallback(pendulum_demos, bc_epochs=2, log_std_floor=-1.0)
    model.learn(128, callback=callback)
    assert "bc_log_likelihood" in callback.stats
    assert model.policy.log_std.min().item() >= -1.0 - 1e-6


@pytest.mark.parametrize("freeze", [True, False])
def test_vec_normalize_starts_from_the_demonstrations(flappy_demos, freeze):
    demos = load_demonstrations(flappy_demos)
    env = VecNormalize(FlappyBirdVecEnv(2, seed=0))
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=64, seed=0, device="cpu")
    callback = BCWarmStartCallback(demos, bc_epochs=4, freeze_obs_normalization=freeze)
    model.learn(0, callback=callback)
    after_warm_start = (env.obs_rms.mean.copy(), env.obs_rms.var.copy())
    demo_mean = np.concatenate([t.obs for t in demos]).mean(axis=0)
    assert np.abs(after_warm_start[0] - demo_mean).max() < 0.05  # the demonstrations' statistics (and 2 reset frames)
    assert callback.stats["bc_loss"] < constant_policy_loss(flappy_demos)
    model.learn(3 * 64, callback=callback, reset_num_timesteps=False)
    kept = np.allclose(env.obs_rms.mean, after_warm_start[0]) and np.allclose(env.obs_rms.var, after_warm_start[1])
    assert kept == freeze  # frozen: the clone's inputs are normalized as in BC; else they move with the env's states


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="fit_value='value'"):
        BCWarmStartCallback("demos", fit_value="value")


def test_from_an_rl_zoo_yaml(flappy_demos, tmp_path):
    config = {
        ENV_ID: {
            "n_envs": 4,
            "n_timesteps": 512,
            "policy": "MlpPolicy",
            "n_steps": 64,
            "batch_size": 128,
            "callback": [{"sb3_behave.callbacks.BCWarmStartCallback": {"demonstrations": str(flappy_demos), "bc_epochs": 2}}],
        }
    }
    conf = tmp_path / "ppo.yml"
    conf.write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        "ppo",
        "--env",
        ENV_ID,
        "--gym-packages",
        "sb3_behave",
        "-conf",
        str(conf),
        "-f",
        str(tmp_path / "logs"),
    ]
    cmd += ["-tb", str(tmp_path / "tb"), "--seed", "0", "--eval-freq", "-1", "--device", "cpu"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert list((tmp_path / "logs" / "ppo").glob("*/*.zip"))
    assert "warm_start/bc_accuracy" in tags(tmp_path / "tb")


def test_committed_zoo_config_names_our_callback_for_both_envs():
    from pathlib import Path

    from rl_zoo3.utils import get_class_by_name

    config = yaml.safe_load((Path(__file__).parent.parent / "zoo_configs" / "ppo_bc_warm_start.yml").read_text())
    assert set(config) == {ENV_ID, "Pendulum-v1"}
    for entry in config.values():
        (callback,) = entry["callback"]
        (name,) = callback
        assert get_class_by_name(name) is BCWarmStartCallback
        BCWarmStartCallback(**callback[name])  # the keyword arguments are valid
