import json
import os
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from imitation.algorithms import bc
from imitation.data import serialize
from imitation.data.types import TrajectoryWithRew

from sb3_behave.cli import main
from sb3_behave.demos import (
    DemonstrationError,
    RecordDemonstrations,
    load_demonstrations,
    load_episodes,
    read_episode,
    record_demonstrations,
    save_demonstrations,
    summarize,
)
from sb3_behave.demos.storage import write_episode

ENV_ID = "sb3_behave/FlappyBird-v0"


@pytest.fixture(scope="module")
def strong(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "strong"
    record_demonstrations(ENV_ID, folder, 2, skill="strong", max_episode_steps=300, progress_bar=False)
    return folder


def snapshot(folder):
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_recorder_writes_each_episode_as_it_ends(tmp_path):
    env = RecordDemonstrations(gym.make(ENV_ID, max_episode_steps=50), tmp_path / "d", player="tester", skill="poor")
    env.reset(seed=4)
    for t in range(49):
        env.step(int(t % 7 == 0))
        assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())  # nothing before the end
    *_, terminated, truncated, info = env.step(0)
    assert truncated and len(env.saved) == 1
    episode = read_episode(env.saved[0])
    traj, meta = episode.trajectory, episode.metadata
    assert isinstance(traj, TrajectoryWithRew) and len(traj) == 50 and traj.obs.shape == (51, 12)
    assert traj.terminal is False  # a time limit is not a termination
    assert meta["env_id"] == ENV_ID and meta["seed"] == 4 and meta["player"] == "tester" and meta["skill"] == "poor"
    assert meta["length"] == 50 and meta["truncated"] and not meta["terminated"]
    assert meta["return"] == pytest.approx(float(traj.rews.sum()))
    assert {"timestamp", "sb3_behave_version", "env_kwargs", "score"} <= set(meta)
    # a crash is a real termination
    env.reset(seed=5)
    while True:
        *_, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            break
    assert terminated and read_episode(env.saved[1]).trajectory.terminal is True


def test_interrupted_episode_is_lost_unless_asked_for(tmp_path):
    env = RecordDemonstrations(gym.make(ENV_ID), tmp_path / "a")
    env.reset(seed=0)
    env.step(0)
    env.reset(seed=1)
    env.close()
    assert env.saved == []
    keep = RecordDemonstrations(gym.make(ENV_ID), tmp_path / "b", save_incomplete=True)
    keep.reset(seed=0)
    keep.step(0)
    keep.close()
    episode = read_episode(keep.saved[0])
    assert episode.metadata["interrupted"] and not episode.trajectory.terminal


def test_write_is_atomic(tmp_path, monkeypatch):
    traj = TrajectoryWithRew(
        obs=np.zeros((3, 12), np.float32), acts=np.zeros(2, np.int64), infos=None, terminal=True, rews=np.zeros(2, np.float32)
    )
    meta = {"format": "sb3-behave-episode", "env_id": ENV_ID}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the process is killed while the file is written

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        write_episode(tmp_path, traj, meta)
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind
    monkeypatch.undo()
    path = write_episode(tmp_path, traj, meta)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_skill_presets(tmp_path):
    scores = {}
    for skill in ("poor", "medium", "strong"):
        record_demonstrations(ENV_ID, tmp_path / skill, 6, skill=skill, max_episode_steps=2_000, progress_bar=False)
        summary = summarize(load_episodes(tmp_path / skill))
        scores[skill] = summary["score"]
        assert summary["skills"] == {skill: 6}
    assert scores["poor"]["max"] == 0  # dies at the first pipe
    assert 1 <= scores["medium"]["mean"] <= 15  # a handful
    assert scores["strong"]["min"] >= 50  # 2,000 frames: the expert flies to the time limit
    with pytest.raises(ValueError, match="epsilon"):
        record_demonstrations(ENV_ID, tmp_path / "x", 1, skill="strong", epsilon=0.5, progress_bar=False)


def test_play_episodes_gives_what_record_demonstrations_writes(tmp_path):
    from sb3_behave.agents import make_policy
    from sb3_behave.demos import play_episodes

    kwargs = {"max_episode_steps": 150}
    files = record_demonstrations(ENV_ID, tmp_path, 4, epsilon=0.05, seed=7, progress_bar=False, **kwargs)
    env = gym.make(ENV_ID, **kwargs)
    played = play_episodes(env, make_policy("scripted", env, seed=7)[0], 4, seed=7, epsilon=0.05)
    for trajectory, recorded in zip(played, load_demonstrations(files), strict=True):
        np.testing.assert_array_equal(trajectory.obs, recorded.obs)
        np.testing.assert_array_equal(trajectory.acts, recorded.acts)
        np.testing.assert_array_equal(trajectory.rews, recorded.rews)
        assert trajectory.terminal == recorded.terminal
    assert {bool(t.terminal) for t in played} == {True, False}  # random actions crash some games, not all


def replay(path):
    """Play a saved episode again from its metadata (env, kwargs, time limit, seed) and its actions.

    Returns how many steps matched the file: every observation (the final one included), reward
    and the way the episode ended must be what the env gives again.
    """
    episode = read_episode(path)
    traj, meta = episode.trajectory, episode.metadata
    env = gym.make(meta["env_id"], max_episode_steps=meta["max_episode_steps"], **meta["env_kwargs"])
    obs, _ = env.reset(seed=meta["seed"])
    np.testing.assert_array_equal(obs, traj.obs[0])
    terminated = truncated = False
    for t, action in enumerate(traj.acts):
        assert not (terminated or truncated), f"{path.name}: the env ended at step {t}, the file goes on"
        obs, reward, terminated, truncated, _ = env.step(action)
        np.testing.assert_array_equal(obs, traj.obs[t + 1], err_msg=f"{path.name}: observation {t + 1}")
        assert np.float32(reward) == traj.rews[t], (path.name, t)  # saved as float32
    assert terminated or truncated, f"{path.name}: the file ends before the episode did"
    assert (terminated, truncated) == (traj.terminal, meta["truncated"])
    assert meta["length"] == len(traj.acts) and meta["return"] == pytest.approx(float(traj.rews.sum()))
    return len(traj.acts)


@pytest.mark.parametrize(
    "env_id, kwargs",
    [(ENV_ID, {}), (ENV_ID, {"obs_type": "lidar", "reward_mode": "score"}), ("CartPole-v1", {})],
)
def test_every_recorded_file_replays_from_its_seed_and_actions(env_id, kwargs, tmp_path):
    expert = "scripted" if env_id == ENV_ID else "random"
    files = record_demonstrations(
        env_id, tmp_path, 6, expert=expert, epsilon=0.05, seed=7, env_kwargs=kwargs, max_episode_steps=150,
        progress_bar=False,
    )
    assert sum(replay(path) for path in files) == sum(read_episode(p).metadata["length"] for p in files)
    endings = {bool(read_episode(p).trajectory.terminal) for p in files}
    assert endings == ({True, False} if env_id == ENV_ID else {True})  # crashes and time limits both replayed


def test_lidar_env_recorded_by_the_scripted_expert(tmp_path):
    files = record_demonstrations(
        ENV_ID, tmp_path, 1, env_kwargs={"obs_type": "lidar"}, max_episode_steps=200, progress_bar=False
    )
    trajs = load_demonstrations(files, env=gym.make(ENV_ID, obs_type="lidar"))
    assert trajs[0].obs.shape == (201, 180)
    with pytest.raises(DemonstrationError, match="obs_type"):
        load_demonstrations(files, env=ENV_ID)  # recorded with obs_type=lidar


def test_loaded_demos_train_imitation_bc(strong):
    env = gym.make(ENV_ID)
    trajs = load_demonstrations(strong, env=env)
    assert len(trajs) == 2 and all(len(t) == 300 for t in trajs)
    trainer = bc.BC(
        observation_space=env.observation_space,
        action_space=env.action_space,
        demonstrations=trajs,
        rng=np.random.default_rng(0),
        device="cpu",
    )
    obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in trajs]))
    acts = th.as_tensor(np.concatenate([t.acts for t in trajs]))
    trainer.train(n_batches=200, progress_bar=False)
    with th.no_grad():
        _, log_prob, _ = trainer.policy.evaluate_actions(obs, acts)
    # Better than any policy that ignores the state: the best constant one (flap with the demonstrations'
    # flap frequency p) scores p log p + (1 - p) log(1 - p) per step, about -0.26 here.
    p = float(acts.float().mean())
    assert log_prob.mean().item() > p * np.log(p) + (1 - p) * np.log(1 - p) + 0.02


def test_several_folders_and_imitation_formats(strong, tmp_path):
    exported = save_demonstrations(load_demonstrations(strong), tmp_path / "imitation")
    both = load_demonstrations([strong, exported], env=ENV_ID)
    assert len(both) == 4
    np.testing.assert_array_equal(both[0].obs, both[2].obs)
    np.testing.assert_array_equal(both[0].acts, both[2].acts)
    assert serialize.load(exported)[0] == both[2]  # imitation reads our export
    with pytest.raises(DemonstrationError, match="already exists"):
        save_demonstrations(both, exported)


# ---------------------------------------------------------------- bad input
def test_missing_and_empty(tmp_path):
    with pytest.raises(DemonstrationError, match="nope: no such file or folder"):
        load_demonstrations(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DemonstrationError, match="empty: no demonstrations"):
        load_demonstrations(tmp_path / "empty")


def test_truncated_and_corrupt_files(strong, tmp_path):
    source = sorted(strong.glob("episode-*.npz"))[0]
    data = source.read_bytes()
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "episode-1-truncated.npz").write_bytes(data[: len(data) // 2])
    before = snapshot(folder)
    with pytest.raises(DemonstrationError, match=r"episode-1-truncated\.npz: truncated or corrupt"):
        load_demonstrations(folder)
    assert snapshot(folder) == before  # nothing on disk changed
    (folder / "episode-1-truncated.npz").write_bytes(b"\x00" * 100)
    with pytest.raises(DemonstrationError, match=r"episode-1-truncated\.npz"):
        load_demonstrations(folder)


def rewrite(path, target, **changes):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(target, **arrays)
    return target


def test_bad_arrays(strong, tmp_path):
    source = sorted(strong.glob("episode-*.npz"))[0]
    with np.load(source) as data:
        obs, acts, meta = data["obs"], data["acts"], json.loads(str(data["metadata"]))
    nan_obs = obs.copy()
    nan_obs[7, 3] = np.nan
    cases = {
        "nan": ({"obs": nan_obs}, "NaN or inf"),
        "inf": ({"rews": np.full(len(acts), np.inf, np.float32)}, "NaN or inf"),
        "shape": (
            {"obs": np.zeros((len(obs), 11), np.float32)},
            r"observations are \(11,\) float32, but sb3_behave/FlappyBird-v0 has Box\(12,\)",
        ),
        "dtype": ({"obs": obs.astype(np.float64)}, "float64"),
        "action": ({"acts": np.where(np.arange(len(acts)) == 5, 2, acts)}, "action 5 is 2, outside"),
        "lengths": ({"obs": obs[:-1]}, "inconsistent lengths"),
        "length field": ({"acts": acts[:-1]}, f"metadata field 'length' is {len(acts)}: expected the number of actions"),
        "env": ({"metadata": np.asarray(json.dumps({**meta, "env_id": "CartPole-v1"}))}, "recorded in 'CartPole-v1'"),
    }
    for name, (change, message) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        rewrite(source, folder / "episode-bad.npz", **change)
        with pytest.raises(DemonstrationError, match=message) as info:
            load_demonstrations(folder, env=ENV_ID)
        assert "episode-bad.npz" in str(info.value)


def test_episodes_from_different_envs_are_refused(strong, tmp_path):
    source = sorted(strong.glob("episode-*.npz"))[0]
    with np.load(source) as data:
        meta = json.loads(str(data["metadata"]))
    folder = tmp_path / "mixed"
    folder.mkdir()
    rewrite(source, folder / "episode-a.npz")
    rewrite(
        source, folder / "episode-b.npz", metadata=np.asarray(json.dumps({**meta, "env_kwargs": {"reward_mode": "score"}}))
    )
    with pytest.raises(DemonstrationError, match=r"episode-b\.npz: env_kwargs is .* but .*episode-a\.npz has"):
        load_demonstrations(folder)


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_files_that_would_run_code_are_refused(strong, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = sorted(strong.glob("episode-*.npz"))[0]
    folder = tmp_path / "crafted"
    folder.mkdir()
    rewrite(source, folder / "episode-x.npz", obs=np.array([Exploit()], dtype=object))
    with pytest.raises(DemonstrationError, match="refused: the file holds pickled Python objects"):
        load_demonstrations(folder)
    pkl = tmp_path / "demos.pkl"
    pkl.write_bytes(pickle.dumps([Exploit()]))
    with pytest.raises(DemonstrationError, match="refused"):
        load_demonstrations(pkl)
    npy_named_npz = tmp_path / "trick.npz"
    npy_named_npz.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(DemonstrationError, match=r"trick\.npz"):
        load_demonstrations(npy_named_npz)
    # imitation's dataset format keeps infos as jsonpickle strings: we never decode them
    exported = save_demonstrations(load_demonstrations(strong), tmp_path / "exported")
    import datasets

    ds = datasets.load_from_disk(str(exported))
    poisoned = ds.map(
        lambda row: {
            "infos": ['{"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["touch pwned"]}]}'] * len(row["acts"])
        }
    )
    poisoned.save_to_disk(str(tmp_path / "poisoned"))
    assert len(load_demonstrations(tmp_path / "poisoned")) == 2
    assert not (tmp_path / "pwned").exists()


def test_demos_info_and_errors_on_the_command_line(strong, tmp_path, capsys):
    assert main(["demos", "info", str(strong), "--env", ENV_ID]) == 0
    out = capsys.readouterr().out
    assert "episodes     2" in out and "transitions  600" in out and "strong (2)" in out and "scripted-expert" in out
    assert main(["demos", "info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sb3-behave: error: ") and "missing: no such file or folder" in err and err.count("\n") == 1
    assert main(["demos", "export", str(strong), "--out", str(tmp_path / "exp")]) == 0
    assert len(serialize.load(tmp_path / "exp")) == 2


def test_record_demos_command(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["record-demos", "--skill", "medium", "--episodes", "3", "--seed", "5", "--out", str(out)]
    assert main([*argv, "--max-episode-steps", "500"]) == 0
    assert "3 episode(s) recorded" in capsys.readouterr().out
    episodes = load_episodes(out, env=ENV_ID)
    assert [e.metadata["seed"] for e in episodes] == [5, 6, 7]
    assert {e.metadata["skill"] for e in episodes} == {"medium"} and episodes[0].metadata["max_episode_steps"] == 500
    # medium: the scripted expert with 5% random actions, a handful of pipes (a random bird scores 0)
    assert 1 <= summarize(episodes)["score"]["mean"] <= 15
    assert all(replay(path) for path in sorted(out.glob("*.npz")))  # the files are the games that were played
    assert main(["record-demos", "--expert", "nobody.zip", "--episodes", "1", "--out", str(tmp_path / "n")]) == 2
    assert "nobody.zip" in capsys.readouterr().err
    assert main(["record-demos", "--env", "CartPole-v1", "--expert", "scripted", "--out", str(tmp_path / "c")]) == 2
    assert "scripted expert plays sb3_behave/FlappyBird-v0 only" in capsys.readouterr().err


def test_record_from_a_model_zip_and_a_zoo_run_folder(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=0), norm_reward=False)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu").learn(128)
    # Statistics far from the truth, so that playing with and without them gives different actions.
    venv.obs_rms.mean = np.array([0.5, 1.0, -0.1, 1.0])
    venv.obs_rms.var = np.full(4, 0.01)
    model.save(tmp_path / "agent.zip")
    files = record_demonstrations(
        "CartPole-v1", tmp_path / "from_zip", 2, expert=str(tmp_path / "agent.zip"), progress_bar=False
    )
    assert len(files) == 2 and read_episode(files[0]).metadata["player"].startswith("model:")
    raw = load_demonstrations(files, env="CartPole-v1")
    for trajectory in raw:  # a bare .zip has no statistics: the model acts on raw observations
        np.testing.assert_array_equal(trajectory.acts, model.predict(trajectory.obs[:-1], deterministic=True)[0])
    # the RL Zoo's layout: logs/<algo>/<env>_<n>/<env>.zip and <env>/vecnormalize.pkl
    run = tmp_path / "logs" / "ppo" / "CartPole-v1_1"
    (run / "CartPole-v1").mkdir(parents=True)
    model.save(run / "CartPole-v1.zip")
    venv.save(run / "CartPole-v1" / "vecnormalize.pkl")
    files = record_demonstrations("CartPole-v1", tmp_path / "from_zoo", 2, expert=str(run), progress_bar=False)
    for trajectory in load_demonstrations(files, env="CartPole-v1"):
        obs = trajectory.obs[:-1]
        normalized = model.predict(venv.normalize_obs(obs), deterministic=True)[0]
        np.testing.assert_array_equal(trajectory.acts, normalized)  # the run's statistics are applied
        assert (model.predict(obs, deterministic=True)[0] != normalized).any()  # and they matter here
