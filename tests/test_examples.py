import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args, cwd):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def test_flappy_bird_expert_example(tmp_path):
    out = run_example("flappy_bird_expert.py", "--episodes", "1", "--max-steps", "400", "--out", "frame.png", cwd=tmp_path)
    assert "episode 0: 8 pipes, time limit" in out  # 400 frames: the first pipe comes at frame ~110
    assert (tmp_path / "frame.png").exists()


def test_ppo_flappy_vec_env_example(tmp_path):
    out = run_example("ppo_flappy_vec_env.py", "--timesteps", "2048", "--n-envs", "4", cwd=tmp_path)
    assert "mean return over 4 evaluation episodes" in out
    assert any((tmp_path / "runs" / "tensorboard").rglob("events.out.tfevents.*"))


def test_record_demonstrations_example(tmp_path):
    out = run_example("record_demonstrations.py", "--out", "d", "--episodes", "2", "--max-episode-steps", "300", cwd=tmp_path)
    assert "poor: 2 episodes" in out and "strong: 2 episodes, 600 transitions" in out
    assert "BC after one epoch on the strong demonstrations:" in out


def test_bc_warm_start_example(tmp_path):
    args = ["--demo-episodes", "2", "--demo-frames", "300", "--bc-epochs", "2", "--timesteps", "4096"]
    out = run_example("bc_warm_start.py", *args, cwd=tmp_path)
    assert "after the warm start:" in out and "after fine-tuning:" in out and "BC warm start on 600 transitions" in out


def test_gail_in_the_zoo_example(tmp_path):
    args = ["--episodes", "1", "--max-episode-steps", "2100", "--timesteps", "8192", "--video-steps", "50"]
    out = run_example("gail_in_the_zoo.py", *args, cwd=tmp_path)
    assert "mean/disc/disc_loss" in out and "GAIL agent:" in out
    assert list((tmp_path / "logs" / "gail").rglob("*.mp4"))


@pytest.mark.skipif(importlib.util.find_spec("minari") is None, reason="the minari extra is not installed")
def test_minari_datasets_example(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari-root"))
    args = ["--episodes", "2", "--max-episode-steps", "300", "--dataset-id", "demo/flappy-v0"]
    out = run_example("minari_datasets.py", *args, cwd=tmp_path)
    assert "Minari dataset demo/flappy-v0 written to" in out
    assert out.count("steps, return 36.0, truncated") == 2  # the strong player: 300 frames, 6 pipes, time limit
    assert "episode 2: " in out and out.split("episode 2: ")[1].split("\n")[0].endswith("terminated")  # the poor crash
    assert "loaded 3 trajectories" in out
