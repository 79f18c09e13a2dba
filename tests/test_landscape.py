"""Loss landscapes: directions, objectives, the batched grid against the loop, metrics, command, callback."""

import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from imitation.data.types import TrajectoryWithRew
from stable_baselines3 import PPO

from sb3_behave.cli import main
from sb3_behave.demos import load_demonstrations
from sb3_behave.landscape import (
    DemoSet,
    LandscapeConfig,
    PolicyActor,
    actor_gradients,
    agreement,
    compute_landscape,
    evaluate_surfaces,
    evaluate_surfaces_loop,
    filter_directions,
    fresh_policy,
    gradient_directions,
    grid_axes,
    imitation_objective,
    reinforce_objective,
    reinforce_weights,
    rewards_to_go,
    weight_directions,
)
from sb3_behave.landscape.report import make_directions

ROOT = Path(__file__).resolve().parent.parent
FLAPPY = "sb3_behave/FlappyBird-v0"


def make_trajectories(env_id=FLAPPY, episodes=3, length=40, seed=0, reward=None):
    """Random observations and actions from the env's spaces; rewards +0.1 then -1 (or all ``reward``)."""
    env = gym.make(env_id)
    env.observation_space.seed(seed)
    env.action_space.seed(seed)
    trajectories = []
    for _ in range(episodes):
        obs = np.stack([env.observation_space.sample() for _ in range(length + 1)])
        acts = np.stack([env.action_space.sample() for _ in range(length)])
        rews = np.r_[np.full(length - 1, 0.1), -1.0] if reward is None else np.full(length, reward)
        trajectories.append(TrajectoryWithRew(obs=obs, acts=acts, infos=None, terminal=True, rews=rews.astype(np.float32)))
    return trajectories


def make_demos(env_id=FLAPPY, episodes=3, length=40, seed=0, reward=None):
    return DemoSet.from_trajectories("demos", make_trajectories(env_id, episodes, length, seed, reward))


@pytest.fixture(scope="module")
def flappy_policy():
    return fresh_policy(gym.make(FLAPPY), "ppo", seed=0)


@pytest.fixture
def actor(flappy_policy):
    return PolicyActor(flappy_policy)


@pytest.fixture(scope="module")
def demos():
    return make_demos()


# --------------------------------------------------------------------------- the actor
def test_actor_perturbs_the_actor_and_nothing_else(actor):
    assert actor.names == [
        "mlp_extractor.policy_net.0.weight",
        "mlp_extractor.policy_net.0.bias",
        "mlp_extractor.policy_net.2.weight",
        "mlp_extractor.policy_net.2.bias",
        "action_net.weight",
        "action_net.bias",
    ]  # no value_net, no mlp_extractor.value_net
    assert actor.kind == "categorical" and actor.mlp_layers() is not None


def test_actor_refuses_policies_it_cannot_handle():
    from stable_baselines3 import DQN

    dqn = DQN("MlpPolicy", gym.make("CartPole-v1"), device="cpu")
    with pytest.raises(ValueError, match="actor-critic policy"):
        PolicyActor(dqn.policy)


# --------------------------------------------------------------------------- directions
def test_filter_normalization_matches_row_norms(actor):
    directions = filter_directions(actor, seed=3)
    theta0 = actor.parameters()
    for name, p in theta0.items():
        for d in (directions.d1[name], directions.d2[name]):
            if p.dim() == 1:
                assert not d.any(), f"{name}: biases get a zero direction (Li et al.'s ignore='biasbn')"
            else:
                th.testing.assert_close(d.norm(dim=1), p.norm(dim=1))  # each filter (row) has theta0's row norm
    assert not th.equal(directions.d1["action_net.weight"], directions.d2["action_net.weight"])
    copied = filter_directions(actor, seed=3, bias="copy")
    th.testing.assert_close(copied.d1["action_net.bias"], theta0["action_net.bias"])
    again = filter_directions(actor, seed=3)
    assert all(th.equal(again.d1[n], directions.d1[n]) for n in theta0)  # seeded


def test_weight_directions_are_one_hot_and_checked(actor):
    directions = weight_directions(actor, ("action_net.weight[1,5]", "mlp_extractor.policy_net.0.bias[2]"))
    assert directions.perturbed() == ["mlp_extractor.policy_net.0.bias", "action_net.weight"]
    assert directions.d1["action_net.weight"][1, 5] == 1 and directions.d1["action_net.weight"].sum() == 1
    assert directions.d2["mlp_extractor.policy_net.0.bias"][2] == 1
    with pytest.raises(ValueError, match=r"'value_net\.weight' is not an actor parameter"):
        weight_directions(actor, ("value_net.weight[0,0]", "action_net.weight[0,1]"))
    with pytest.raises(ValueError, match=r"index \[2, 0\] is outside action_net.weight of shape \[2, 64\]"):
        weight_directions(actor, ("action_net.weight[2,0]", "action_net.weight[0,1]"))
    with pytest.raises(ValueError, match="expected NAME"):
        weight_directions(actor, ("action_net.weight", "action_net.weight[0,1]"))


def test_gradient_directions_are_unit_and_orthogonal(actor, demos):
    objectives = [imitation_objective(demos, actor.kind), reinforce_objective(demos)]
    grads = actor_gradients(actor, demos, objectives)
    directions = gradient_directions(actor, grads["il"], grads["rl"])
    u1, u2 = actor.flatten(directions.d1), actor.flatten(directions.d2)
    assert float(u1.norm()) == pytest.approx(1, abs=1e-5) and float(u2.norm()) == pytest.approx(1, abs=1e-5)
    assert abs(float(u1 @ u2)) < 1e-5
    assert float(u1 @ grads["il"]) == pytest.approx(float(grads["il"].norm()), rel=1e-5)  # d1 is the IL gradient
    # d2 lies in the plane of the two gradients
    residual = grads["rl"] - (grads["rl"] @ u1) * u1 - (grads["rl"] @ u2) * u2
    assert float(residual.norm()) < 1e-5 * float(grads["rl"].norm())
    with pytest.warns(UserWarning, match="anti-"):  # parallel gradients: a random d2, still orthogonal
        parallel = gradient_directions(actor, grads["il"], -2 * grads["il"])
    assert abs(float(actor.flatten(parallel.d1) @ actor.flatten(parallel.d2))) < 1e-5


def test_gradients_leave_the_policy_alone(actor, demos, flappy_policy):
    before = {n: p.detach().clone() for n, p in flappy_policy.named_parameters()}
    actor_gradients(actor, demos, [imitation_objective(demos, actor.kind)])
    evaluate_surfaces(actor, demos, [reinforce_objective(demos)], filter_directions(actor), grid_axes(3, 1), grid_axes(3, 1))
    for name, p in flappy_policy.named_parameters():
        assert th.equal(p, before[name]) and p.grad is None


# --------------------------------------------------------------------------- objectives
def test_rewards_to_go_and_baselines():
    trajectories = [
        TrajectoryWithRew(obs=np.zeros((4, 1)), acts=np.zeros(3), infos=None, terminal=True, rews=np.array([1.0, 0.0, 2.0])),
        TrajectoryWithRew(obs=np.zeros((3, 1)), acts=np.zeros(2), infos=None, terminal=False, rews=np.array([0.0, 4.0])),
    ]
    demos = DemoSet.from_trajectories("d", trajectories)
    g = rewards_to_go(demos.rews, demos.episode, 0.5)
    np.testing.assert_allclose(g, [1.5, 1.0, 2.0, 2.0, 4.0])  # nothing bootstrapped past an episode's end
    np.testing.assert_allclose(reinforce_weights(demos, 0.5, "mean"), g - g.mean())
    # per time step: t=0 has returns 1.5 and 2, t=1 has 1 and 4, t=2 has 2 only
    np.testing.assert_allclose(reinforce_weights(demos, 0.5, "time"), [-0.25, -1.5, 0.0, 0.25, 1.5])
    normalized = reinforce_weights(demos, 0.5, normalize=True)
    assert normalized.mean() == pytest.approx(0, abs=1e-12) and normalized.std() == pytest.approx(1, rel=1e-6)
    with pytest.raises(ValueError, match="unknown baseline 'median'"):
        reinforce_weights(demos, 0.5, "median")


def test_time_baseline_of_identical_episodes_is_exactly_zero():
    demos = make_demos(episodes=4)  # every episode: 0.1 per step, -1 at the end
    assert not reinforce_weights(demos, 0.99, "time").any()


def test_rl_with_returns_of_minus_one_is_minus_the_cross_entropy(actor):
    # gamma = 0 and every reward -1: w_t = -1, so L_RL = +1/N sum log pi = -L_IL exactly
    demos = make_demos(reward=-1.0)
    config = LandscapeConfig(directions="filter", grid=7, gamma=0.0)
    landscape = compute_landscape(actor, demos, config)
    np.testing.assert_allclose(landscape.rl, -landscape.il, rtol=1e-6)
    assert landscape.metrics["pearson"] == pytest.approx(-1, abs=1e-6)
    assert landscape.metrics["spearman"] == pytest.approx(-1, abs=1e-6)
    assert landscape.metrics["gradient_cosine"] == pytest.approx(-1, abs=1e-5)
    # positive constant returns: the two agree
    demos = make_demos(reward=2.0)
    landscape = compute_landscape(actor, demos, config)
    np.testing.assert_allclose(landscape.rl, 2 * landscape.il, rtol=1e-6)
    assert landscape.metrics["pearson"] == pytest.approx(1, abs=1e-6)


def test_il_loss_names_are_checked(demos):
    with pytest.raises(ValueError, match="IL loss 'nll' does not apply to Discrete actions"):
        imitation_objective(demos, "categorical", "nll")


# --------------------------------------------------------------------------- the surface
@pytest.mark.parametrize("kind", ["filter", "weights", "gradients"])
@pytest.mark.parametrize("method", ["mlp", "vmap"])
def test_batched_surface_equals_the_loop(actor, demos, kind, method):
    config = LandscapeConfig(directions=kind, seed=1)
    objectives = [
        imitation_objective(demos, actor.kind, "ce"),
        reinforce_objective(demos, 0.9, "mean", name="rl"),
        replace(imitation_objective(demos, actor.kind, "mse"), name="il_mse"),
    ]
    directions = make_directions(actor, config, actor_gradients(actor, demos, objectives[:2]))
    alphas, betas = grid_axes(5, 0.8), np.array([-1.0, -0.3, 0.0, 0.4])  # a non-square grid
    batched = evaluate_surfaces(
        actor, demos, objectives, directions, alphas, betas, method=method, chunk_size=3, block_size=50
    )
    loop = evaluate_surfaces_loop(actor, demos, objectives, directions, alphas, betas)
    assert batched.method == method and batched.values["il"].shape == (4, 5)
    for name in ("il", "rl", "il_mse"):
        np.testing.assert_allclose(batched.values[name], loop.values[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("workers", [2, 3])
def test_tiles_in_parallel_give_the_same_surfaces_and_leave_torch_threads_alone(actor, demos, workers):
    objectives = [imitation_objective(demos, actor.kind, "ce"), reinforce_objective(demos, 0.9, "mean", name="rl")]
    directions = make_directions(actor, LandscapeConfig(directions="filter", seed=2))
    axis = grid_axes(7, 1.0)

    def thread_counts():  # this thread's, and a new thread's (torch keeps a process-wide count for new threads)
        seen = []
        new = threading.Thread(target=lambda: seen.append(th.get_num_threads()))
        new.start()
        new.join()
        return th.get_num_threads(), seen[0]

    original = th.get_num_threads()
    th.set_num_threads(2)  # the workers set one thread each: the count must come back, on any machine
    try:
        threads = thread_counts()
        assert threads == (2, 2)
        alone = evaluate_surfaces(
            actor, demos, objectives, directions, axis, axis, chunk_size=4, block_size=40, workers=1
        )
        shared = evaluate_surfaces(
            actor, demos, objectives, directions, axis, axis, chunk_size=4, block_size=40, workers=workers
        )
        assert (alone.info["workers"], shared.info["workers"]) == (1, workers)
        for name in ("il", "rl"):  # each point's sums are added in the same order: equal to the bit
            np.testing.assert_array_equal(shared.values[name], alone.values[name])
        assert thread_counts() == threads
        # by default: as many workers as torch threads on the filter slice, one on the weights slice
        tiles = {"chunk_size": 4, "block_size": 40}
        assert evaluate_surfaces(actor, demos, objectives, directions, axis, axis, **tiles).info["workers"] == 2
        weights = make_directions(actor, LandscapeConfig(directions="weights", seed=2))
        assert evaluate_surfaces(actor, demos, objectives, weights, axis, axis, **tiles).info["workers"] == 1
    finally:
        th.set_num_threads(original)


def test_origin_is_the_unperturbed_policy(actor, demos, flappy_policy):
    config = LandscapeConfig(directions="filter", grid=5)
    landscape = compute_landscape(actor, demos, config)
    obs, acts = actor.observations(demos.obs), actor.actions(demos.acts)
    with th.no_grad():
        _, log_prob, _ = flappy_policy.evaluate_actions(obs, acts)  # SB3's own log-likelihood
    w = th.as_tensor(reinforce_weights(demos, 0.99), dtype=th.float32)
    assert landscape.il[2, 2] == pytest.approx(float(-log_prob.mean()), rel=1e-6)
    assert landscape.rl[2, 2] == pytest.approx(float(-(w * log_prob).mean()), rel=1e-5)


def test_box_actions_gaussian_policy():
    env_id = "Pendulum-v1"
    actor = PolicyActor(fresh_policy(gym.make(env_id), "ppo", seed=0))
    assert actor.kind == "gaussian" and "log_std" in actor.names
    demos = make_demos(env_id, episodes=2, length=30)
    objectives = [
        imitation_objective(demos, "gaussian"),
        reinforce_objective(demos),
        replace(imitation_objective(demos, "gaussian", "mse"), name="mse"),
    ]
    grads = actor_gradients(actor, demos, objectives[:2])
    directions = gradient_directions(actor, grads["il"], grads["rl"])  # dense: log_std moves too
    assert "log_std" in directions.perturbed()
    axis = grid_axes(3, 0.5)
    batched = evaluate_surfaces(actor, demos, objectives, directions, axis, axis)
    loop = evaluate_surfaces_loop(actor, demos, objectives, directions, axis, axis)
    for name in ("il", "rl", "mse"):
        np.testing.assert_allclose(batched.values[name], loop.values[name], rtol=1e-5, atol=1e-5)
    obs, acts = actor.observations(demos.obs), actor.actions(demos.acts)
    with th.no_grad():
        _, log_prob, _ = actor.policy.evaluate_actions(obs, acts)
    assert batched.values["il"][1, 1] == pytest.approx(float(-log_prob.mean()), rel=1e-5)


def test_other_activations_take_the_vmap_path(demos):
    env = gym.make(FLAPPY)
    policy = PPO("MlpPolicy", env, policy_kwargs={"activation_fn": th.nn.ELU}, seed=0, device="cpu").policy
    actor = PolicyActor(policy)
    assert actor.mlp_layers() is None
    landscape = compute_landscape(actor, demos, LandscapeConfig(grid=3))
    assert landscape.surfaces.method == "vmap"
    loop = evaluate_surfaces_loop(
        actor, demos, [imitation_objective(demos, "categorical")], landscape.directions, *[grid_axes(3, 1)] * 2
    )
    np.testing.assert_allclose(landscape.il, loop.values["il"], rtol=1e-5)


# --------------------------------------------------------------------------- metrics
def test_agreement_metrics():
    axis = grid_axes(21, 1.0)
    a, b = np.meshgrid(axis, axis)
    bowl = (a - 0.5) ** 2 + (b + 0.2) ** 2
    m = agreement(bowl, -bowl, axis, axis, th.tensor([1.0, 0.0]), th.tensor([-2.0, 0.0]))
    assert m["pearson"] == pytest.approx(-1) and m["spearman"] == pytest.approx(-1)
    assert m["il_argmin"] == pytest.approx([0.5, -0.2]) and m["gradient_cosine"] == pytest.approx(-1)
    assert m["rl_argmin"] == pytest.approx([-1.0, 1.0])  # -bowl is lowest at the corner farthest from (0.5, -0.2)
    assert m["minima_distance"] == pytest.approx(np.hypot(-1.0 - 0.5, 1.0 + 0.2))
    shifted = agreement(bowl, (a + 0.5) ** 2 + (b + 0.2) ** 2, axis, axis)
    assert shifted["minima_distance"] == pytest.approx(1.0) and shifted["gradient_cosine"] is None
    flat = agreement(bowl, np.zeros_like(bowl), axis, axis)
    assert flat["pearson"] is None and flat["spearman"] is None  # undefined, not NaN


# --------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def demo_folders(tmp_path_factory):
    from sb3_behave.demos import record_demonstrations

    root = tmp_path_factory.mktemp("demos")
    kwargs = {"reward_mode": "score"}
    record_demonstrations(FLAPPY, root / "poor", 2, skill="poor", env_kwargs=kwargs, progress_bar=False)
    record_demonstrations(
        FLAPPY, root / "strong", 1, skill="strong", env_kwargs=kwargs, max_episode_steps=150, progress_bar=False
    )
    return root


def read_tensorboard(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = list(Path(folder).rglob("events.out.tfevents.*"))
    assert files, f"no event file under {folder}"
    tags = {"scalars": set(), "images": set()}
    for file in files:
        events = EventAccumulator(str(file), size_guidance={"images": 0, "scalars": 0})
        events.Reload()
        tags["scalars"] |= set(events.Tags()["scalars"])
        tags["images"] |= set(events.Tags()["images"])
    return tags


def tensorboard_scalars(folder):
    """``{tag: {step: value}}`` of every scalar in the event files under ``folder``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars = {}
    for file in Path(folder).rglob("events.out.tfevents.*"):
        events = EventAccumulator(str(file), size_guidance={"scalars": 0})
        events.Reload()
        for tag in events.Tags()["scalars"]:
            scalars.setdefault(tag, {}).update({e.step: e.value for e in events.Scalars(tag)})
    return scalars


def test_command_writes_figures_json_and_tensorboard(demo_folders, tmp_path, capsys):
    out = tmp_path / "report"
    argv = [
        "landscape",
        "--env-kwargs",
        "reward_mode=score",
        "--demos",
        str(demo_folders / "poor"),
        str(demo_folders / "strong"),
    ]
    assert main([*argv, "--directions", "weights", "--grid", "7", "--span", "2", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for line in (
        f"figure: {out / 'poor.png'}",
        f"grids and metrics: {out / 'landscape.json'}",
        f"TensorBoard: {out / 'tensorboard'}",
    ):
        assert line in printed
    assert (out / "poor.png").stat().st_size > 10_000 and (out / "strong.png").exists()
    data = json.loads((out / "landscape.json").read_text())
    assert data["env_kwargs"] == {"reward_mode": "score"} and data["config"]["directions"] == "weights"
    assert len(data["axes"]["alpha"]) == 7 and data["axes"]["alpha"][0] == -2.0
    poor, strong = data["sets"]["poor"], data["sets"]["strong"]
    assert np.array(poor["il"]).shape == (7, 7) and poor["demonstrations"]["transitions"] == 200
    assert poor["metrics"]["pearson"] < -0.5 < 0.5 < strong["metrics"]["pearson"]  # the founding experiment, in small
    assert set(poor["metrics"]) == {"pearson", "spearman", "il_argmin", "rl_argmin", "minima_distance", "gradient_cosine"}
    # Score-only rewards: the poor player only crashes, the strong one only scores: each set's weights share a sign
    assert poor["note"].startswith("every RL weight is negative") and strong["note"].startswith("every RL weight is positive")
    assert f"  note: {poor['note']}" in printed and f"  note: {strong['note']}" in printed
    tags = read_tensorboard(out / "tensorboard")
    assert {"landscape/poor", "landscape/strong"} <= tags["images"]
    scalars = tensorboard_scalars(out / "tensorboard")  # the JSON's metrics, as float32, at step 0
    for name in ("poor", "strong"):
        for key in ("pearson", "spearman", "minima_distance", "gradient_cosine"):
            expected = data["sets"][name]["metrics"][key]
            assert scalars[f"landscape/{name}/{key}"] == {0: pytest.approx(expected, rel=1e-6)}, (name, key)


def test_the_landscape_says_what_weights_of_one_sign_mean():
    from sb3_behave.landscape.objectives import weights_note
    from sb3_behave.landscape.plot import plot_landscape

    assert weights_note(np.array([0.5, -0.2, 0.0])) is None  # mixed: RL contrasts steps, nothing to explain
    assert "is 0" in weights_note(np.zeros(4)) and "--baseline none or mean" in weights_note(np.zeros(4))
    positive = weights_note(np.array([0.3, 0.0, 1.0]))
    assert "positive" in positive and "reward_mode=score" in positive and "--baseline mean" in positive
    assert "upside down" in weights_note(-np.ones(3))
    axis = np.linspace(-1, 1, 3)
    surface = np.arange(9.0).reshape(3, 3)
    figure = plot_landscape(axis, axis, surface, surface, "set", note=positive)
    assert "Note: every RL weight is positive" in figure._suptitle.get_text()
    assert "Note" not in plot_landscape(axis, axis, surface, surface, "set")._suptitle.get_text()


def test_command_errors_name_the_culprit(demo_folders, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["landscape", "--demos", str(missing), "--out", str(tmp_path / "o")]) == 2
    assert f"error: {missing}: no such file or folder" in capsys.readouterr().err
    # recorded with reward_mode=score, made without it: the rewards would not be the env's
    assert main(["landscape", "--demos", str(demo_folders / "poor"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "differing: reward_mode" in err and "--env-kwargs KEY=VALUE" in err
    base = [
        "landscape",
        "--env-kwargs",
        "reward_mode=score",
        "--demos",
        str(demo_folders / "poor"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main([*base, "--directions", "weights", "--weights", "action_net.weight[0,0]", "critic[0]"]) == 2
    assert "'critic' is not an actor parameter" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse's bound: one line naming the flag
        main([*base, "--grid", "1"])
    assert exit_info.value.code == 2 and "--grid: expected a whole number from 2 to 401, got 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--directions", "sideways"])
    assert exit_info.value.code == 2
    assert "--directions: invalid choice: 'sideways'" in capsys.readouterr().err


def test_command_loads_a_saved_model(demo_folders, tmp_path):
    from sb3_behave.landscape.report import landscape_report

    env_kwargs = {"reward_mode": "score"}
    model = PPO("MlpPolicy", gym.make(FLAPPY, **env_kwargs), seed=4, device="cpu")
    with th.no_grad():
        model.policy.action_net.weight.mul_(5.0)  # weights that a fresh init of the same seed does not have
    model.save(tmp_path / "model.zip")
    config = LandscapeConfig(directions="filter", grid=3, seed=4)
    kwargs = {"env_kwargs": env_kwargs, "tensorboard": False, "progress": False, "log": lambda line: None}
    saved = landscape_report(
        FLAPPY, [demo_folders / "poor"], tmp_path / "a", config, policy=str(tmp_path / "model.zip"), **kwargs
    )
    fresh = landscape_report(FLAPPY, [demo_folders / "poor"], tmp_path / "b", config, policy="fresh", **kwargs)
    assert saved["policy"].startswith("PPO model") and fresh["policy"] == "fresh PPO MlpPolicy (seed 4)"
    il = np.asarray(saved["sets"]["poor"]["il"])
    assert not np.allclose(il, np.asarray(fresh["sets"]["poor"]["il"]), rtol=1e-3)
    # The grid's centre is the saved policy itself: its cross-entropy on the demonstrations, computed directly.
    trajectories = load_demonstrations(demo_folders / "poor", env=gym.make(FLAPPY, **env_kwargs))
    obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in trajectories]))
    acts = th.as_tensor(np.concatenate([t.acts for t in trajectories]))
    with th.no_grad():
        _, log_prob, _ = model.policy.evaluate_actions(obs, acts)
    assert il[1, 1] == pytest.approx(-log_prob.mean().item(), rel=1e-5)


def test_bench_landscape_prints_its_table(tmp_path, capsys):
    table = tmp_path / "bench.md"
    argv = ["bench", "landscape", "--grid", "5", "--transitions", "300", "--loop-points", "4", "--repeats", "1"]
    assert main([*argv, "--vmap-grid", "3", "--markdown-out", str(table)]) == 0
    out = capsys.readouterr().out
    assert "| filter | batched: MLP path (default) | 25 of 25 |" in out
    assert "| weights | loop: load_state_dict + evaluate_actions (SB3's call) | 4 of 25 (extrapolated) |" in out
    assert "(goal < 10 s: " in out  # met or missed: timings are benchmarks' business, not a test's
    assert table.read_text().startswith("Machine:")


# --------------------------------------------------------------------------- the callback
def sb3_gradient_cosine(policy, trajectory, gamma):
    """Cosine of the IL (cross-entropy) and REINFORCE gradients over the actor, from SB3's own log-likelihood."""
    returns, to_go = np.zeros(len(trajectory.rews)), 0.0
    for t in reversed(range(len(trajectory.rews))):
        to_go = trajectory.rews[t] + gamma * to_go
        returns[t] = to_go
    obs = th.as_tensor(trajectory.obs[:-1], dtype=th.float32)
    _, log_prob, _ = policy.evaluate_actions(obs, th.as_tensor(trajectory.acts))
    params = [p for name, p in policy.named_parameters() if "value" not in name]  # the actor: no critic
    il = th.cat([g.flatten() for g in th.autograd.grad(-log_prob.mean(), params, retain_graph=True)])
    rl_loss = -(th.as_tensor(returns, dtype=th.float32) * log_prob).mean()
    rl = th.cat([g.flatten() for g in th.autograd.grad(rl_loss, params)])
    return float(il @ rl / (il.norm() * rl.norm()))


def test_landscape_callback_logs_to_tensorboard(tmp_path):
    from sb3_behave.callbacks import LandscapeCallback

    env = gym.make(FLAPPY)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu", tensorboard_log=str(tmp_path))
    trajectories = make_trajectories(episodes=1, length=30)
    weights = []  # the policy's weights at each snapshot

    class Recording(LandscapeCallback):
        def snapshot(self):
            weights.append({k: v.detach().clone() for k, v in self.model.policy.state_dict().items()})
            return super().snapshot()

    callback = Recording({"random": trajectories}, every_n_steps=64, grid=5, directions="filter")
    model.learn(128, callback=callback)
    assert [h["timesteps"] for h in callback.history] == [0, 64, 128]
    assert any(not th.equal(weights[1][k], weights[2][k]) for k in weights[1])  # PPO trained between 64 and 128
    assert "landscape/random/figure" in read_tensorboard(tmp_path)["images"]
    scalars = tensorboard_scalars(tmp_path)
    keys = ("pearson", "spearman", "minima_distance", "gradient_cosine")
    # PPO writes its records once per rollout: the snapshot of step 0 is overwritten by that of step 64.
    assert all(set(scalars[f"landscape/random/{key}"]) == {64, 128} for key in keys)
    # The logged values are those of the policy as it was at each snapshot, computed here directly.
    policy = fresh_policy(gym.make(FLAPPY), "ppo", seed=1)
    demos = DemoSet.from_trajectories("random", trajectories)
    logged = []
    for state, step in ((weights[1], 64), (weights[2], 128)):
        policy.load_state_dict(state)
        expected = compute_landscape(PolicyActor(policy), demos, LandscapeConfig(directions="filter", grid=5)).metrics
        values = {key: scalars[f"landscape/random/{key}"][step] for key in keys}
        assert values == pytest.approx({key: expected[key] for key in keys}, rel=1e-6)  # float32 in the event file
        assert values["gradient_cosine"] == pytest.approx(sb3_gradient_cosine(policy, trajectories[0], 0.99), rel=1e-4)
        logged.append(values)
    assert logged[0]["pearson"] != logged[1]["pearson"]  # each snapshot is of the current weights
    with pytest.raises(ValueError, match="--directions 'spiral'"):
        LandscapeCallback(trajectories, directions="spiral")


# --------------------------------------------------------------------------- examples and the experiment
def run_script(path, *args, cwd):
    return subprocess.run([sys.executable, str(path), *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_landscape_from_demos_example(tmp_path):
    out = run_script(
        ROOT / "examples" / "landscape_from_demos.py",
        "--out",
        "l",
        "--episodes",
        "1",
        "--max-episode-steps",
        "300",
        "--grid",
        "5",
        cwd=tmp_path,
    )
    assert "poor: 100 transitions, mean return -1.0: Pearson -" in out
    assert "strong: 300 transitions, mean return +6.0: Pearson +" in out
    assert (tmp_path / "l" / "poor.png").exists() and (tmp_path / "l" / "strong.png").exists()


def test_landscape_during_training_example(tmp_path):
    args = ("--timesteps", "512", "--every", "256", "--grid", "3", "--n-envs", "2", "--demos", "d")
    out = run_script(ROOT / "examples" / "landscape_during_training.py", *args, cwd=tmp_path)
    assert "     256 steps: Pearson" in out
    # The callback's records, not just PPO's own: one rollout of 2 x 256 steps, so PPO writes once, at
    # step 512, the snapshot taken then (the one printed last).
    tensorboard = tmp_path / "runs" / "tensorboard"
    scalars = tensorboard_scalars(tensorboard)
    for key in ("pearson", "spearman", "minima_distance", "gradient_cosine"):
        assert set(scalars[f"landscape/strong/{key}"]) == {512}
    pearson, cosine = scalars["landscape/strong/pearson"][512], scalars["landscape/strong/gradient_cosine"][512]
    assert f"     512 steps: Pearson {pearson:+.2f}, gradient cosine {cosine:+.2f}" in out
    assert "landscape/strong/figure" in read_tensorboard(tensorboard)["images"]


def test_landscape_experiment_script(tmp_path):
    args = [
        "--out",
        "report",
        "--demos",
        "demos",
        "--inits",
        "2",
        "--grid",
        "5",
        "--directions",
        "weights",
        "--figures",
        "weights:3",
    ]
    out = run_script(
        ROOT / "benchmarks" / "landscape_experiment.py",
        *args,
        "--poor-episodes",
        "2",
        "--strong-episodes",
        "1",
        "--max-episode-steps",
        "300",
        cwd=tmp_path,
    )
    assert "## Headline: score-only rewards, gamma 0.99, no baseline" in out
    assert "| weights | poor |" in out and "Pearson at most -0.5 | yes |" in out
    assert "its correlations are those of the mean baseline" in out
    written = {p.name for p in (tmp_path / "report").iterdir()}
    assert written == {
        "results.md",
        "results.json",
        "poor_score_weights.png",
        "strong_score_weights.png",
        "poor_alive_weights.png",
    }
