"""DART noise when recording: the env executes a perturbed action, the episode records the expert's."""

import gymnasium as gym
import numpy as np
import pytest

from sb3_behave.cli import main
from sb3_behave.demos import (
    DemonstrationError,
    RecordDemonstrations,
    load_demonstrations,
    load_episodes,
    play_episodes,
    read_episode,
    record_demonstrations,
    summarize,
)
from sb3_behave.demos.record import DartNoise
from sb3_behave.demos.storage import write_episode
from sb3_behave.envs import FlappyBirdExpert

ENV_ID = "sb3_behave/FlappyBird-v0"


def pendulum_controller(obs):
    """A simple scripted Pendulum controller, shaped as the action space."""
    return np.clip(np.array([-2.0 * obs[1] - 0.5 * obs[2]]), -2.0, 2.0)


def arrays(files):
    return [(t.obs, t.acts, t.rews, t.terminal) for t in load_demonstrations(files)]


def assert_same_episodes(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


def test_flappy_records_the_experts_action_on_a_perturbed_run(tmp_path, capsys):
    kwargs = {"max_episode_steps": 300, "progress_bar": False, "seed": 3}
    files = record_demonstrations(ENV_ID, tmp_path / "dart", 4, dart=0.2, **kwargs)
    clean = record_demonstrations(ENV_ID, tmp_path / "clean", 4, **kwargs)
    expert = FlappyBirdExpert.from_style("steady")  # the expert "scripted" names
    episodes = load_episodes(files, env=ENV_ID)
    for episode in episodes:
        traj = episode.trajectory
        # every label is what the expert does in the recorded state (features obs)
        np.testing.assert_array_equal(traj.acts, expert.act(traj.obs[:-1]))
        assert episode.metadata["dart"]["sigma"] == 0.2
        assert episode.metadata["dart"]["perturbed_steps"] == round(episode.metadata["dart"]["perturbed_fraction"] * len(traj))
        assert episode.metadata["player"] == "scripted-expert (dart=0.2)"
    # the noise-free recording of the same seeds plays other games: the perturbation was executed
    for (obs, *_), (clean_obs, *_) in zip(arrays(files), arrays(clean)):
        assert obs.shape != clean_obs.shape or not np.array_equal(obs, clean_obs)
    # about SIGMA of the steps executed a random other action
    summary = summarize(episodes)
    assert summary["dart"]["sigmas"] == [0.2] and summary["dart"]["episodes"] == 4
    assert summary["transitions"] >= 200 and abs(summary["dart"]["perturbed_fraction"] - 0.2) < 0.07
    # the same seed gives the same episodes
    again = record_demonstrations(ENV_ID, tmp_path / "again", 4, dart=0.2, **kwargs)
    assert_same_episodes(arrays(files), arrays(again))
    # demos info shows it, and nothing for episodes recorded without it
    assert main(["demos", "info", str(tmp_path / "dart")]) == 0
    share = 100 * summary["dart"]["perturbed_fraction"]
    assert f"DART noise   sigma 0.2, {share:.1f}% of steps perturbed" in capsys.readouterr().out
    assert main(["demos", "info", str(tmp_path / "clean")]) == 0
    out = capsys.readouterr().out
    assert "DART" not in out and "episodes     4" in out
    assert summarize(load_episodes(clean))["dart"] is None and "dart" not in read_episode(clean[0]).metadata


def test_pendulum_records_the_controllers_action_on_a_perturbed_run(tmp_path):
    env = RecordDemonstrations(gym.make("Pendulum-v1", max_episode_steps=60), tmp_path / "p", player="controller")
    played = play_episodes(env, pendulum_controller, 2, seed=11, dart=0.5)
    env.close()
    assert len(env.saved) == 2
    episodes = load_episodes(env.saved, env="Pendulum-v1")
    clean = play_episodes(gym.make("Pendulum-v1", max_episode_steps=60), pendulum_controller, 2, seed=11)
    for episode, kept, reference in zip(episodes, played, clean):
        traj = episode.trajectory
        # play_episodes keeps what the recorder writes: the labels, on the perturbed run
        np.testing.assert_array_equal(traj.obs, kept.obs)
        np.testing.assert_array_equal(traj.acts, kept.acts)
        np.testing.assert_allclose(traj.acts, np.stack([pendulum_controller(o) for o in traj.obs[:-1]]))
        assert traj.obs[0].tolist() == reference.obs[0].tolist()  # same seed, same start
        assert np.abs(traj.obs - reference.obs).max() > 0.05  # ... but the executed actions were perturbed
        dart = episode.metadata["dart"]
        # Gaussian noise changes every step, except where both the label and its noise hit the same bound
        assert dart["sigma"] == 0.5 and dart["perturbed_steps"] >= 0.8 * len(traj)
    # the same seed gives the same episodes
    again = play_episodes(gym.make("Pendulum-v1", max_episode_steps=60), pendulum_controller, 2, seed=11, dart=0.5)
    assert_same_episodes([(t.obs, t.acts, t.rews) for t in played], [(t.obs, t.acts, t.rews) for t in again])
    other = play_episodes(gym.make("Pendulum-v1", max_episode_steps=60), pendulum_controller, 1, seed=12, dart=0.5)
    assert not np.array_equal(other[0].obs, played[0].obs)


def test_dart_noise():
    box = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    noise = DartNoise(box, 0.1, seed=0)
    steps = np.stack([noise(np.zeros(3)) for _ in range(2_000)])
    assert steps.dtype == np.float32 and abs(steps.std() - 0.1) < 0.01 and abs(steps.mean()) < 0.01
    edge = np.stack([DartNoise(box, 5.0)(np.ones(3)) for _ in range(100)])
    assert edge.min() >= -1 and edge.max() <= 1  # clipped to the action space
    discrete = DartNoise(gym.spaces.Discrete(3, start=1), 0.5, seed=1)
    taken = np.array([discrete(2) for _ in range(3_000)])
    changed = taken[taken != 2]
    assert abs(len(changed) / len(taken) - 0.5) < 0.04  # a random OTHER action with probability SIGMA
    assert set(changed.tolist()) == {1, 3} and abs(np.mean(changed == 1) - 0.5) < 0.05
    assert all(DartNoise(gym.spaces.Discrete(2), 1.0)(0) == 1 for _ in range(10))
    assert DartNoise(box, 0.0)(np.full(3, 0.3)).tolist() == np.full(3, 0.3).tolist()
    with pytest.raises(ValueError, match="--dart"):
        DartNoise(gym.spaces.MultiBinary(2), 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        play_episodes(gym.make("Pendulum-v1"), pendulum_controller, 1, epsilon=0.1, dart=0.1)


@pytest.mark.parametrize(
    "argv",
    [
        ["--dart", "-0.1"],
        ["--dart", "nan"],
        ["--dart", "1.5"],  # Discrete: a probability
        ["--dart", "0.1", "--expert", "random"],
        ["--dart", "0.1", "--skill", "poor"],  # random play
        ["--dart", "0.1", "--skill", "medium"],  # epsilon 0.02
        ["--dart", "0.1", "--epsilon", "0.1"],
        ["--dart", "0.1", "--env", "Pendulum-v1", "--expert", "random"],
    ],
)
def test_bad_dart_is_one_line(tmp_path, capsys, argv):
    out = tmp_path / "out"
    try:
        status = main(["record-demos", *argv, "--episodes", "1", "--out", str(out)])
    except SystemExit as exit_:  # argparse refuses what its type refuses
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert "--dart" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_record_demos_dart_command_and_metadata_checks(tmp_path, capsys):
    argv = ["record-demos", "--skill", "strong", "--dart", "0.1", "--episodes", "2", "--max-episode-steps", "150"]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 0
    assert "DART noise   sigma 0.1," in capsys.readouterr().out
    episode = load_episodes(tmp_path / "s")[0]
    assert episode.metadata["skill"] == "strong" and episode.metadata["dart"]["sigma"] == 0.1
    bad = dict(episode.metadata, dart={"sigma": -1, "perturbed_steps": 3, "perturbed_fraction": 0.1})
    path = write_episode(tmp_path / "bad", episode.trajectory, bad)
    with pytest.raises(DemonstrationError, match="'dart'"):
        read_episode(path)
