import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.demos import load_demonstrations
from sb3_behave.envs.flappy_bird import render

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args, cwd):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def number(pattern, text):
    """The number that ``(NUM)`` stands for in ``pattern`` (a regular expression), read from ``text``."""
    found = re.search(pattern.replace("(NUM)", r"([-+]?\d+(?:\.\d+)?)"), text)
    assert found, f"{pattern!r} not in the output:\n{text}"
    return float(found.group(1))


def constant_policy_loss(folder):
    """The BC loss of the best policy blind to the observation: the entropy of the demonstrated actions."""
    acts = np.concatenate([t.acts for t in load_demonstrations(folder)])
    p = np.bincount(acts) / len(acts)
    return float(-(p[p > 0] * np.log(p[p > 0])).sum())


def last_scalar(folder, tag):
    for events in sorted(Path(folder).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if tag in accumulator.Tags()["scalars"]:
            return accumulator.Scalars(tag)[-1]
    raise AssertionError(f"no {tag} in {folder}")


# A bird that never flaps falls to the ground in 31 frames: 0 pipes and a return of 30 x 0.1 - 1 = 2.0. No
# policy does worse: flapping only delays the fall, and the first pipe reaches the bird after ~100 frames.
NEVER_FLAP_RETURN = 2.0


def test_flappy_bird_expert_example(tmp_path):
    out = run_example("flappy_bird_expert.py", "--episodes", "1", "--max-steps", "400", "--out", "frame.png", cwd=tmp_path)
    assert "episode 0: 8 pipes, time limit" in out  # 400 frames: the first pipe comes at frame ~110, then one per ~37
    frame = (plt.imread(tmp_path / "frame.png")[..., :3] * 255).round().astype(np.uint8)
    assert frame.shape == (512, 288, 3)
    assert (frame[430:] == render.GROUND).all()  # the ground at the bottom
    assert (frame == render.BIRD_BODY).all(axis=2).sum() > 150  # the bird
    assert (frame == render.PIPE_BODY).all(axis=2).sum() > 5_000  # a pipe: frame 150 is saved


def test_flappy_bird_expert_example_plays_the_precise_style(tmp_path):
    out = run_example("flappy_bird_expert.py", "--style", "precise", "--episodes", "1", "--max-steps", "400", cwd=tmp_path)
    assert "episode 0: 8 pipes, time limit" in out


def test_imitate_flappy_bird_example(tmp_path):
    args = ["--episodes", "1", "--max-episode-steps", "2000", "--steps", "2000", "--out", "run"]
    out = run_example("imitate_flappy_bird.py", *args, cwd=tmp_path)
    assert "standardization kept in the policy: mean [" in out and "std [1. 1. 1.]" not in out
    flap_rate = number(r"flap_rate=(NUM)", out)
    assert 0.02 < flap_rate < 0.2
    # Far fewer mistakes than never flapping (one per flap) after 2,000 gradient steps on one 2,000-frame game.
    assert number(r"errors_per_frame=(NUM)", out) < 0.5 * flap_rate
    assert number(r"clone_pipes=(NUM)", out) > 0 and number(r"expert_pipes=(NUM)", out) > 200
    assert (tmp_path / "run" / "bc.zip").is_file()


def test_ppo_flappy_vec_env_example(tmp_path):
    out = run_example("ppo_flappy_vec_env.py", "--timesteps", "2048", "--n-envs", "4", cwd=tmp_path)
    # 2,048 steps teach PPO nothing yet (learning is the benchmarks' business): the figures must be Flappy Bird returns
    assert number(r"mean return over 4 evaluation episodes: (NUM) \+/- ", out) >= NEVER_FLAP_RETURN - 0.05
    runs = tmp_path / "runs" / "tensorboard"
    ep_rew_mean = last_scalar(runs, "rollout/ep_rew_mean")
    assert ep_rew_mean.step >= 2048 and ep_rew_mean.value >= NEVER_FLAP_RETURN - 1e-3  # the env's rewards reach PPO


def test_record_demonstrations_example(tmp_path):
    out = run_example("record_demonstrations.py", "--out", "d", "--episodes", "2", "--max-episode-steps", "300", cwd=tmp_path)
    assert "poor: 2 episodes" in out and "strong: 2 episodes, 600 transitions" in out  # the expert plays to the limit
    # The expert passes a pipe every ~37 frames from frame ~110: 6 in 300 frames; the poor player dies at the first one.
    assert number(r"strong: 2 episodes, 600 transitions, mean score (NUM)", out) >= 5
    assert number(r"poor: 2 episodes, \d+ transitions, mean score (NUM)", out) == 0
    assert number(r"poor: 2 episodes, (NUM) transitions", out) < 2 * 120  # crashed before the first pipe went by
    assert number(r"BC after one epoch on the strong demonstrations: (NUM) pipes", out) >= 0


def test_warm_start_mountain_car_example(tmp_path):
    # PPO from scratch never reaches the flag here (benchmarks/results/bc_warm_start/mountaincar): five scripted
    # episodes, cloned, do at once, and one round of fine-tuning (8,192 steps) keeps it there.
    out = run_example("warm_start_mountain_car.py", "--timesteps", "4096", cwd=tmp_path)
    assert number(r"expert: 5 episodes, mean return (NUM)", out) > 80  # +100 at the flag, minus the pushes
    assert number(r"after the warm start: (NUM)/10 episodes reach the flag", out) == 10
    assert number(r"after fine-tuning: +(NUM)/10 episodes reach the flag", out) == 10


def test_bc_warm_start_example(tmp_path):
    args = ["--demo-episodes", "1", "--demo-frames", "1000", "--bc-epochs", "10", "--timesteps", "4096"]
    out = run_example("bc_warm_start.py", *args, cwd=tmp_path)
    assert "BC warm start on 1000 transitions" in out
    # Too few epochs for the clone to pass pipes (0.0 before and after), enough for BC to read the observation:
    # its loss beats the best observation-blind policy's (the expert flaps in ~7% of frames: 0.24 nats).
    demos = tmp_path / "runs" / "demos" / "flappy_strong"
    constant = constant_policy_loss(demos)
    assert number(r"bc_loss=(NUM)", out) < 0.95 * constant, (out, constant)
    flap_rate = np.mean(np.concatenate([t.acts for t in load_demonstrations(demos)]))
    assert number(r"bc_accuracy=(NUM)", out) >= 1 - flap_rate - 0.01  # never worse than never flapping
    assert number(r"entropy=(NUM)", out) >= 0.05 - 1e-3  # the entropy floor
    # 4,096 env steps fall inside the default critic-only warm-up (10,000): the actor is held, and plays as the clone did
    warm = number(r"after the warm start: [\d.]+ pipes, return (NUM)", out)
    assert number(r"after fine-tuning: +[\d.]+ pipes, return (NUM)", out) == warm
    assert "value_loss" not in out  # the value head learns from the env, not from the demonstrations' returns


def test_gail_in_the_zoo_example(tmp_path):
    args = ["--episodes", "1", "--max-episode-steps", "2100", "--timesteps", "24576", "--video-steps", "50"]
    out = run_example("gail_in_the_zoo.py", *args, cwd=tmp_path)
    assert number(r"score +mean (NUM)", out) >= 40  # the expert's demonstration: a pipe every ~37 frames
    # 6 rounds of GAIL: the discriminator tells the expert from the generator (chance: accuracy 0.5, loss ln 2 = 0.693)
    assert number(r"mean/disc/disc_acc = (NUM)", out) > 0.75
    assert number(r"mean/disc/disc_loss = (NUM)", out) < 0.68
    assert number(r"mean/gen/rollout/ep_rew_mean = (NUM)", out) >= NEVER_FLAP_RETURN - 1e-3  # the env's own rewards
    assert number(r"GAIL agent: (NUM) pipes", out) >= 0
    assert list((tmp_path / "logs" / "gail").rglob("*.mp4"))
    assert list((tmp_path / "logs" / "gail").rglob("flappy.monitor.csv"))  # trained on FlappyBirdVecEnv


def test_gail_in_the_zoo_example_from_a_bc_warm_start(tmp_path):
    args = ["--episodes", "3", "--max-episode-steps", "2100", "--timesteps", "24576", "--video-steps", "0"]
    out = run_example("gail_in_the_zoo.py", *args, "--config", "gail_bc_warm_start", cwd=tmp_path)
    # BC ran on the generator's policy before the first round (never flapping scores 0.93 on these frames)
    assert number(r"warm_start/bc_accuracy = (NUM) at step 0", out) > 0.95
    # 24,576 steps are inside the config's 50,000-step critic warm-up: the discriminator and critic learn, the clone is held
    assert number(r"warm_start/actor_share = (NUM) at step 24576", out) == 0
    assert number(r"mean/disc/disc_acc = (NUM)", out) > 0.6


def test_preferences_from_a_clone_example(tmp_path):
    args = ["--episodes", "3", "--max-episode-steps", "2100", "--timesteps", "8192", "--comparisons", "20"]
    out = run_example("preferences_from_a_clone.py", *args, "--iterations", "2", "--games", "2", cwd=tmp_path)
    # BC ran on the policy before the first iteration (never flapping scores 0.93 on these frames)
    assert number(r"warm_start/bc_accuracy = (NUM) at step 0", out) > 0.95
    # the config's positive reward, saved with the model: every frame the policy lives pays
    assert "generator_reward: positive, 20 answers trained on" in out
    assert number(r"mean/agent/rollout/ep_rew_wrapped_mean = (NUM)", out) > 0
    assert 0 <= number(r"reward/final/train/accuracy = (NUM)", out) <= 1
    assert number(r"preference-comparisons agent: (NUM) pipes", out) >= 0


def test_density_from_a_clone_example(tmp_path):
    args = ["--episodes", "3", "--max-episode-steps", "2100", "--timesteps", "16384", "--games", "2"]
    out = run_example("density_from_a_clone.py", *args, cwd=tmp_path)
    # BC ran on the policy before PPO's first update (never flapping scores 0.93 on these frames)
    assert number(r"warm_start/bc_accuracy = (NUM) at step 0", out) > 0.95
    # the config's positive reward and its kernel centres (3 games of 2,100 frames: all 6,300 of them)
    assert "generator_reward: positive, 6300 kernel centres" in out
    expert = number(r"density reward per frame, expert: (NUM) over 6300 frames", out)
    never_flaps = number(r"density reward per frame, never flaps: (NUM)", out)
    assert expert > never_flaps + 1 and never_flaps >= 0  # every frame pays, the expert's states more
    assert number(r"rollout/ep_rew_wrapped_mean = (NUM)", out) > 0
    assert number(r"density agent: (NUM) pipes", out) >= 0


def test_airl_reward_transfer_example(tmp_path):
    args = ["--episodes", "1", "--max-episode-steps", "2100", "--airl-steps", "8192", "--ppo-steps", "8192", "--games", "2"]
    out = run_example("airl_reward_transfer.py", *args, cwd=tmp_path)
    assert number(r"AIRL agent: (NUM) pipes", out) >= 0 and number(r"PPO agent: (NUM) pipes", out) >= 0
    # generator_reward: positive (the AIRL config's): every frame is paid, the expert's and a falling bird's
    assert number(r"learned reward per frame, expert: (NUM) over 2100 frames", out) > 0
    assert number(r"learned reward per frame, never flaps: (NUM)", out) > 0
    # The PPO trained on AIRL's reward (its saved config names the wrapper and the AIRL run), with a TensorBoard run
    ppo_run = tmp_path / "logs" / "ppo" / "sb3_behave-FlappyBird-v0_1"
    config = (ppo_run / "sb3_behave-FlappyBird-v0" / "config.yml").read_text()
    assert "sb3_behave.zoo.learned_reward.LearnedReward:" in config and "model: logs/airl/sb3_behave-FlappyBird-v0_1" in config
    assert list((tmp_path / "runs" / "sb3_behave-FlappyBird-v0").glob("PPO_*"))


@pytest.mark.skipif(importlib.util.find_spec("minari") is None, reason="the minari extra is not installed")
def test_minari_datasets_example(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari-root"))
    args = ["--episodes", "2", "--max-episode-steps", "300", "--dataset-id", "demo/flappy-v0"]
    out = run_example("minari_datasets.py", *args, cwd=tmp_path)
    assert "Minari dataset demo/flappy-v0 written to" in out
    assert out.count("steps, return 36.0, truncated") == 2  # the strong player: 300 frames, 6 pipes, time limit
    assert "episode 2: " in out and out.split("episode 2: ")[1].split("\n")[0].endswith("terminated")  # the poor crash
    assert "loaded 3 trajectories" in out


@pytest.mark.skipif(importlib.util.find_spec("d3rlpy") is None, reason="the offline extra is not installed")
def test_offline_rl_flappy_example(tmp_path):
    out = run_example("offline_rl_flappy.py", "--episodes", "2", "--steps", "60", "--games", "3", "--out", "run", cwd=tmp_path)
    assert "recording: 2 medium games" in out
    for name in ("demonstrator", "bc", "cql"):
        assert number(rf"{name}_pipes=(NUM)", out) >= 0
    # The medium demonstrator (the precise expert with 2% random actions) passes pipes; the learners saved their models.
    assert number(r"demonstrator_pipes=(NUM)", out) >= 1
    assert (tmp_path / "run" / "bc.zip").is_file() and (tmp_path / "run" / "cql.zip").is_file()
