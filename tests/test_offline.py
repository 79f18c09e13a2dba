"""Offline RL (sb3_behave.offline): d3rlpy's learners behind SB3 algorithms, trained from demonstrations with rewards.

Each run here is a few dozen gradient steps on a few hundred recorded transitions: the tests check
that the networks d3rlpy trains are the SB3 policy that acts, saves and reloads (as data), that
the zoo trains it from YAML with TensorBoard scalars, and that bad inputs are one line. Whether
it learns is measured in benchmarks/paradigms.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from imitation.data.types import Trajectory

from sb3_behave.agents import load_agent_from_path
from sb3_behave.cli import main
from sb3_behave.demos import record_demonstrations
from sb3_behave.offline import CQL, IQL, transitions

# Not imported here: sb3_behave.offline imports d3rlpy itself, quieting its logs.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("d3rlpy") is None, reason="the offline extra is not installed")

FLAPPY = "sb3_behave/FlappyBird-v0"


@pytest.fixture(scope="module")
def flappy_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline") / "medium"
    record_demonstrations(FLAPPY, folder, 3, skill="medium", max_episode_steps=300, progress_bar=False, seed=100)
    return folder


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline") / "pendulum"
    record_demonstrations("Pendulum-v1", folder, 2, expert="random", max_episode_steps=60, progress_bar=False)
    return folder


def _weights(model) -> list[th.Tensor]:
    return [p.detach().clone() for p in model.policy.parameters()]


def _observations(space: gym.spaces.Box, n: int = 32) -> np.ndarray:
    low, high = np.maximum(space.low, -1.0), np.minimum(space.high, 1.0)
    return np.random.default_rng(0).uniform(low, high, (n, *space.shape)).astype(np.float32)


def test_the_transitions_end_as_the_episodes_did(flappy_demos):
    from sb3_behave.demos import load_demonstrations

    trajectories = load_demonstrations(flappy_demos)
    dataset = transitions(trajectories, "cql")
    cut = sum(not t.terminal for t in trajectories)  # no next observation after a time limit's last step
    assert dataset.transition_count == sum(len(t.acts) for t in trajectories) - cut
    ends = [episode.terminated for episode in dataset.episodes]
    assert ends == [bool(t.terminal) for t in trajectories]
    first = dataset.episodes[0]
    np.testing.assert_array_equal(first.observations, trajectories[0].obs[:-1])
    np.testing.assert_array_equal(first.rewards.ravel(), trajectories[0].rews)


def test_discrete_cql_trains_the_policy_that_acts_and_reloads_as_data(flappy_demos, tmp_path):
    env = gym.make(FLAPPY)
    model = CQL("MlpPolicy", env, demonstrations=flappy_demos, batch_size=32, policy_kwargs={"net_arch": [32, 32]}, seed=0)
    before = _weights(model)
    model.learn(40)
    after = _weights(model)
    assert all(not th.equal(a, b) for a, b in zip(before, after)), "a Q-network layer did not change"
    obs = _observations(env.observation_space)
    actions = model.predict(obs, deterministic=True)[0]
    np.testing.assert_array_equal(actions, model._learner.predict(obs))  # the SB3 policy is d3rlpy's Q-network
    q_values = model.policy.q_net(th.as_tensor(obs)).detach().numpy()
    for action in (0, 1):
        np.testing.assert_allclose(
            q_values[:, action], model._learner.predict_value(obs, np.full(len(obs), action)), rtol=1e-5
        )
    model.save(tmp_path / "cql.zip")
    loaded, _ = load_agent_from_path(tmp_path / "cql.zip", env, algo="cql")
    assert type(loaded) is CQL
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    loaded.set_env(env)
    loaded.demonstrations = flappy_demos
    loaded.learn(5)  # training a loaded model starts d3rlpy from the saved networks
    assert not np.allclose(_weights(loaded)[0], after[0])


def test_the_demonstrations_are_read_once_across_learn_calls(flappy_demos, monkeypatch):
    import sb3_behave.demos

    reads = []
    original = sb3_behave.demos.load_demonstrations
    monkeypatch.setattr(sb3_behave.demos, "load_demonstrations", lambda *a, **k: reads.append(a[0]) or original(*a, **k))
    model = CQL("MlpPolicy", gym.make(FLAPPY), demonstrations=flappy_demos, batch_size=32, policy_kwargs={"net_arch": [32]})
    for _ in range(3):
        model.learn(2, reset_num_timesteps=False)
    assert reads == [flappy_demos] and model.num_timesteps == 6
    model.demonstrations = [flappy_demos]  # other demonstrations: read again
    model.learn(2)
    assert reads == [flappy_demos, [flappy_demos]]


@pytest.mark.parametrize("algorithm", [CQL, IQL])
def test_box_actions_train_an_sac_actor_that_acts_as_d3rlpy(algorithm, pendulum_demos, tmp_path):
    env = gym.make("Pendulum-v1")
    model = algorithm(
        "MlpPolicy", env, demonstrations=pendulum_demos, batch_size=16, policy_kwargs={"net_arch": [16, 16]}, seed=0
    )
    before = _weights(model)
    model.learn(6)
    changed = sum(not th.equal(a, b) for a, b in zip(before, _weights(model)))
    assert changed >= len(before) // 2
    obs = _observations(env.observation_space)
    actions = model.predict(obs, deterministic=True)[0]
    assert actions.shape == (len(obs), 1) and np.all(np.abs(actions) <= 2.0)
    np.testing.assert_allclose(actions, model._learner.predict(obs), atol=1e-5)
    model.save(tmp_path / "model.zip")
    loaded, _ = load_agent_from_path(tmp_path / "model.zip", env, algo=algorithm.algo_name)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], actions, atol=1e-6)


def test_the_zoo_trains_cql_from_yaml_with_tensorboard_scalars(flappy_demos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("cql.yml").write_text(
        f"{FLAPPY}:\n  n_timesteps: 30\n  policy: MlpPolicy\n  demonstrations: {flappy_demos}\n"
        "  batch_size: 32\n  policy_kwargs: {net_arch: [32, 32]}\n"
    )
    status = main(
        ["train", "--algo", "cql", "--env", FLAPPY, "-conf", "cql.yml", "-tb", "runs", "--seed", "0", "--eval-freq", "-1"]
    )
    assert status == 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(next(Path("runs").rglob("events.out.tfevents.*")).parent))
    events.Reload()
    assert {"offline/loss", "offline/td_loss", "offline/conservative_loss"} <= set(events.Tags()["scalars"])
    model, _ = load_agent_from_path(Path("logs/cql") / f"{FLAPPY.replace('/', '-')}_1", gym.make(FLAPPY))
    assert type(model) is CQL and model.num_timesteps == 30


def test_demonstrations_without_rewards_are_one_line(tmp_path):
    env = gym.make(FLAPPY)
    obs = np.zeros((4, 12), dtype=np.float32)
    no_rewards = [Trajectory(obs=obs, acts=np.zeros(3, dtype=np.int64), infos=None, terminal=True)]
    model = CQL("MlpPolicy", env, demonstrations=no_rewards)
    with pytest.raises(ValueError, match="episode 0 of the demonstrations has no rewards"):
        model.learn(1)


def test_wrong_action_spaces_and_d3rlpy_fields_are_one_line(flappy_demos):
    with pytest.raises(ValueError, match=r"iql: .*Box actions \(cql takes Discrete actions\)"):
        IQL("MlpPolicy", gym.make(FLAPPY), demonstrations=flappy_demos)
    model = CQL("MlpPolicy", gym.make(FLAPPY), demonstrations=flappy_demos, d3rlpy_kwargs={"n_critic": 2})
    with pytest.raises(ValueError, match=r"'n_critic' is not a field of d3rlpy's DiscreteCQLConfig .*n_critics"):
        model.learn(1)
    with pytest.raises(ValueError, match="vector observations"):
        CQL("MlpPolicy", gym.make(FLAPPY, obs_type="rgb"))


def test_a_misspelt_key_of_a_cql_config_is_refused_before_the_run_folder(flappy_demos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("cql.yml").write_text(
        f"{FLAPPY}:\n  n_timesteps: 30\n  policy: MlpPolicy\n  demonstrations: {flappy_demos}\n  expectile: 0.9\n"
    )
    assert main(["train", "--algo", "cql", "--env", FLAPPY, "-conf", "cql.yml"]) == 2
    assert "unknown hyperparameter 'expectile' for cql" in capsys.readouterr().err
    assert not Path("logs").exists()


def test_without_d3rlpy_the_command_says_how_to_install_it(tmp_path):
    (tmp_path / "cql.yml").write_text(f"{FLAPPY}:\n  n_timesteps: 30\n  policy: MlpPolicy\n  demonstrations: demos\n")
    script = (
        "import sys\nsys.modules['d3rlpy'] = None\n"
        "from sb3_behave.cli import main\n"
        f"sys.exit(main(['train', '--algo', 'cql', '--env', '{FLAPPY}', '-conf', 'cql.yml']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cql (offline RL) needs d3rlpy" in lines[0] and "pip install --no-deps 'd3rlpy" in lines[0]
    assert not (tmp_path / "logs").exists()
