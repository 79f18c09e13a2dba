"""The documented commands and Python snippets run in order in an empty folder, as a new user would run them.

Every ``bash`` and ``python`` block of the user guide (the pages of the docs' "Getting started"
and "User guide" tables of contents, in their order) is run top to bottom in one empty folder,
and the README's in another, with the sizes cut down (episodes, steps, grid points) by the table
below so that it takes a minute or two. Lines a test cannot run (installs, a server, a person at
the keyboard) are skipped by the second table, each with its reason. Both tables must match the
pages: a rule that matches nothing fails the test, so the docs cannot drift away from what is run
here. ``yaml`` blocks are parsed.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from sb3_behave.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The captions of the toctrees in docs/index.md whose pages are the user guide.
GUIDE_CAPTIONS = ("Getting started", "User guide")

#: (pattern, replacement): the README's sizes, cut to what a test can afford.
SMALLER = [
    (r"^(sb3-behave record-demos --skill strong --episodes 10 .*)$", r"\1 --max-episode-steps 1500"),
    (r"^(sb3-behave record-demos --skill \w+ .*)--episodes (10|5)\b", r"\1--episodes 2"),
    (r"--max-episode-steps 2000\b", "--max-episode-steps 300"),
    (r"--grid 41\b", "--grid 5"),
    (r"^(sb3-behave train --algo preference_comparisons .*)$", r"\1 -params total_comparisons:20 num_iterations:2"),
    (r"^(sb3-behave train .*)$", r"\1 -n 4096"),  # the zoo's -n: env steps of this run
    (r"^(sb3-behave train --algo valuedice .*)$", r"\1 -n 600"),  # after the line above: the last -n counts
    (r"^(sb3-behave train --algo sac .*)$", r"\1 -n 600"),  # an expert to record: one gradient step per env step
    (r"^(sb3-behave train --algo (cql|iql) .*)$", r"\1 -n 300"),  # gradient steps of 256x256 networks
    (r"^(python -m rl_zoo3\.train .*)$", r"\1 -n 2048 --eval-freq -1"),
    (r"^(python -m rl_zoo3\.enjoy .*) -n 5000$", r"\1 -n 300 --no-render"),
    (r"^(sb3-behave train .* -optimize .*)$", r"\1 -n 512"),  # after the line above: the last -n counts
    (r"^(sb3-behave enjoy .*)$", r"\1 -n 100 --no-render"),
    (r"(sb3-behave record-video .*) -n 1000\b", r"\1 -n 100"),
    (r'tensorboard_log="runs/tensorboard"\)', 'tensorboard_log="runs/tensorboard", n_steps=64)'),
    (r"\.learn\((1_000_000|200_000|300_000)", ".learn(4096"),
    (r"bc_epochs=20\b", "bc_epochs=1"),
    (r'gen_algo="ppo",', 'gen_algo="ppo", demo_batch_size=256,'),
    (r"\.learn\(20_000\)", ".learn(300)"),
    (r"\.learn\(5_000\)", ".learn(50)"),
    (r"\.learn\(10_000, progress_bar=True\)", ".learn(200, progress_bar=True)"),
    (r"every_n_steps=20_000, grid=21", "every_n_steps=2048, grid=3"),
]
#: (pattern, why): lines that are not run here.
SKIPPED = [
    (r"^make (demo|test)\b", "the set-up itself (CI runs `make test`)"),
    (r"^sb3-behave quickstart$", "the quickstart, minutes long (tests/test_cli.py runs it with its sizes cut)"),
    (r"^pip install ", "installs: the test runs in the installed package"),
    (r"^tensorboard ", "a server (the TensorBoard files are checked by the tests of each feature)"),
    (r"^sb3-behave play ", "a person at the keyboard (tests/test_play.py plays with posted key presses)"),
    (r"^sb3-behave compare (?!.*--auto-answer)", "a person at the window (tests/test_preferences.py posts the keys)"),
    (r"^sudo -u postgres ", "a database server's set-up (.ci/run starts a PostgreSQL server for tests/test_study.py)"),
    (r"--storage postgresql://", "the README's database host (tests/test_study.py runs workers against a real PostgreSQL)"),
]


def guide_pages():
    """The pages of the user guide, in the order of docs/index.md's toctrees (``Getting started``, ``User guide``)."""
    pages = []
    for caption, body in re.findall(r"```\{toctree\}\n:caption: ([^\n]*)\n(.*?)```", (DOCS / "index.md").read_text(), re.S):
        if caption in GUIDE_CAPTIONS:
            pages += [DOCS / f"{line.strip()}.md" for line in body.splitlines() if line.strip() and not line.startswith(":")]
    return pages


def blocks(path):
    """``(language, [commands])`` of each bash, python and yaml block of a page, in order.

    Bash lines are joined across backslashes and stripped of comments; a block indented in a list is dedented.
    """
    found = []
    for indent, language, body in re.findall(r"(?m)^( *)```(bash|python|yaml)\n(.*?)^ *```", path.read_text(), re.S):
        body = textwrap.dedent(body)
        if language != "bash":
            found.append((language, [body]))
            continue
        joined = re.sub(r"\\\n\s*", "", body)
        lines = [re.sub(r"(^|\s+)#.*$", "", line).strip() for line in joined.splitlines()]  # comments: none has a '#' inside
        found.append(("bash", [line for line in lines if line]))
    return found


def smaller(command, used):
    for i, (pattern, replacement) in enumerate(SMALLER):
        command, count = re.subn(pattern, replacement, command, flags=re.M)
        used[i] += count
    return command


def run_pages(pages, folder, monkeypatch, capsys, used, skipped):
    """Run every block of ``pages`` in order in ``folder``; return the commands run."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(folder / "minari"))
    namespace: dict = {}
    ran = []
    # `python` and `sb3-behave` of this test's environment first on the PATH, as in an activated venv
    shell_env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    shell_env["PYTHONUNBUFFERED"] = "1"
    for page in pages:
        for language, commands in blocks(page):
            for command in commands:
                where = f"{page.relative_to(ROOT)}"
                if language == "yaml":
                    assert isinstance(yaml.safe_load(command), dict), f"{where}: a yaml block that is not a mapping"
                    continue
                reason = next((i for i, (pattern, _) in enumerate(SKIPPED) if re.search(pattern, command)), None)
                if reason is not None:
                    skipped[reason] += 1
                    continue
                command = smaller(command, used)
                start = time.perf_counter()
                if language == "python":
                    exec(compile(command, where, "exec"), namespace)  # the blocks build on each other
                elif command.startswith("python -m rl_zoo3."):
                    # The unmodified zoo, in its own process, as a user's shell runs it ("$(sb3-behave paths ...)").
                    run = subprocess.run(["bash", "-c", command], env=shell_env, capture_output=True, text=True)
                    assert run.returncode == 0, f"{where}: `{command}` exited with {run.returncode}: {run.stderr[-2000:]}"
                else:
                    argv = shlex.split(command)
                    assert argv[0] == "sb3-behave", f"{where} runs {argv[0]!r}: teach this test how"
                    status = main(argv[1:])
                    assert status == 0, f"{where}: `{command}` exited with {status}: {capsys.readouterr().err[-2000:]}"
                ran.append(command)
                print(f"{where} ran in {time.perf_counter() - start:.1f} s: {command[:100]!r}")
    return ran


def test_the_guide_is_every_guide_page():
    pages = guide_pages()
    assert DOCS / "quickstart.md" in pages and all(page.is_file() for page in pages), pages
    assert set((DOCS / "guide").glob("*.md")) <= set(pages), "a page of docs/guide/ is in no guide toctree"


@pytest.mark.slow
def test_the_readme_and_the_guide_run_in_order_in_an_empty_folder(tmp_path, monkeypatch, capsys):
    used, skipped = [0] * len(SMALLER), [0] * len(SKIPPED)
    readme = run_pages([README], tmp_path / "readme", monkeypatch, capsys, used, skipped)
    assert (tmp_path / "readme" / "ppo_flappy_warm.zip").is_file() and len(readme) >= 3
    guide = run_pages(guide_pages(), tmp_path / "guide", monkeypatch, capsys, used, skipped)
    assert all(used), [SMALLER[i][0] for i, n in enumerate(used) if n == 0]  # no rule outlived its line
    assert all(skipped), [SKIPPED[i][0] for i, n in enumerate(skipped) if n == 0]
    # What the guide promises is there.
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
        "logs/cql/sb3_behave-FlappyBird-v0_1/sb3_behave-FlappyBird-v0.zip",
        "cql_flappy.zip",
        "demos/pendulum_sac",
        "logs/iql/Pendulum-v1_1/Pendulum-v1.zip",
    ):
        assert (tmp_path / "guide" / path).exists(), path
    assert len(guide) >= 25
