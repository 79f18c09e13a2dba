"""A battery of hostile and mistaken inputs, each run as a user would run it, with what happened counted.

Every case is one ``sb3-behave`` command (or a few lines of Python calling the public API) run in
its own empty folder, after a ``setup`` that writes the crafted files there. Crafted files that
hold code ask to create a marker file (``PWNED``) when run; URLs hold the password ``s3cr3t``.
For each case the battery measures:

- **code**: the marker file exists afterwards (a file ran code);
- **leak**: the secret shows up in what the command printed;
- **memory**: the process's peak resident memory passed 500 MB (it is killed past 3 GB);
- **hang**: it was still running after its time limit (or after a signal asked it to stop);
- **traceback**: a Python traceback was printed;
- **left behind**: a refused command created or changed a file in its folder;
- **accepted**: a command that should have refused the input exited with status 0 (or one that should
  have worked did not): silent acceptance.

The table lists every case with its exit status, output lines, peak memory and the first line it
printed; the totals come first. Run it on a quiet machine (one case at a time)::

    python benchmarks/hostile_inputs.py --out benchmarks/results/hostile_inputs/current.md
    python benchmarks/hostile_inputs.py -k minari      # only the cases whose name holds "minari"
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from common import ROOT, machine

from sb3_behave.zoo.commands import PRETRAINED_FOLDER

MARKER = "PWNED"
SECRET = "s3cr3t"
SECRET_TAIL = "hunter2"  # the part of a password after a special character: shown if a URL is split inside it
LIMIT_MB = 500
KILL_MB = 3000
FLAPPY = "sb3_behave/FlappyBird-v0"
RUN = "sb3_behave-FlappyBird-v0"
SHIPPED = PRETRAINED_FOLDER / "ppo" / f"{RUN}_1"
MODEL = SHIPPED / f"{RUN}.zip"


class RunsCommand:
    """Unpickled, it runs ``touch PWNED`` in the folder it is unpickled from (harmless, and visible)."""

    def __reduce__(self):
        return os.system, (f"touch {MARKER}",)


@dataclass
class Case:
    """One bad input: how to make it, how to feed it, what should happen."""

    name: str
    category: str
    argv: list[str] | None = None  # sb3-behave's arguments
    code: str | None = None  # or Python lines (exit 2 on the expected exception)
    setup: Callable[[Path], None] | None = None
    expect: str = "refuse"  # refuse: exit 2, nothing written; ok: exit 0; safe: either (a crafted file it need not read)
    timeout: float = 120.0
    send: tuple[float, int] | None = None  # (seconds, signal): stop it this way, then check it stopped cleanly
    verify: Callable[[Path, str], str | None] | None = None  # one more check: returns a problem or None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    case: Case
    status: int | None
    output: str
    peak_mb: float
    seconds: float
    code: bool = False
    leak: bool = False
    memory: bool = False
    hang: bool = False
    traceback: bool = False
    left: list[str] = field(default_factory=list)
    accepted: str | None = None

    stderr: str = ""

    @property
    def lines(self) -> list[str]:
        """What it printed on stderr (errors, warnings, tracebacks), line by line; else on stdout."""
        text = self.stderr if self.stderr.strip() else self.output
        return [line for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------- crafting
def rewrite_zip(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    """``source`` copied to ``target`` with some members replaced (or added)."""
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files.update(replace)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return target


def model_with_member(target: Path, member: str) -> Path:
    """The shipped model whose ``data`` member ``member`` is a pickle that runs a command."""
    with zipfile.ZipFile(MODEL) as archive:
        data = json.loads(archive.read("data"))
    data[member] = {":type:": "<class 'type'>", ":serialized:": base64.b64encode(pickle.dumps(RunsCommand())).decode()}
    return rewrite_zip(MODEL, target, {"data": json.dumps(data).encode()})


def model_with_torch_pickle(target: Path, member: str) -> Path:
    """The shipped model whose ``policy.pth`` (or another torch file) unpickles to a command."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save({"weights": RunsCommand()}, buffer)
    return rewrite_zip(MODEL, target, {member: buffer.getvalue()})


def deflated_zeros(archive: zipfile.ZipFile, name: str, header: bytes, size: int) -> None:
    """A member ``name`` of ``header`` then ``size`` zero bytes, deflated as it is written (a zip bomb)."""
    with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as member:
        member.write(header)
        chunk = bytes(2**24)
        left = size
        while left > 0:
            member.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def npz_bomb(target: Path, arrays: dict[str, np.ndarray], bomb: str, shape: tuple[int, ...], dtype: str = "<f4") -> Path:
    """An ``.npz`` with plain ``arrays`` and one array ``bomb`` of ``shape`` that is all zeros, deflated."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            import io

            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        deflated_zeros(archive, f"{bomb}.npy", npy_header(shape, dtype), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    return target


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


class Fixtures:
    """Real files made once (demonstrations, answers, a Minari dataset), copied into the cases that need them."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.env = env
        self.episodes = folder / "demos"
        self.cartpole = folder / "cartpole"
        self.answers = folder / "answers"
        self.bomb = folder / "bomb.npz"

    def make(self) -> None:
        from imitation.data.types import TrajectoryWithRew

        from sb3_behave.demos.storage import episode_metadata, write_episode
        from sb3_behave.preferences.storage import write_answer

        run = [sys.executable, "-m", "sb3_behave.cli"]
        subprocess.run(
            [*run, "record-demos", "--skill", "strong", "--episodes", "2", "--max-episode-steps", "300", "--out", "demos"],
            cwd=self.folder,
            env=self.env,
            check=True,
            capture_output=True,
        )
        import gymnasium as gym

        env = gym.make("CartPole-v1")
        rng = np.random.default_rng(0)
        obs = rng.normal(size=(11, 4)).astype(np.float32)
        trajectory = TrajectoryWithRew(
            obs=obs, acts=np.zeros(10, dtype=np.int64), infos=None, terminal=True, rews=np.ones(10, np.float32)
        )
        write_episode(self.cartpole, trajectory, episode_metadata(env, seed=0, score=10.0))
        flappy = gym.make(FLAPPY)
        fragment = TrajectoryWithRew(
            obs=np.zeros((6, 12), np.float32),
            acts=np.zeros(5, np.int64),
            infos=None,
            terminal=False,
            rews=np.ones(5, np.float32),
        )
        write_answer(self.answers, (fragment, fragment), 1.0, {"env_id": FLAPPY, "env_kwargs": {}, "answered_by": "person"})
        flappy.close()
        npz_bomb(self.bomb, {}, "obs", (70_000_000, 12))

    def demos(self, folder: Path, name: str = "demos") -> Path:
        shutil.copytree(self.episodes, folder / name)
        return folder / name

    def episode(self, folder: Path, name: str = "demos", **change: np.ndarray | str) -> Path:
        """The first recorded episode with some arrays changed, alone in ``folder/name``."""
        source = sorted(self.episodes.glob("episode-*.npz"))[0]
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        for key, value in change.items():
            arrays[key] = value if not isinstance(value, str) else np.asarray(value)
        (folder / name).mkdir(parents=True, exist_ok=True)
        target = folder / name / source.name
        with open(target, "wb") as file:
            np.savez_compressed(file, **arrays)
        return target

    def metadata(self) -> dict:
        source = sorted(self.episodes.glob("episode-*.npz"))[0]
        with np.load(source, allow_pickle=False) as data:
            return json.loads(str(data["metadata"]))

    def answer(self, folder: Path, name: str = "answers", **change: object) -> Path:
        source = sorted(self.answers.glob("preference-*.npz"))[0]
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        for key, value in change.items():
            arrays[key] = np.asarray(value)
        (folder / name).mkdir(parents=True, exist_ok=True)
        target = folder / name / source.name
        with open(target, "wb") as file:
            np.savez_compressed(file, **arrays)
        return target

    def run_folder(self, folder: Path) -> Path:
        run = folder / "logs" / "ppo" / f"{RUN}_1"
        shutil.copytree(SHIPPED, run)
        return run


# --------------------------------------------------------------------------- the cases
def cases(fx: Fixtures) -> list[Case]:
    out: list[Case] = []

    def add(name: str, category: str, **kwargs: object) -> None:
        if category == "code":  # no code may run; the command may refuse the file, or work without reading it
            kwargs.setdefault("expect", "safe")
        out.append(Case(name, category, **kwargs))  # type: ignore[arg-type]

    # ---- code from files: model zips
    def zip_case(member: str) -> Callable[[Path], None]:
        return lambda d: (model_with_member(d / "model.zip", member), None)[1]

    for member in ("policy_class", "observation_space", "_last_obs"):
        add(
            f"zip {member} / record-demos --expert",
            "code",
            setup=zip_case(member),
            argv=["record-demos", "--expert", "model.zip", "--algo", "ppo", "--episodes", "1", "--out", "demos"],
        )
        add(
            f"zip {member} / compare --agent",
            "code",
            setup=zip_case(member),
            argv=["compare", "--agent", "model.zip", "--algo", "ppo", "--out", "answers", "--auto-answer", "--queries", "1"],
        )
        add(
            f"zip {member} / landscape --policy",
            "code",
            setup=lambda d, m=member: (model_with_member(d / "model.zip", m), fx.demos(d), None)[2],
            argv=["landscape", "--demos", "demos", "--policy", "model.zip", "--algo", "ppo", "--grid", "3", "--out", "land"],
        )
        add(
            f"zip {member} / load_agent_from_path",
            "code",
            setup=zip_case(member),
            code="import gymnasium as gym, sb3_behave\nfrom sb3_behave.agents import load_agent_from_path\n"
            f"load_agent_from_path('model.zip', gym.make('{FLAPPY}'))",
        )
    for member in ("policy.pth", "pytorch_variables.pth", "policy.optimizer.pth"):
        add(
            f"zip {member} pickle / record-demos --expert",
            "code",
            setup=lambda d, m=member: (model_with_torch_pickle(d / "model.zip", m), None)[1],
            argv=["record-demos", "--expert", "model.zip", "--algo", "ppo", "--episodes", "1", "--out", "demos"],
        )
    add(
        "zip policy.pth pickle / compare --agent",
        "code",
        setup=lambda d: (model_with_torch_pickle(d / "model.zip", "policy.pth"), None)[1],
        argv=["compare", "--agent", "model.zip", "--algo", "ppo", "--out", "answers", "--auto-answer", "--queries", "1"],
    )

    # ---- code from files: zoo run folders
    def run_case(what: str) -> Callable[[Path], None]:
        def setup(d: Path) -> None:
            run = fx.run_folder(d)
            if what == "model":
                model_with_member(run / f"{RUN}.zip", "policy_class")
            elif what == "statistics":
                (run / RUN / "vecnormalize.pkl").write_bytes(pickle.dumps(RunsCommand()))
                config = (run / RUN / "config.yml").read_text().replace("- - - ", "- - - normalize\n    - true\n  - - ", 1)
                (run / RUN / "config.yml").write_text(config)
            else:
                (run / RUN / f"{what}.yml").write_text(f"!!python/object/apply:os.system ['touch {MARKER}']\n")

        return setup

    zoo_runs = {
        "enjoy": ["enjoy", "--algo", "ppo", "--env", FLAPPY, "-f", "logs", "-n", "50", "--no-render"],
        "record-video": ["record-video", "--algo", "ppo", "--env", FLAPPY, "-f", "logs", "-n", "20"],
        "record-demos --expert": ["record-demos", "--expert", f"logs/ppo/{RUN}_1", "--episodes", "1", "--out", "demos"],
        "compare --agent": ["compare", "--agent", f"logs/ppo/{RUN}_1", "--out", "answers", "--auto-answer", "--queries", "1"],
    }
    for what in ("config", "args", "env_kwargs", "statistics", "model"):
        for command, argv in zoo_runs.items():  # a file the command does not need may stay unread: refused or not, no code
            add(f"run folder {what} / {command}", "code", setup=run_case(what), argv=argv, expect="safe")
        add(
            f"run folder {what} / load_agent",
            "code",
            setup=run_case(what),
            code=f"from sb3_behave.zoo import load_agent\nload_agent('ppo', '{FLAPPY}', folder='logs', exp_id=1)",
        )
    def normalize_text(d: Path) -> None:  # the zoo eval()s a text normalize of a run folder's config.yml
        run = fx.run_folder(d)
        config = run / RUN / "config.yml"
        code = f"__import__('os').system('touch {MARKER}') or dict(norm_obs=True)"
        config.write_text(config.read_text().replace("- - - ", f"- - - normalize\n    - \"{code}\"\n  - - ", 1))

    for command in ("enjoy", "record-video"):
        add(f"run folder config normalize running code / {command}", "code", setup=normalize_text, argv=zoo_runs[command])
    add(
        "run folder config normalize running code / load_agent",
        "code",
        setup=normalize_text,
        code=f"from sb3_behave.zoo import load_agent\nload_agent('ppo', '{FLAPPY}', folder='logs', exp_id=1)",
    )
    add(
        "run folder config / landscape --policy",
        "code",
        setup=lambda d: (run_case("config")(d), fx.demos(d), None)[2],
        argv=["landscape", "--demos", "demos", "--policy", f"logs/ppo/{RUN}_1", "--grid", "3", "--out", "land"],
    )

    # ---- code from files: configs and data files
    def conf(text: str, name: str = "conf.yml") -> Callable[[Path], None]:
        return lambda d: (d / name).write_text(text) and None

    add(
        "-conf normalize running code / train",
        "code",
        setup=conf(
            "CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n"
            f"  normalize: \"__import__('os').system('touch {MARKER}') or False\"\n"
        ),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    add(
        "-conf python tag / train",
        "code",
        setup=conf(f"CartPole-v1: !!python/object/apply:os.system ['touch {MARKER}']\n"),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml", "-n", "100"],
    )
    add(
        "-conf python tag in a value / train",
        "code",
        setup=conf(
            "CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n"
            f"  gamma: !!python/object/apply:os.system ['touch {MARKER}']\n"
        ),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    add(
        "-conf policy_kwargs text / train",
        "code",
        setup=conf(
            "CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n"
            f"  policy_kwargs: \"__import__('os').system('touch {MARKER}') or dict()\"\n"
        ),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    add(
        "-conf python tag, other entry / train",
        "code",
        setup=conf(
            "CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n"
            f"Acrobot-v1: !!python/object/apply:os.system ['touch {MARKER}']\n"
        ),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    add(
        "episode with pickled object array / demos info",
        "code",
        setup=lambda d: (fx.episode(d, obs=np.array([RunsCommand()], dtype=object)), None)[1],
        argv=["demos", "info", "demos"],
    )
    add(
        "answer with pickled object array / train-reward",
        "code",
        setup=lambda d: (fx.answer(d, obs1=np.array([RunsCommand()], dtype=object)), None)[1],
        code="from sb3_behave.preferences.storage import load_preferences\nload_preferences('answers')",
    )

    def imitation_npz(d: Path) -> None:
        np.savez(
            d / "old.npz",
            obs=np.zeros((3, 4)),
            acts=np.zeros(2),
            infos=np.array([RunsCommand()], dtype=object),
            terminal=np.array([True]),
            indices=np.array([], dtype=np.int64),
            rews=np.zeros(2),
        )

    add("imitation npz with pickled infos / demos info", "code", setup=imitation_npz, argv=["demos", "info", "old.npz"])

    def imitation_folder(d: Path) -> None:
        import datasets

        infos = json.dumps([{"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [f"touch {MARKER}"]}]}])
        rows = {"obs": [[[0.0] * 4] * 3], "acts": [[0, 1]], "infos": [infos], "terminal": [True], "rews": [[1.0, 1.0]]}
        datasets.Dataset.from_dict(rows).save_to_disk(str(d / "imitation"))

    add(
        "imitation dataset with jsonpickled infos / demos info",
        "code",
        setup=imitation_folder,
        argv=["demos", "info", "imitation"],
    )

    # ---- memory: small files that claim gigabytes
    def bomb_demos(d: Path) -> None:
        meta = fx.metadata()
        meta["length"] = None
        (d / "demos").mkdir()
        target = d / "demos" / "episode-20260101T000000000000-1.npz"
        npz_bomb(
            target,
            {
                "acts": np.zeros(5, np.int64),
                "rews": np.zeros(5, np.float32),
                "terminal": np.array(True),
                "metadata": np.array(json.dumps(meta)),
            },
            "obs",
            (70_000_000, 12),
        )

    for command, argv in {
        "demos info": ["demos", "info", "demos"],
        "landscape": ["landscape", "--demos", "demos", "--grid", "3", "--out", "land"],
        "record-demos into it": ["record-demos", "--skill", "strong", "--episodes", "1", "--out", "demos"],
        "train bc": ["train", "--algo", "bc", "--env", FLAPPY, "-conf", "conf.yml", "-n", "10"],
    }.items():
        add(
            f"episode inflating to 3.4 GB / {command}",
            "memory",
            argv=argv,
            setup=lambda d: (
                bomb_demos(d),
                (d / "conf.yml").write_text(f"{FLAPPY}:\n  n_timesteps: 10\n  policy: MlpPolicy\n  demonstrations: demos\n"),
                None,
            )[2],
        )

    def bomb_answers(d: Path) -> None:
        source = sorted(fx.answers.glob("preference-*.npz"))[0]
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "obs1"}
        npz_bomb(d / "answers" / source.name, arrays, "obs1", (70_000_000, 12))

    add(
        "answer inflating to 3.4 GB / compare resumes",
        "memory",
        setup=bomb_answers,
        argv=["compare", "--out", "answers", "--auto-answer", "--queries", "2"],
    )
    add(
        "answer inflating to 3.4 GB / train preference_comparisons",
        "memory",
        setup=lambda d: (
            bomb_answers(d),
            (d / "conf.yml").write_text(f"{FLAPPY}:\n  n_timesteps: 1000\n  policy: MlpPolicy\n  preferences: answers\n"),
            None,
        )[2],
        argv=["train", "--algo", "preference_comparisons", "--env", FLAPPY, "-conf", "conf.yml"],
    )

    def bomb_minari(d: Path, rows: int = 200_000_000, lie: str = "rows") -> None:
        import h5py

        code = (
            "from sb3_behave.demos import load_episodes\n"
            "from sb3_behave.demos.minari_datasets import export_minari\n"
            "export_minari(load_episodes('demos'), 'bomb/flappy-v0')\n"
        )
        fx.demos(d)
        subprocess.run(
            [sys.executable, "-c", code], cwd=d, env={**fx.env, "MINARI_DATASETS_PATH": str(d / "minari")}, check=True
        )
        shutil.rmtree(d / "demos")
        data = d / "minari" / "bomb" / "flappy-v0" / "data"
        with h5py.File(data / "main_data.hdf5", "a") as file:
            group = file["episode_0"]
            if lie == "rows":
                for key in ("observations", "actions", "rewards", "terminations", "truncations"):
                    old = group[key]
                    shape = (rows + (key == "observations"), *old.shape[1:])
                    del group[key]
                    group.create_dataset(
                        key, shape=shape, dtype=old.dtype, chunks=(min(rows, 2**20), *old.shape[1:]), compression="gzip"
                    )
            elif lie == "shape":
                old = group["observations"][()]
                del group["observations"]
                group["observations"] = np.zeros((len(old), 4), np.float32)
        if lie == "steps":
            meta = json.loads((data / "metadata.json").read_text())
            meta["total_steps"] = 10**12
            (data / "metadata.json").write_text(json.dumps(meta))

    minari_env = {"MINARI_DATASETS_PATH": "minari"}
    add(
        "Minari dataset declaring 200M rows / demos info",
        "memory",
        setup=bomb_minari,
        env=minari_env,
        argv=["demos", "info", "bomb/flappy-v0"],
    )
    add(
        "Minari dataset declaring 200M rows / landscape",
        "memory",
        setup=bomb_minari,
        env=minari_env,
        argv=["landscape", "--demos", "bomb/flappy-v0", "--grid", "3", "--out", "land"],
    )
    add(
        "Minari dataset whose spaces contradict its data / demos info",
        "mixing",
        setup=lambda d: bomb_minari(d, lie="shape"),
        env=minari_env,
        argv=["demos", "info", "bomb/flappy-v0", "--env", FLAPPY],
    )
    add(
        "Minari dataset claiming 1e12 steps / demos info",
        "mixing",
        setup=lambda d: bomb_minari(d, lie="steps"),
        env=minari_env,
        argv=["demos", "info", "bomb/flappy-v0"],
    )

    laughs = billion_laughs()
    add(
        "-conf billion laughs / train",
        "memory",
        setup=conf(laughs + "CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n  env_kwargs: {junk: *l8}\n"),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    add(
        "-conf of 40 MB / train",
        "memory",
        setup=conf("CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\nlong: [" + "1, " * 13_000_000 + "1]\n"),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
    )
    for what in ("config", "args", "env_kwargs"):

        def laughs_run(d: Path, w: str = what) -> None:
            run = fx.run_folder(d)
            (run / RUN / f"{w}.yml").write_text(laughs + "x: *l8\n")

        add(  # the zoo reads config.yml and args.yml; env_kwargs.yml it writes only: refused or unread
            f"run folder {what} billion laughs / enjoy", "memory", setup=laughs_run, argv=zoo_runs["enjoy"],
            expect="safe" if what == "env_kwargs" else "refuse",
        )

    def big_config(d: Path) -> None:
        run = fx.run_folder(d)
        with open(run / RUN / "config.yml", "a") as file:
            file.write("- - junk\n  - [" + "1, " * 13_000_000 + "1]\n")

    add("run folder config of 40 MB / enjoy", "memory", setup=big_config, argv=zoo_runs["enjoy"])

    def zip_bomb(d: Path, member: str, size: int) -> None:
        with zipfile.ZipFile(MODEL) as archive:
            files = {name: archive.read(name) for name in archive.namelist() if name != member}
        with zipfile.ZipFile(d / "model.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
            deflated_zeros(archive, member, b"", size)

    add(
        "zip policy.pth inflating to 2 GB / compare --agent",
        "memory",
        setup=lambda d: zip_bomb(d, "policy.pth", 2 * 2**30),
        argv=["compare", "--agent", "model.zip", "--algo", "ppo", "--out", "answers", "--auto-answer", "--queries", "1"],
    )
    add(
        "zip policy.pth inflating to 900 MB / record-demos --expert",
        "memory",
        setup=lambda d: zip_bomb(d, "policy.pth", 900 * 2**20),
        argv=["record-demos", "--expert", "model.zip", "--algo", "ppo", "--episodes", "1", "--out", "demos"],
    )
    add(
        "zip data inflating to 900 MB / landscape --policy",
        "memory",
        setup=lambda d: (zip_bomb(d, "data", 900 * 2**20), fx.demos(d), None)[2],
        argv=["landscape", "--demos", "demos", "--policy", "model.zip", "--algo", "ppo", "--grid", "3", "--out", "land"],
    )

    # ---- unbounded arguments
    compare = ["compare", "--out", "answers", "--auto-answer"]
    add("compare --queries 1000000000", "arguments", argv=[*compare, "--queries", "1000000000"], timeout=60)
    add("compare --clip-height 8000", "arguments", argv=[*compare, "--queries", "1", "--clip-height", "8000"], timeout=60)
    add(
        "compare --fragment-length 1000000000",
        "arguments",
        argv=[*compare, "--queries", "1", "--fragment-length", "1000000000"],
        timeout=60,
    )
    add("compare --fps 1e9", "arguments", argv=[*compare, "--queries", "1", "--fps", "1e9"], timeout=60)
    add("irl --horizon 1000000000", "arguments", argv=["irl", "--horizon", "1000000000", "--out", "irl"], timeout=60)
    add("irl --demos 1000000000", "arguments", argv=["irl", "--demos", "1000000000", "--out", "irl"], timeout=60)
    add(
        "irl --iterations 1000000000000",
        "arguments",
        argv=["irl", "--iterations", "1000000000000", "--out", "irl"],
        timeout=60,
    )
    add(
        "landscape --grid 100000",
        "arguments",
        setup=fx.demos,
        argv=["landscape", "--demos", "demos", "--grid", "100000", "--out", "land"],
        timeout=60,
    )
    add(
        "landscape --chunk-size 1000000000",
        "arguments",
        setup=fx.demos,
        argv=["landscape", "--demos", "demos", "--grid", "3", "--chunk-size", "1000000000", "--out", "land"],
        timeout=60,
    )
    add(
        "record-demos --max-episode-steps 10**15 --skill poor",
        "arguments",
        argv=[
            "record-demos",
            "--skill",
            "poor",
            "--episodes",
            "1",
            "--max-episode-steps",
            "1000000000000000",
            "--out",
            "demos",
        ],
        expect="ok",
        timeout=60,
    )
    add("study status --last 0", "arguments", argv=["study", "status", "--storage", "s.log", "--last", "0"])
    add("study status --every 0", "arguments", argv=["study", "status", "--storage", "s.log", "--every", "0"])
    add("bench env --n-envs 10**9", "arguments", argv=["bench", "env", "--n-envs", "1000000000"], timeout=60)

    # ---- stopping: Ctrl-C and SIGTERM keep what was done
    def kept_answers(d: Path, output: str) -> str | None:
        files = sorted((d / "answers").glob("preference-*.npz")) if (d / "answers").is_dir() else []
        temporary = [p.name for p in (d / "answers").glob(".*")] if (d / "answers").is_dir() else []
        if temporary:
            return f"left temporary files {temporary}"
        return None if files else "no answer kept"

    for number, label in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")):
        add(
            f"compare stopped by {label} while answering",
            "stop",
            argv=[*compare, "--queries", "500"],
            send=(25.0, number),
            verify=kept_answers,
            expect="stopped",
        )
        add(
            f"compare --agent stopped by {label} while the agent plays",
            "stop",
            argv=[
                "compare",
                "--agent",
                str(MODEL),
                "--algo",
                "ppo",
                "--out",
                "answers",
                "--auto-answer",
                "--queries",
                "3",
                "--fragment-length",
                "1000",
            ],
            send=(9.0, number),
            expect="stopped",
        )

    # ---- secrets
    urls = {
        "password with @": f"postgresql://user:{SECRET}@{SECRET_TAIL}@127.0.0.1:1/db",
        "password with %40": f"postgresql://user:{SECRET}%40{SECRET_TAIL}@127.0.0.1:1/db",
        "password with /": f"postgresql://user:{SECRET}/{SECRET_TAIL}@127.0.0.1:1/db",
        "password with #": f"postgresql://user:{SECRET}#{SECRET_TAIL}@127.0.0.1:1/db",
        "password with ?": f"postgresql://user:{SECRET}?{SECRET_TAIL}@127.0.0.1:1/db",
        "password with :": f"postgresql://user:{SECRET}:{SECRET_TAIL}@127.0.0.1:1/db",
        "port not a number": f"postgresql://user:{SECRET}@127.0.0.1:abc/db",
        "no database": f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1",
        "unknown scheme": f"mysql://user:{SECRET}@127.0.0.1:1/db",
    }
    for label, url in urls.items():
        add(f"study status --storage {label}", "secret", argv=["study", "status", "--storage", url], timeout=60)
    for label in ("password with @", "password with /"):
        add(
            f"train -optimize --storage {label}",
            "secret",
            timeout=60,
            argv=[
                "train",
                "--algo",
                "ppo",
                "--env",
                "CartPole-v1",
                "-optimize",
                "--n-trials",
                "1",
                "--storage",
                urls[label],
                "--study-name",
                "s",
            ],
        )

    # ---- mistakes that deserve one line
    add("irl --env-kwargs map_name:9x9", "mistake", argv=["irl", "--env-kwargs", "map_name:9x9", "--out", "irl"])
    add("irl --env-kwargs is_slippery:maybe", "mistake", argv=["irl", "--env-kwargs", "is_slippery:maybe", "--out", "irl"])
    add(
        "irl --tensorboard-log naming a file",
        "mistake",
        setup=lambda d: (d / "tb").write_text("x"),
        argv=["irl", "--tensorboard-log", "tb", "--out", "irl", "--iterations", "2"],
    )
    add("irl --env not tabular", "mistake", argv=["irl", "--env", "CartPole-v1", "--out", "irl"])
    add("compare --env-kwargs g=abc", "mistake", argv=[*compare, "--queries", "1", "--env-kwargs", "g=abc"])
    add("compare --env-kwargs gravity=abc", "mistake", argv=[*compare, "--queries", "1", "--env-kwargs", "gravity=abc"])
    add(
        "compare --out naming a file",
        "mistake",
        setup=lambda d: (d / "answers").write_text("x"),
        argv=[*compare, "--queries", "1"],
    )
    add("compare --agent missing", "mistake", argv=["compare", "--agent", "nope.zip", "--out", "answers", "--auto-answer"])
    add(
        "record-demos --out naming a file",
        "mistake",
        setup=lambda d: (d / "demos").write_text("x"),
        argv=["record-demos", "--skill", "strong", "--episodes", "1", "--out", "demos"],
    )
    add("record-demos --env-kwargs bad JSON", "mistake", argv=["record-demos", "--env-kwargs", "{bad", "--out", "demos"])
    add("record-demos --env unknown", "mistake", argv=["record-demos", "--env", "Nope-v0", "--out", "demos"])
    add(
        "record-demos --expert a text file",
        "mistake",
        setup=lambda d: (d / "model.zip").write_text("not a zip"),
        argv=["record-demos", "--expert", "model.zip", "--algo", "ppo", "--out", "demos"],
    )
    add("demos info missing folder", "mistake", argv=["demos", "info", "nothing"])
    add(
        "demos export --format minari id of 300 characters",
        "mistake",
        setup=fx.demos,
        env=minari_env,
        argv=["demos", "export", "demos", "--format", "minari", "--out", "x" * 300 + "-v0"],
    )
    add(
        "demos export --format minari bad id",
        "mistake",
        setup=fx.demos,
        env=minari_env,
        argv=["demos", "export", "demos", "--format", "minari", "--out", "../../escape-v0"],
    )
    add("landscape --demos missing", "mistake", argv=["landscape", "--demos", "nothing", "--grid", "3", "--out", "land"])
    add(
        "landscape --span 0", "mistake", setup=fx.demos, argv=["landscape", "--demos", "demos", "--span", "0", "--out", "land"]
    )
    add(
        "landscape --weights unknown",
        "mistake",
        setup=fx.demos,
        argv=["landscape", "--demos", "demos", "--weights", "nope[0,0]", "nope[1,1]", "--grid", "3", "--out", "land"],
    )
    add(
        "landscape --policy missing",
        "mistake",
        setup=fx.demos,
        argv=["landscape", "--demos", "demos", "--policy", "nope.zip", "--grid", "3", "--out", "land"],
    )
    add("enjoy --algo unknown", "mistake", argv=["enjoy", "--algo", "nope", "--env", FLAPPY])
    add("train --env unknown", "mistake", argv=["train", "--algo", "ppo", "--env", "Nope-v0", "-n", "100"])
    add("train -conf missing", "mistake", argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "nope.yml"])
    add(
        "train -tb naming a file",
        "mistake",
        setup=lambda d: (d / "tb").write_text("x"),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "64", "-tb", "tb"],
    )
    add(
        "train -f naming a file",
        "mistake",
        setup=lambda d: (d / "logs").write_text("x"),
        argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "64", "-f", "logs"],
    )
    entries = {
        "misspelt callback class": "  callback: sb3_behave.callbacks.NoSuchCallback\n",
        "callback module missing": "  callback: no_such_module.Callback\n",
        "wrong policy_kwargs key": "  policy_kwargs: {net_arc: [64, 64]}\n",
        "policy_kwargs not a mapping": "  policy_kwargs: [64, 64]\n",
        "learning_rate .inf": "  learning_rate: .inf\n",
        "learning_rate -1": "  learning_rate: -1.0\n",
        "learning_rate text": "  learning_rate: fast\n",
        "batch_size 0": "  batch_size: 0\n",
        "batch_size 1.5": "  batch_size: 1.5\n",
        "n_steps negative": "  n_steps: -8\n",
        "n_envs 0": "  n_envs: 0\n",
        "n_timesteps text": "  n_timesteps: many\n",
        "gamma 2": "  gamma: 2.0\n",
        "misspelt key": "  gama: 0.9\n",
        "env_kwargs unknown key": "  env_kwargs: {nope: 1}\n",
        "env_wrapper missing": "  env_wrapper: no_such.Wrapper\n",
        "normalize text": "  normalize: maybe\n",
        "entry a list": None,
    }
    for label, line in entries.items():
        text = (
            "CartPole-v1: [1, 2]\n"
            if line is None
            else f"CartPole-v1:\n  n_timesteps: 64\n  policy: MlpPolicy\n  n_steps: 32\n{line}"
        )
        add(
            f"-conf {label} / train",
            "mistake",
            setup=conf(text),
            argv=["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", "conf.yml"],
        )
    add(
        "-conf bc batch_size 0 / train",
        "mistake",
        setup=lambda d: (
            fx.demos(d),
            conf(f"{FLAPPY}:\n  n_timesteps: 10\n  policy: MlpPolicy\n  demonstrations: demos\n  batch_size: 0\n")(d),
            None,
        )[2],
        argv=["train", "--algo", "bc", "--env", FLAPPY, "-conf", "conf.yml"],
    )
    add(
        "-conf bc demonstrations missing / train",
        "mistake",
        setup=conf(f"{FLAPPY}:\n  n_timesteps: 10\n  policy: MlpPolicy\n  demonstrations: nowhere\n"),
        argv=["train", "--algo", "bc", "--env", FLAPPY, "-conf", "conf.yml"],
    )

    def journal(d: Path) -> None:
        (d / "s.log").write_text(
            '{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}\n'
            '{"op_code": 4, "worker_id": "w", "study_id": 0, "datetime_start": "yesterday"}\n'
        )

    add("study status, journal with a wrong record", "mistake", setup=journal, argv=["study", "status", "--storage", "s.log"])
    add(
        "study status, journal of garbage",
        "mistake",
        setup=lambda d: (d / "s.log").write_bytes(os.urandom(4096)),
        argv=["study", "status", "--storage", "s.log"],
    )
    add(
        "study status, sqlite file of garbage",
        "mistake",
        setup=lambda d: (d / "s.db").write_bytes(os.urandom(4096)),
        argv=["study", "status", "--storage", "sqlite:///s.db"],
    )
    add("study status, unknown study", "mistake", argv=["study", "status", "--storage", "s.log", "--study-name", "nope"])
    add(
        "train -optimize storage of garbage",
        "mistake",
        setup=lambda d: (d / "s.log").write_bytes(os.urandom(4096)),
        argv=[
            "train",
            "--algo",
            "ppo",
            "--env",
            "CartPole-v1",
            "-optimize",
            "--n-trials",
            "1",
            "--storage",
            "s.log",
            "--study-name",
            "s",
        ],
    )

    # ---- mixing and silent acceptance
    add(
        "compare --env CartPole-v1 into a Flappy Bird answers folder",
        "mixing",
        setup=lambda d: shutil.copytree(fx.answers, d / "answers") and None,
        argv=["compare", "--env", "CartPole-v1", "--out", "answers", "--auto-answer", "--queries", "2"],
    )
    add(
        "compare into a folder of answers with the env's kwargs changed",
        "mixing",
        setup=lambda d: shutil.copytree(fx.answers, d / "answers") and None,
        argv=[*compare, "--env-kwargs", "score_limit=5", "--queries", "2"],
    )
    answer_loads = (
        "from sb3_behave.preferences.storage import load_preferences\nimport gymnasium as gym, sb3_behave\n"
        f"load_preferences('answers', gym.make('{FLAPPY}'))"
    )
    bad_answers = {
        "answer of another env id": dict(metadata=json.dumps({"format": "sb3-behave-preference", "env_id": "CartPole-v1"})),
        "answer with action 7 of Discrete(2)": dict(acts1=np.full(5, 7)),
        "answer with reward 1e30": dict(rews1=np.full(5, 1e30, np.float32)),
        "answer with NaN observations": dict(obs1=np.full((6, 12), np.nan, np.float32)),
        "answer with observations out of the space": dict(obs1=np.full((6, 12), 50.0, np.float32)),
        "answer with preference 2": dict(preference=np.float32(2.0)),
        "answer with metadata not JSON": dict(metadata="{"),
    }
    for label, change in bad_answers.items():
        add(f"{label} / load_preferences", "mixing", setup=lambda d, c=change: (fx.answer(d, **c), None)[1], code=answer_loads)
    add(
        "answer of another env id / compare resumes",
        "mixing",
        setup=lambda d: (
            fx.answer(d, metadata=json.dumps({"format": "sb3-behave-preference", "env_id": "CartPole-v1"})),
            None,
        )[1],
        argv=[*compare, "--queries", "2"],
    )

    def auto_labelled(d: Path, output: str) -> str | None:
        files = sorted((d / "answers").glob("preference-*.npz"))
        if not files:
            return "no answer written"
        with np.load(files[0], allow_pickle=False) as data:
            meta = json.loads(str(data["metadata"]))
        who = " ".join(str(meta.get(k)) for k in ("answered_by", "player", "source"))
        return None if "auto" in who.lower() or "reward" in who.lower() else f"auto answers labelled {who!r}"

    add(
        "--auto-answer answers say they are automatic",
        "mixing",
        argv=[*compare, "--queries", "1"],
        expect="ok",
        verify=auto_labelled,
    )
    add(
        "episode with action 5 of Discrete(2) / demos info --env",
        "mixing",
        setup=lambda d: (fx.episode(d, acts=np.full(len(np.load(sorted(fx.episodes.glob("*.npz"))[0])["acts"]), 5)), None)[1],
        argv=["demos", "info", "demos", "--env", FLAPPY],
    )
    add(
        "episode with NaN rewards / demos info",
        "mixing",
        setup=lambda d: (
            fx.episode(d, rews=np.full(len(np.load(sorted(fx.episodes.glob("*.npz"))[0])["rews"]), np.nan, np.float32)),
            None,
        )[1],
        argv=["demos", "info", "demos"],
    )
    add(
        "folder mixing Flappy Bird and CartPole episodes / demos info",
        "mixing",
        setup=lambda d: (fx.demos(d), [shutil.copy(p, d / "demos") for p in fx.cartpole.glob("*.npz")], None)[2],
        argv=["demos", "info", "demos"],
    )
    add(
        "CartPole episodes / landscape on Flappy Bird",
        "mixing",
        setup=lambda d: shutil.copytree(fx.cartpole, d / "demos") and None,
        argv=["landscape", "--demos", "demos", "--grid", "3", "--out", "land"],
    )
    add(
        "record-demos CartPole into a Flappy Bird folder",
        "mixing",
        setup=fx.demos,
        argv=["record-demos", "--env", "CartPole-v1", "--expert", "random", "--episodes", "1", "--out", "demos"],
    )
    add(
        "episode metadata length lies / demos info",
        "mixing",
        setup=lambda d: (fx.episode(d, metadata=json.dumps({**fx.metadata(), "length": 3})), None)[1],
        argv=["demos", "info", "demos"],
    )
    add(
        "episode metadata env_id of 10 kB / demos info",
        "mixing",
        setup=lambda d: (fx.episode(d, metadata=json.dumps({**fx.metadata(), "env_id": "x" * 10_000})), None)[1],
        argv=["demos", "info", "demos"],
    )

    # ---- left behind after a crash
    def export_killed(d: Path) -> None:  # 3,000 episodes: an export of several seconds, killed on the way
        folder = fx.demos(d)
        for copy in range(1499):
            for path in fx.episodes.glob("episode-*.npz"):
                shutil.copy(path, folder / path.name.replace("episode-", f"episode-{copy:03d}"))

    def rerun_export(d: Path, output: str) -> str | None:
        again = subprocess.run(
            [
                sys.executable,
                "-m",
                "sb3_behave.cli",
                "demos",
                "export",
                "demos",
                "--format",
                "minari",
                "--out",
                "killed/flappy-v0",
            ],
            cwd=d,
            env={**fx.env, "MINARI_DATASETS_PATH": str(d / "minari")},
            capture_output=True,
            text=True,
        )
        if again.returncode != 0:
            return f"the export run again after kill -9 failed: {again.stderr.strip()[-200:]}"
        staging = [p.name for p in (d / "minari").glob(".*")]
        return f"the run again left {staging}" if staging else None

    for seconds in (3.0, 5.0, 7.0):
        add(
            f"demos export --format minari killed -9 after {seconds:g} s, then run again",
            "stop",
            setup=export_killed,
            env=minari_env,
            argv=["demos", "export", "demos", "--format", "minari", "--out", "killed/flappy-v0"],
            send=(seconds, signal.SIGKILL),
            expect="killed",
            verify=rerun_export,
        )
    # ---- references: the same commands with nothing crafted, for their usual peak memory (not counted as bad inputs)
    shipped = f"logs/ppo/{RUN}_1"
    references = {
        "enjoy": ["enjoy", "--algo", "ppo", "--env", FLAPPY, "-f", "logs", "-n", "50", "--no-render"],
        "record-video": ["record-video", "--algo", "ppo", "--env", FLAPPY, "-f", "logs", "-n", "20"],
        "record-demos --expert": [
            "record-demos",
            "--expert",
            shipped,
            "--episodes",
            "1",
            "--max-episode-steps",
            "300",
            "--out",
            "more",
        ],
        "compare --agent": ["compare", "--agent", shipped, "--out", "answers", "--auto-answer", "--queries", "1"],
        "landscape --policy": ["landscape", "--demos", "demos", "--policy", shipped, "--grid", "3", "--out", "land"],
        "demos info": ["demos", "info", "demos"],
    }
    for command, argv in references.items():
        add(
            f"reference: {command}, nothing crafted",
            "reference",
            argv=argv,
            expect="ok",
            setup=lambda d: (fx.run_folder(d), fx.demos(d), None)[2],
        )
    return out


# --------------------------------------------------------------------------- running
def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in folder.rglob("*"):
        if path.name == MARKER:
            continue
        stat = path.lstat()
        found[str(path.relative_to(folder))] = (
            stat.st_size if path.is_file() else -1,
            stat.st_mtime_ns if path.is_file() else 0,
        )
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """The resident memory of a process now and at its peak (``VmHWM``, which starts again at ``exec``), in MB.

    ``wait4``'s ``ru_maxrss`` would count the memory of this script, which the child had before ``exec``.
    """
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def run_case(case: Case, folder: Path, env: dict[str, str]) -> Outcome:
    folder.mkdir(parents=True)
    if case.setup is not None:
        case.setup(folder)
    before = snapshot(folder)
    command = (
        [sys.executable, "-m", "sb3_behave.cli", *case.argv]
        if case.argv is not None
        else [
            sys.executable,
            "-c",
            "import sys\ntry:\n"
            + "".join(f"    {line}\n" for line in case.code.splitlines())
            + "except (ValueError, OSError) as error:\n    print(error, file=sys.stderr); sys.exit(2)\n",
        ]
    )
    case_env = {**env, **{k: str(folder / v) if k == "MINARI_DATASETS_PATH" else v for k, v in case.env.items()}}
    log = folder.parent / f"{folder.name}.out"
    errors = folder.parent / f"{folder.name}.err"
    start = time.monotonic()
    hang = memory = False
    with open(log, "wb") as out, open(errors, "wb") as err:
        process = subprocess.Popen(  # Ctrl-C as in a terminal: a background job would inherit SIGINT ignored
            command,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            cwd=folder,
            env=case_env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        sent_at = None
        peak = 0.0
        while True:
            now, high = memory_mb(process.pid)  # read before wait4 reaps it
            peak = max(peak, high)
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if case.send is not None and sent_at is None and elapsed >= case.send[0]:
                os.kill(process.pid, case.send[1])
                sent_at = elapsed
            if (sent_at is not None and elapsed - sent_at > 20) or elapsed > case.timeout:
                hang = True
                os.killpg(process.pid, signal.SIGKILL)
            elif now > KILL_MB:
                memory = True
                os.killpg(process.pid, signal.SIGKILL)
            time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(errors="replace") + errors.read_text(errors="replace")
    outcome = Outcome(case, process.returncode, output, peak, time.monotonic() - start)
    outcome.stderr = errors.read_text(errors="replace")
    outcome.code = (folder / MARKER).exists() or any(folder.rglob(MARKER))
    outcome.leak = SECRET in output or SECRET_TAIL in output
    outcome.memory = memory or outcome.peak_mb > LIMIT_MB
    outcome.hang = hang
    outcome.traceback = "Traceback (most recent call last)" in output
    after = snapshot(folder)
    if case.expect == "killed":  # what the killed run left under the dataset id (its hidden staging folder is expected)
        outcome.left = sorted(k for k in after if k not in before and k != "minari" and "/.sb3-behave-export-" not in f"/{k}")
        outcome.left = [k for k in outcome.left if not any(k.startswith(o + "/") for o in outcome.left)]
    elif case.expect == "refuse" or (case.expect == "safe" and outcome.status != 0):
        outcome.left = sorted(
            {k for k in after if k not in before} | {k for k in before if k in after and after[k] != before[k]}
        )
        outcome.left = [k for k in outcome.left if not any(k.startswith(o + "/") for o in outcome.left)]
    problem = None
    if (case.expect == "refuse" and outcome.status != 2) or (case.expect == "safe" and outcome.status not in (0, 2)):
        problem = f"exit {outcome.status}, expected 2"
    elif case.expect == "ok" and outcome.status != 0:
        problem = f"exit {outcome.status}, expected 0"
    elif case.expect == "stopped" and not hang and outcome.status not in (130, 143, 2, 0, -2, -15):
        problem = f"exit {outcome.status}"
    elif case.expect == "killed" and outcome.status != -signal.SIGKILL:
        problem = f"exit {outcome.status}: it finished before it was killed"
    if problem is None and case.verify is not None:
        problem = case.verify(folder, output)
    outcome.accepted = problem
    return outcome


COLUMNS = ("code", "leak", "memory", "hang", "traceback", "left", "accepted")


def table(outcomes: list[Outcome], seconds: float) -> str:
    references = [o for o in outcomes if o.case.category == "reference"]
    outcomes = [o for o in outcomes if o.case.category != "reference"]
    totals = {c: sum(bool(getattr(o, c)) for o in outcomes) for c in COLUMNS}
    categories = sorted({o.case.category for o in outcomes})
    one_line = sum(len(o.lines) == 1 for o in outcomes if o.status == 2)
    refusals = sum(o.status == 2 for o in outcomes)
    lines = [
        "# Hostile and mistaken inputs",
        "",
        f"{machine()}; `python benchmarks/hostile_inputs.py`; {len(outcomes)} cases in {seconds:.0f} s.",
        "",
        "| cases | code ran | secret shown | over 500 MB | hangs | tracebacks | left behind | accepted or wrong exit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(outcomes)} | " + " | ".join(str(totals[c]) for c in COLUMNS) + " |",
        "",
        f"Refusals (exit status 2) in one error line: {one_line} of {refusals}. "
        f"Largest peak: {max(o.peak_mb for o in outcomes):.0f} MB. "
        f"Cases per category: {', '.join(f'{c} {sum(o.case.category == c for o in outcomes)}' for c in categories)}.",
        "",
        "Peak memory of the same commands with nothing crafted (the shipped agent, two recorded games): "
        + ", ".join(
            f"{o.case.name.split(': ')[1].split(',')[0]} {o.peak_mb:.0f} MB" + (" (failed)" if o.accepted else "")
            for o in references
        )
        + ".",
        "",
        "| case | category | exit | error lines | peak MB | s | problems | first error line (else output line) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for o in outcomes:
        problems = [c for c in COLUMNS[:5] if getattr(o, c)]
        if o.left:
            problems.append("left " + ", ".join(o.left[:3]))
        if o.accepted:
            problems.append(o.accepted)
        first = (o.lines[0] if o.lines else "").replace("|", "\\|")
        first = first if len(first) <= 160 else first[:157] + "..."
        lines.append(
            f"| {o.case.name} | {o.case.category} | {o.status} | {len(o.lines)} | {o.peak_mb:.0f} | {o.seconds:.1f} | "
            f"{'; '.join(problems).replace('|', '/') or '-'} | {first} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only the cases whose name holds this text")
    parser.add_argument("--out", type=Path, default=None, help="write the table (markdown) there")
    parser.add_argument("--keep", action="store_true", help="keep the cases' folders (printed) to look at")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    home = work / "home"
    home.mkdir()
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        "MPLBACKEND": "Agg",
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "MINARI_DATASETS_PATH": str(home / "minari"),
        "TQDM_DISABLE": "1",
    }
    env.pop("SB3_BEHAVE_DEBUG", None)
    fixtures_folder = work / "fixtures"
    fixtures_folder.mkdir()
    fx = Fixtures(fixtures_folder, env)
    fx.make()
    chosen = [c for c in cases(fx) if args.k.lower() in c.name.lower()]
    start = time.monotonic()
    outcomes = []
    for index, case in enumerate(chosen):
        outcome = run_case(case, work / f"case{index:03d}", env)
        outcomes.append(outcome)
        flags = [c for c in COLUMNS if getattr(outcome, c)]
        print(
            f"[{index + 1}/{len(chosen)}] {case.name}: exit {outcome.status}, {outcome.peak_mb:.0f} MB, "
            f"{outcome.seconds:.1f} s"
            f"{'  PROBLEM: ' + ', '.join(flags) if flags else ''}",
            flush=True,
        )
        if flags:
            print("    " + "\n    ".join(outcome.lines[-4:]), flush=True)
    text = table(outcomes, time.monotonic() - start)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    if args.keep:
        print(f"cases kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
