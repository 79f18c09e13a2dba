import subprocess
import sys

import pytest

from sb3_behave.cli import main
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


def test_bench_env_prints_its_table(capsys, tmp_path):
    table = tmp_path / "table.md"
    assert main(["bench", "env", "--seconds", "0.05", "--repeats", "1", "--n-envs", "16", "--markdown-out", str(table)]) == 0
    out = capsys.readouterr().out
    assert "| features | FlappyBirdVecEnv | 16 |" in out
    assert "| lidar | flappy-bird-gymnasium | 1 |" in out  # the peer, installed by the bench extra
    written = table.read_text()
    assert written.startswith("Machine: ") and f"{stack_name()} stack: stable-baselines3 " in written.splitlines()[0]
    assert "\n| observation |" in written and "| features | FlappyBirdVecEnv | 16 |" in written


def test_quickstart_runs_and_says_where_things_went(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb3_behave.cli",
            "quickstart",
            "--out",
            str(tmp_path),
            "--episodes",
            "1",
            "--max-steps",
            "300",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(tmp_path / "flappy_bird.png") in out
    assert (tmp_path / "flappy_bird.png").stat().st_size > 1000
    assert f"-> {tmp_path / 'demos' / 'strong'}" in out
    assert len(list((tmp_path / "demos" / "poor").glob("episode-*.npz"))) == 1
    assert "after the warm start" in out and (tmp_path / "ppo_bc_warm_start.zip").exists()
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    assert (tmp_path / "landscape" / "poor_score_only.png").exists() and "correlate at" in out


def test_version_names_the_stack(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert f"({stack_name()} stack: stable-baselines3 " in capsys.readouterr().out
