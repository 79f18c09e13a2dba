import math
import re
import subprocess
import sys
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from stable_baselines3 import PPO
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave import bench
from sb3_behave.cli import main
from sb3_behave.demos import load_demonstrations
from sb3_behave.envs import evaluate_flappy_policy
from sb3_behave.envs.flappy_bird import render
from sb3_behave.stack import stack_name


def test_help_lists_every_command_with_its_own_help(capsys):
    assert main([]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    for command in ("quickstart", "play", "record-demos", "demos", "landscape", "train", "enjoy", "record-video", "bench"):
        assert f" {command} " in out, command
    assert "let a program play (scripted expert, random, a trained agent) and record it" in out
    assert "Run `sb3-behave COMMAND --help`" in out


@pytest.mark.parametrize(
    "command",
    [[], ["play"], ["record-demos"], ["demos", "info"], ["demos", "export"], ["landscape"], ["quickstart"], ["bench", "env"]],
    ids=lambda command: " ".join(command) or "sb3-behave",
)
def test_help_imports_nothing_heavy(command):
    # Every command's parser is built without torch, SB3 or imitation: they load when the command runs.
    code = (
        "import sys\nfrom sb3_behave.cli import main\n"
        f"try:\n    main({[*command, '--help']!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'imitation', 'rl_zoo3') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


ENV_NAMES = {"peer": "flappy-bird-gymnasium", "single": "sb3_behave/FlappyBird-v0", "vec": "FlappyBirdVecEnv"}


def bench_rows(text):
    """The table's rows by (observation, runner): n_envs, steps/s, ratio to the peer, goal met."""
    runners = {name: runner for runner, name in ENV_NAMES.items()}
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[1] in runners:
            obs, name, n_envs, speed, ratio, _, met = cells
            rows[obs, runners[name]] = (int(n_envs), float(speed.replace(",", "")), float(ratio.rstrip("x")), met)
    return rows


def test_bench_env_prints_its_table(capsys, tmp_path):
    # No speed is asserted here (timing goals belong to the benchmark): only that the table is whole and consistent.
    table = tmp_path / "table.md"
    assert main(["bench", "env", "--seconds", "0.05", "--repeats", "1", "--n-envs", "16", "--markdown-out", str(table)]) == 0
    out = capsys.readouterr().out
    rows = bench_rows(out)
    # one row per observation kind and env, the peer installed by `make install`
    assert sorted(rows) == sorted((obs, runner) for obs in ("features", "lidar") for runner in ENV_NAMES)
    for (obs, runner), (n_envs, speed, ratio, met) in rows.items():
        assert n_envs == (16 if runner == "vec" else 1)
        assert math.isfinite(speed) and speed > 0
        peer = rows[obs, "peer"][1]
        # the ratio is printed to 0.1, from steps/s that the table rounds to integers
        assert ratio == pytest.approx(speed / peer, abs=0.05 + speed / peer * (0.5 / speed + 0.5 / peer) + 1e-9)
        if (obs, runner) == ("features", "vec"):  # the goal, and the mark for a compiled core
            assert met == ", ".join(f"{m}M: {'yes' if speed >= m * 1e6 else '**no**'}" for m in (5, 20))
        elif runner != "peer":
            goal = {"single": 1.0 if obs == "features" else 20.0, "vec": 100.0}[runner] * peer
            if abs(speed - goal) > 0.5 + goal * 0.5 / peer:  # not within the rounding of the goal
                assert met == ("yes" if speed >= goal else "**no**"), (obs, runner)
    written = table.read_text()
    assert written.startswith("Machine: ") and f"{stack_name()} stack: stable-baselines3 " in written.splitlines()[0]
    assert "numba " in written.splitlines()[0]
    core_line = r"Flappy Bird core: compiled by numba [\d.]+; the first steps of this process took [\d.]+ s"
    assert re.match(core_line, written.splitlines()[1])
    assert "Each figure: median of 1 runs of 0.05 s" in written
    assert "\n| observation |" in written and bench_rows(written) == rows


def test_bench_env_counts_every_game_step(capsys, monkeypatch):
    # A clock that moves 1/64 s per reading: a timed run of 4/64 s is 4 rounds of 64 steps, whatever the machine
    clock = iter(np.arange(1_000_000) / 64)
    monkeypatch.setattr(bench, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    assert main(["bench", "env", "--seconds", "0.0625", "--repeats", "1", "--n-envs", "16"]) == 0
    rows = bench_rows(capsys.readouterr().out)
    for obs in ("features", "lidar"):
        assert rows[obs, "peer"] == (1, 4096.0, 1.0, "")  # 64 steps per 1/64 s
        assert rows[obs, "single"][:3] == (1, 4096.0, 1.0)
        assert rows[obs, "vec"][:3] == (16, 65536.0, 16.0)  # one VecEnv step is 16 game steps
    assert rows["features", "single"][3] == "yes" and rows["lidar", "single"][3] == "**no**"  # 1x the peer: 1x and 20x goals
    assert rows["features", "vec"][3] == "5M: **no**, 20M: **no**" and rows["lidar", "vec"][3] == "**no**"  # under 5M, 100x


def printed(pattern, text):
    """The numbers that ``(NUM)`` stands for in ``pattern`` (a regular expression), read from ``text``."""
    found = re.search(pattern.replace("(NUM)", r"([-+]?\d+(?:\.\d+)?)"), text)
    assert found, f"{pattern!r} not in the output:\n{text}"
    return [float(group) for group in found.groups()]


def warm_start_scalar(folder, tag):
    for events in folder.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if tag in accumulator.Tags()["scalars"]:
            return accumulator.Scalars(tag)[-1].value
    raise AssertionError(f"no {tag} under {folder}")


def test_quickstart_runs_and_says_where_things_went(tmp_path):
    # 1,000-frame episodes, a short fine-tuning and a coarse landscape: every step, at a test's cost
    args = ["--episodes", "1", "--max-steps", "1000", "--bc-epochs", "10", "--fine-tune-steps", "4096"]
    run = subprocess.run(
        [sys.executable, "-m", "sb3_behave.cli", "quickstart", "--out", str(tmp_path), *args, "--landscape-grid", "21"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = run.stdout
    # a clean story: no library warning in it, and the fine-tuning's progress bar ends at its total
    assert "Warning" not in run.stdout + run.stderr, run.stderr
    assert "4,096/4,096" in run.stdout + run.stderr and "fine-tuned for 4,096 env steps (1 rollout of 16 games" in out
    # [1/4] the expert passes a pipe every ~37 frames from frame ~110: 25 in 1,000 frames (a never-flapping bird: 0)
    (expert,) = printed(r"scores: \[(NUM)\]", out)
    assert expert >= 20
    assert str(tmp_path / "flappy_bird.png") in out
    frame = (plt.imread(tmp_path / "flappy_bird.png")[..., :3] * 255).round().astype(np.uint8)
    assert frame.shape == (512, 288, 3) and (frame == render.BIRD_BODY).all(axis=2).sum() > 150
    # [2/4] the strong player is the expert (to the time limit, same score); the poor one dies at the first pipe
    poor, poor_score = printed(r"poor +(NUM) transitions, mean score (NUM)", out)
    strong, strong_score = printed(r"strong +(NUM) transitions, mean score (NUM)", out)
    assert (strong, strong_score) == (1000, expert) and poor_score == 0 and poor < 120
    assert f"-> {tmp_path / 'demos' / 'strong'}" in out
    assert len(list((tmp_path / "demos" / "poor").glob("episode-*.npz"))) == 1
    # [3/4] ten epochs do not make a clone that passes pipes, but BC has read the observation: its loss beats the
    # best observation-blind policy's (the entropy of the expert's actions: it flaps in ~7% of frames)
    untrained, warm, tuned = printed(r"untrained (NUM), after the warm start (NUM), after fine-tuning (NUM) pipes", out)
    assert min(untrained, warm, tuned) >= 0
    acts = np.concatenate([t.acts for t in load_demonstrations(tmp_path / "demos" / "strong")])
    p = np.bincount(acts) / len(acts)
    assert warm_start_scalar(tmp_path / "tensorboard", "warm_start/bc_loss") < 0.95 * -(p * np.log(p)).sum()
    # the saved model is the one evaluated last: it scores what was printed on the same 10 games
    model = PPO.load(tmp_path / "ppo_bc_warm_start.zip", device="cpu")
    assert evaluate_flappy_policy(model, games=10, max_frames=1000, seed=1000)["score"] == pytest.approx(tuned, abs=0.051)
    # [4/4] the expert's returns are all positive: its REINFORCE loss weighs the IL loss's terms, the surfaces agree
    assert (tmp_path / "landscape" / "poor_score_only.png").exists()
    (strong_pearson,) = printed(r"strong_score_only: IL and RL surfaces correlate at (NUM)", out)
    (poor_pearson,) = printed(r"poor_score_only: IL and RL surfaces correlate at (NUM)", out)
    # the poor player only crashes: with score-only rewards its RL surface is the IL surface upside down
    assert strong_pearson > 0.5 and poor_pearson < -0.5


def test_version_names_the_stack(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert f"({stack_name()} stack: stable-baselines3 " in capsys.readouterr().out


def test_a_report_file_is_written_whole_or_not_at_all(tmp_path):
    from sb3_behave.outputs import replacing, write_text

    path = write_text(tmp_path / "results.json", "earlier")
    with pytest.raises(RuntimeError), replacing(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("the writer died")
    assert path.read_text() == "earlier" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    write_text(path, "new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
