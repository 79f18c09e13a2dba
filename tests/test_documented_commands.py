"""The README's commands and Python blocks run in order in an empty folder, as a new user would run them.

Every ``bash`` and ``python`` block is read from README.md and run top to bottom in one empty
folder, with the sizes cut down (episodes, steps, grid points) by the table below so that it takes
a minute. Lines a test cannot run (installs, a server, a person at the keyboard) are skipped by the
second table, each with its reason. Both tables must match the README: a rule that matches nothing
fails the test, so the README cannot drift away from what is run here.
"""

import re
import shlex
import time
from pathlib import Path

import pytest

from sb3_behave.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"

#: (pattern, replacement): the README's sizes, cut to what a test can afford.
SMALLER = [
    (r"^(sb3-behave record-demos --skill strong --episodes 10 .*)$", r"\1 --max-episode-steps 1500"),
    (r"^(sb3-behave record-demos --skill \w+ .*)--episodes (10|5)\b", r"\1--episodes 2"),
    (r"--max-episode-steps 2000\b", "--max-episode-steps 300"),
    (r"--grid 41\b", "--grid 5"),
    (r"^(sb3-behave train --algo preference_comparisons .*)$", r"\1 -params total_comparisons:20 num_iterations:2"),
    (r"^(sb3-behave train .*)$", r"\1 -n 4096"),  # the zoo's -n: env steps of this run
    (r"^(sb3-behave train .* -optimize .*)$", r"\1 -n 512"),  # after the line above: the last -n counts
    (r"^(sb3-behave enjoy .*)$", r"\1 -n 100 --no-render"),
    (r"(sb3-behave record-video .*) -n 1000\b", r"\1 -n 100"),
    (r'tensorboard_log="runs/tensorboard"\)', 'tensorboard_log="runs/tensorboard", n_steps=64)'),
    (r"\.learn\((1_000_000|200_000|300_000)", ".learn(4096"),
    (r"bc_epochs=20\b", "bc_epochs=1"),
    (r'gen_algo="ppo",', 'gen_algo="ppo", demo_batch_size=256,'),
    (r"\.learn\(20_000\)", ".learn(300)"),
    (r"\.learn\(5_000\)", ".learn(50)"),
    (r"every_n_steps=20_000, grid=21", "every_n_steps=2048, grid=3"),
]
#: (pattern, why): lines that are not run here.
SKIPPED = [
    (r"^make (demo|test)\b", "the set-up itself (CI runs `make test`)"),
    (r"^pip install ", "installs: the test runs in the installed package"),
    (r"^tensorboard ", "a server (the TensorBoard files are checked by the tests of each feature)"),
    (r"^sb3-behave play ", "a person at the keyboard (tests/test_play.py plays with posted key presses)"),
    (r"^sb3-behave compare (?!.*--auto-answer)", "a person at the window (tests/test_preferences.py posts the keys)"),
    (r"^sudo -u postgres ", "a database server's set-up (.ci/run starts a PostgreSQL server for tests/test_study.py)"),
    (r"--storage postgresql://", "the README's database host (tests/test_study.py runs workers against a real PostgreSQL)"),
]


def readme_blocks():
    """``(language, [commands])`` of each bash and python block, in order; bash lines joined across backslashes."""
    blocks = []
    for language, body in re.findall(r"```(bash|python)\n(.*?)```", README.read_text(), re.S):
        if language == "python":
            blocks.append(("python", [body]))
            continue
        joined = re.sub(r"\\\n\s*", "", body)
        lines = [re.sub(r"(^|\s+)#.*$", "", line).strip() for line in joined.splitlines()]  # comments: none has a '#' inside
        blocks.append(("bash", [line for line in lines if line]))
    return blocks


def smaller(command, used):
    for i, (pattern, replacement) in enumerate(SMALLER):
        command, count = re.subn(pattern, replacement, command, flags=re.M)
        used[i] += count
    return command


@pytest.mark.slow
def test_the_readme_runs_in_order_in_an_empty_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    used, skipped = [0] * len(SMALLER), [0] * len(SKIPPED)
    namespace: dict = {}
    ran = []
    for language, commands in readme_blocks():
        for command in commands:
            reason = next((i for i, (pattern, _) in enumerate(SKIPPED) if re.search(pattern, command)), None)
            if reason is not None:
                skipped[reason] += 1
                continue
            command = smaller(command, used)
            start = time.perf_counter()
            if language == "python":
                exec(compile(command, "README.md", "exec"), namespace)  # the blocks build on each other
            else:
                argv = shlex.split(command)
                assert argv[0] == "sb3-behave", f"README runs {argv[0]!r}: teach this test how"
                status = main(argv[1:])
                assert status == 0, f"`{command}` exited with {status}: {capsys.readouterr().err[-2000:]}"
            ran.append(command)
            print(f"README ran in {time.perf_counter() - start:.1f} s: {command[:100]!r}")
    assert all(used), [SMALLER[i][0] for i, n in enumerate(used) if n == 0]  # no rule outlived its README line
    assert all(skipped), [SKIPPED[i][0] for i, n in enumerate(skipped) if n == 0]
    # What the README promises is there.
    for path in (
        "demos/flappy_strong",
        "demos/cartpole_ppo",
        "logs/ppo/CartPole-v1_1",
        "reports/landscape/landscape.json",
        "logs/gail/sb3_behave-FlappyBird-v0_1",
        "gail_cartpole.zip",
        "valuedice_cartpole.zip",
        "logs/sqil/CartPole-v1_1/CartPole-v1.zip",
        "logs/density/CartPole-v1_1/CartPole-v1.zip",
        "logs/preference_comparisons/seals-CartPole-v0_1/seals-CartPole-v0.zip",
        "prefs/demo",
        "reports/irl/reward.png",
    ):
        assert (tmp_path / path).exists(), path
    assert len(ran) >= 25
