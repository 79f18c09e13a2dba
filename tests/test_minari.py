"""Minari datasets: export a demo folder, read it back (by id and by path), checked like our own files."""

import json
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

minari = pytest.importorskip("minari", reason="the minari extra is not installed (pip install 'sb3-behave[minari]')")

from sb3_behave.cli import main  # noqa: E402
from sb3_behave.demos import (  # noqa: E402
    DemonstrationError,
    RecordDemonstrations,
    load_episodes,
    play_episodes,
    record_demonstrations,
)
from sb3_behave.demos.minari_datasets import METADATA_KEY, export_minari  # noqa: E402

FLAPPY = "sb3_behave/FlappyBird-v0"


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    root = tmp_path / "minari-root"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


@pytest.fixture
def flappy_folder(tmp_path):
    """Two crashes (poor play), then two time-limit truncations (strong play)."""
    folder = tmp_path / "flappy"
    record_demonstrations(FLAPPY, folder, episodes=2, skill="poor", max_episode_steps=200, seed=0, progress_bar=False)
    record_demonstrations(FLAPPY, folder, episodes=2, skill="strong", max_episode_steps=200, seed=5, progress_bar=False)
    return folder


def _assert_same_episodes(loaded, original):
    assert len(loaded) == len(original)
    for got, want in zip(loaded, original):
        np.testing.assert_array_equal(got.trajectory.obs, want.trajectory.obs)
        assert got.trajectory.obs.dtype == want.trajectory.obs.dtype
        np.testing.assert_array_equal(got.trajectory.acts, want.trajectory.acts)
        np.testing.assert_array_equal(got.trajectory.rews, want.trajectory.rews)
        assert got.trajectory.terminal == want.trajectory.terminal
        assert got.metadata == want.metadata


def test_a_demo_folder_round_trips_through_minari(flappy_folder, minari_root, capsys):
    original = load_episodes(flappy_folder)
    assert [e.trajectory.terminal for e in original] == [True, True, False, False]

    assert main(["demos", "export", str(flappy_folder), "--format", "minari", "--out", "sb3_behave/flappy-mixed-v0"]) == 0
    assert "sb3_behave/flappy-mixed-v0" in capsys.readouterr().out

    # Minari's own view: terminations and truncations apart, the seed, our metadata, the env spec.
    dataset = minari.load_dataset("sb3_behave/flappy-mixed-v0")
    assert dataset.total_episodes == 4 and dataset.total_steps == sum(len(e.trajectory) for e in original)
    assert dataset.env_spec.id == FLAPPY and dataset.env_spec.max_episode_steps == 200
    for data, episode in zip(dataset.iterate_episodes(), original):
        assert data.terminations[-1] == episode.trajectory.terminal and data.truncations[-1] != episode.trajectory.terminal
        assert not data.terminations[:-1].any() and not data.truncations[:-1].any()
    stored = list(dataset.storage.get_episode_metadata(range(4)))
    assert [m["seed"] for m in stored] == [0, 1, 5, 6]
    assert json.loads(stored[2][METADATA_KEY])["skill"] == "strong"

    # Read back by id and by path, exactly, and checked against the env.
    _assert_same_episodes(load_episodes("sb3_behave/flappy-mixed-v0", env=FLAPPY), original)
    _assert_same_episodes(load_episodes(minari_root / "sb3_behave" / "flappy-mixed-v0"), original)
    _assert_same_episodes(load_episodes(minari_root / "sb3_behave" / "flappy-mixed-v0" / "data"), original)

    assert main(["demos", "info", "sb3_behave/flappy-mixed-v0"]) == 0
    info = capsys.readouterr().out
    assert "episodes     4 (2 ended by a termination)" in info and "strong (2)" in info and "random (2)" in info


def test_image_observations_are_kept_exactly(tmp_path, minari_root):
    folder = tmp_path / "rgb"
    kwargs = {"obs_type": "rgb"}  # 84 x 84 x 3 uint8: an image to Minari, which would JPEG-encode it by default
    record_demonstrations(FLAPPY, folder, episodes=1, skill="poor", env_kwargs=kwargs, seed=0, progress_bar=False)
    original = load_episodes(folder)
    if minari.__version__.startswith("0.5.3"):  # the pinned stack's minari always JPEG-encodes images: refused
        with pytest.raises(DemonstrationError, match=r"rgb-v0: minari 0\.5\.3 stores image observations as JPEG"):
            export_minari(original, "rgb-v0")
        assert not (minari_root / "rgb-v0").exists()
        return
    export_minari(original, "rgb-v0")
    loaded = load_episodes("rgb-v0", env=gym.make(FLAPPY, **kwargs))
    _assert_same_episodes(loaded, original)
    assert loaded[0].trajectory.obs.dtype == np.uint8 and loaded[0].trajectory.obs.std() > 0


def test_minari_datasets_are_checked_like_our_own_files(flappy_folder):
    export_minari(load_episodes(flappy_folder), "flappy-v0")
    with pytest.raises(DemonstrationError, match=r"flappy-v0\[0\]: recorded with env kwargs .*differing: obs_type"):
        load_episodes("flappy-v0", env=gym.make(FLAPPY, obs_type="lidar"))
    with pytest.raises(DemonstrationError, match=r"flappy-v0\[0\]: recorded in 'sb3_behave/FlappyBird-v0', not in 'CartPole"):
        load_episodes("flappy-v0", env="CartPole-v1")
    with pytest.raises(DemonstrationError, match=r"no-such-v0: no such file or folder \(nor a Minari dataset id in .*-root"):
        load_episodes("no-such-v0")


def test_a_dataset_written_by_minari_itself_is_read_and_checked(tmp_path):
    from minari.data_collector.episode_buffer import EpisodeBuffer

    env = gym.make("CartPole-v1")
    buffers = []
    for seed in range(3):  # a constant push, left or right: the pole falls (terminations)
        (played,) = play_episodes(env, lambda obs, action=seed % 2: action, 1, seed=seed)
        ends = np.arange(len(played.acts)) == len(played.acts) - 1
        buffers.append(EpisodeBuffer(id=seed, seed=seed, observations=played.obs, actions=played.acts, rewards=played.rews,
                                     terminations=ends & played.terminal, truncations=ends & (not played.terminal),
                                     infos={}))
    with pytest.warns(UserWarning):  # Minari asks for the optional fields this test leaves out
        minari.create_dataset_from_buffers("cartpole/constant-v1", buffers, env=env)

    episodes = load_episodes("cartpole/constant-v1", env="CartPole-v1")
    assert [e.metadata["env_id"] for e in episodes] == ["CartPole-v1"] * 3  # taken from the dataset's env spec
    assert all(e.trajectory.terminal for e in episodes)
    np.testing.assert_array_equal(episodes[1].trajectory.acts, np.ones(len(episodes[1].trajectory.acts)))
    with pytest.raises(DemonstrationError, match=r"recorded in 'CartPole-v1', not in 'Acrobot-v1'"):
        load_episodes("cartpole/constant-v1", env="Acrobot-v1")


def test_export_refuses_an_existing_dataset_and_a_bad_id_and_writes_nothing(flappy_folder, minari_root, capsys):
    episodes = load_episodes(flappy_folder)
    target = export_minari(episodes, "flappy-v0")
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    with pytest.raises(DemonstrationError, match="flappy-v0 already exists"):
        export_minari(episodes[:1], "flappy-v0")
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before
    assert main(["demos", "export", str(flappy_folder), "--format", "minari", "--out", "no version!"]) == 2
    err = capsys.readouterr().err
    assert "'no version!' is not a Minari dataset id" in err and err.count("\n") == 1
    assert sorted(p.name for p in minari_root.iterdir()) == ["flappy-v0"]


def test_a_demonstrations_key_reads_a_minari_dataset_id(tmp_path, monkeypatch):
    # A constant "push right" player: BC trained through the zoo on its Minari dataset pushes right everywhere,
    # which a fresh policy does not.
    import yaml

    from sb3_behave.zoo import BC

    env = RecordDemonstrations(gym.make("CartPole-v1"), tmp_path / "right", player="right")
    for seed in range(8):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(1)
            done = terminated or truncated
    env.close()
    export_minari(load_episodes(tmp_path / "right"), "cartpole/right-v0")

    monkeypatch.chdir(tmp_path)
    entry = {"n_timesteps": 300, "policy": "MlpPolicy", "demonstrations": "cartpole/right-v0"}
    (tmp_path / "bc.yml").write_text(yaml.safe_dump({"CartPole-v1": entry}))
    assert main(["train", "--algo", "bc", "--env", "CartPole-v1", "-conf", "bc.yml", "--seed", "0", "--eval-freq", "-1"]) == 0
    model = BC.load(tmp_path / "logs" / "bc" / "CartPole-v1_1" / "CartPole-v1.zip")
    states = np.random.default_rng(0).uniform(-0.2, 0.2, size=(200, 4)).astype(np.float32)
    assert model.predict(states, deterministic=True)[0].mean() > 0.95
    fresh = BC("MlpPolicy", "CartPole-v1", seed=0)
    assert fresh.predict(states, deterministic=True)[0].mean() < 0.95


def test_a_folder_on_disk_comes_before_a_dataset_id_of_the_same_name(flappy_folder, tmp_path, minari_root, monkeypatch):
    export_minari(load_episodes(flappy_folder)[:1], "flappy-v0")
    monkeypatch.chdir(tmp_path)
    record_demonstrations("CartPole-v1", tmp_path / "flappy-v0", episodes=2, expert="random", progress_bar=False)
    assert [e.metadata["env_id"] for e in load_episodes("flappy-v0")] == ["CartPole-v1"] * 2  # the folder
    assert [e.metadata["env_id"] for e in load_episodes(minari_root / "flappy-v0")] == [FLAPPY]


def test_a_dataset_of_a_minari_this_one_cannot_read_is_one_line(flappy_folder, minari_root):
    folder = export_minari(load_episodes(flappy_folder)[:1], "flappy-v0") / "data"
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "minari_version": "9.9.9"}))
    with pytest.raises(DemonstrationError, match=r"flappy-v0: written by minari 9\.9\.9, which the installed minari"):
        load_episodes("flappy-v0")


def test_a_failed_export_leaves_nothing_behind(flappy_folder, minari_root, monkeypatch):
    def fail(*args, **kwargs):
        (Path(os.environ["MINARI_DATASETS_PATH"]) / "ns" / "flappy-v0" / "data").mkdir(parents=True)  # as far as it got
        raise OSError("disk full")

    monkeypatch.setattr(minari, "create_dataset_from_buffers", fail)
    with pytest.raises(OSError, match="disk full"):
        export_minari(load_episodes(flappy_folder), "ns/flappy-v0")
    assert not minari_root.exists()  # the root, the namespace and the dataset were all made by the failed export


def test_an_export_killed_on_the_way_leaves_nothing_under_its_id(flappy_folder, minari_root, monkeypatch):
    seen = {}
    original = minari.create_dataset_from_buffers

    def watch(dataset_id, *args, **kwargs):  # where Minari writes while it works: the staging root, not the id
        seen["root"] = Path(os.environ["MINARI_DATASETS_PATH"])
        dataset = original(dataset_id, *args, **kwargs)
        seen["written"] = sorted(p.name for p in (seen["root"] / dataset_id / "data").iterdir())
        seen["visible"] = (minari_root / dataset_id).exists()
        return dataset

    monkeypatch.setattr(minari, "create_dataset_from_buffers", watch)
    stale = minari_root / ".sb3-behave-export-999999999" / "ns" / "flappy-v0" / "data"  # a run killed with -9
    stale.mkdir(parents=True)
    (stale / "main_data.hdf5").write_bytes(b"half")
    with pytest.raises(DemonstrationError, match=r"ns/flappy-v0: no such file or folder \(nor a Minari dataset id"):
        load_episodes("ns/flappy-v0")  # what a killed run leaves is not a dataset under the id
    export_minari(load_episodes(flappy_folder), "ns/flappy-v0")
    assert seen["root"].parent == minari_root and seen["root"].name.startswith(".sb3-behave-export-")
    assert "metadata.json" in seen["written"] and not seen["visible"]  # complete before it appears under its id
    assert sorted(p.name for p in minari_root.iterdir()) == ["ns"]  # the stale staging folder and its own are gone
    assert len(load_episodes("ns/flappy-v0")) == 4
