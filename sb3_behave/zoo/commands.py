"""``sb3-behave train``, ``enjoy`` and ``record-video``: the RL Zoo's own scripts with sb3-behave's algorithms added.

Every zoo flag works as in ``python -m rl_zoo3.train`` (``--eval-freq``, ``--save-freq``, ``-tb``,
``-i``, ``--seed``, ``--vec-env``, ``-params``, ``-optimize``, ...): the arguments are handed to
the zoo unchanged, after :func:`~sb3_behave.zoo.registry.register_algorithms`.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from sb3_behave.stack import is_numpy2_pickle_error, numpy2_pickle_message, require_imitation

#: Where the package keeps its pretrained agents, in the zoo's layout (``<algo>/<env>_<n>/``).
PRETRAINED_FOLDER = Path(__file__).resolve().parent.parent / "pretrained"
#: The hyperparameter files shipped with the package (``zoo_configs/`` in the repository).
SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "zoo_configs"
#: The zoo's default folder of trained agents (it downloads from the Hugging Face hub into it).
ZOO_DEFAULT_FOLDER = "rl-trained-agents"


def _option(argv: Sequence[str], *names: str) -> str | None:
    """The value of an option given as ``--name value`` or ``--name=value``, or None."""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _with_option(argv: Sequence[str], names: Sequence[str], value: str) -> list[str]:
    """``argv`` with the value of the option ``names`` replaced by ``value``."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg in names and i + 1 < len(argv):
            argv[i + 1] = value
        elif any(arg.startswith(name + "=") for name in names):
            argv[i] = arg.split("=", 1)[0] + "=" + value
    return argv


def resolve_config(conf: str | None) -> str | None:
    """The ``-conf`` file to use: as given if it exists, else the package's copy of ``zoo_configs/NAME``.

    So ``-conf zoo_configs/gail.yml`` works in any folder, not only in a clone of the repository.
    """
    if conf is None or Path(conf).exists():
        return conf
    path = Path(conf)
    shipped = SHIPPED_CONFIGS / path.name
    if path.parent.name in ("zoo_configs", "") and shipped.is_file():
        print(f"{conf}: not in this folder: using the copy shipped with sb3-behave, {shipped}", flush=True)
        return str(shipped)
    return conf


def _has_agent(folder: Path, algo: str, env_id: str) -> bool:
    name = env_id.replace("/", "-")
    return any(p.is_dir() for p in (folder / algo).glob(f"{name}_*")) or (folder / algo / f"{name}.zip").is_file()


def resolve_folder(folder: str | Path, algo: str, env_id: str) -> Path:
    """The folder to load from: the package's pretrained agents stand in for the zoo's default folder
    (``rl-trained-agents``) when that does not hold the agent and the package ships it."""
    folder = Path(folder)
    if str(folder) != ZOO_DEFAULT_FOLDER or _has_agent(folder, algo, env_id):
        return folder
    return PRETRAINED_FOLDER if _has_agent(PRETRAINED_FOLDER, algo, env_id) else folder


def with_default_folder(argv: Sequence[str]) -> list[str]:
    """Add ``-f <package>/pretrained`` when no folder is given and :func:`resolve_folder` picks it."""
    argv = list(argv)
    if _option(argv, "-f", "--folder") is not None:
        return argv
    folder = resolve_folder(ZOO_DEFAULT_FOLDER, _option(argv, "--algo") or "ppo", _option(argv, "--env") or "CartPole-v1")
    return argv if folder == Path(ZOO_DEFAULT_FOLDER) else [*argv, "-f", str(folder)]


def _agent_label(argv: Sequence[str]) -> str:
    """``FOLDER/ALGO/ENV_*``: the agent ``enjoy`` and ``record-video`` load (the zoo's defaults filled in)."""
    folder = _option(argv, "-f", "--folder") or ZOO_DEFAULT_FOLDER
    env = (_option(argv, "--env") or "CartPole-v1").replace("/", "-")
    return f"{folder}/{_option(argv, '--algo') or 'ppo'}/{env}_*"


def _is_network_error(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    from_network_library = module.split(".")[0] in {"requests", "urllib3", "huggingface_hub"}
    return from_network_library or isinstance(error, (ConnectionError, TimeoutError))


class _ScoreReport:
    """Prints the score of each finished episode of a VecEnv whose infos carry one (Flappy Bird's pipes),
    and at ``close()`` a summary that includes the episodes cut short by the step budget."""

    def __init__(self, label: str = "pipes") -> None:
        self.label = label
        self.finished: list[float] = []
        self.in_progress: dict[int, tuple[float, int]] = {}

    def wrap(self, venv: Any) -> Any:
        from stable_baselines3.common.vec_env import VecEnvWrapper

        report = self

        class ReportScores(VecEnvWrapper):
            def reset(self) -> Any:
                return self.venv.reset()

            def step_wait(self) -> Any:
                obs, rewards, dones, infos = self.venv.step_wait()
                for i, (done, info) in enumerate(zip(dones, infos)):
                    if "score" in info:
                        report.step(i, bool(done), float(info["score"]))
                return obs, rewards, dones, infos

            def close(self) -> None:
                report.summary()
                self.venv.close()

        return ReportScores(venv)

    def step(self, index: int, done: bool, score: float) -> None:
        frames = self.in_progress.get(index, (0.0, 0))[1] + 1
        if done:
            self.finished.append(score)
            self.in_progress.pop(index, None)
            print(f"episode {len(self.finished)}: {score:g} {self.label} in {frames} frames", flush=True)
        else:
            self.in_progress[index] = (score, frames)

    def summary(self) -> None:
        if not self.finished and not self.in_progress:
            return
        parts = []
        if self.finished:
            scores = np.asarray(self.finished)
            stats = f"mean {scores.mean():.1f}, min {scores.min():g}, max {scores.max():g}"
            parts.append(f"{len(scores)} episode(s) finished: {self.label} {stats}")
        for score, frames in self.in_progress.values():
            parts.append(f"one cut short by the step budget at {score:g} {self.label} after {frames} frames")
        print("; ".join(parts), flush=True)
        self.finished, self.in_progress = [], {}


@contextmanager
def _reporting_scores() -> Iterator[None]:
    """While a zoo script runs, the envs it makes report their scores (see :class:`_ScoreReport`)."""
    import rl_zoo3.enjoy
    import rl_zoo3.utils

    original = rl_zoo3.utils.create_test_env

    def create_test_env(*args: Any, **kwargs: Any) -> Any:
        return _ScoreReport().wrap(original(*args, **kwargs))

    rl_zoo3.utils.create_test_env = rl_zoo3.enjoy.create_test_env = create_test_env
    try:
        yield
    finally:
        rl_zoo3.utils.create_test_env = rl_zoo3.enjoy.create_test_env = original


def _run(prog: str, entry: Callable[[], None], argv: Sequence[str], agent: str) -> int:
    """Run a zoo script with ``argv``; ``agent`` names the agent it loads, for the numpy-2 message."""
    from sb3_behave.agents import ALGORITHMS
    from sb3_behave.zoo.registry import register_algorithms

    if _option(argv, "--algo") in ALGORITHMS:
        require_imitation()
    register_algorithms()
    saved = sys.argv
    sys.argv = [prog, *argv]
    try:
        entry()
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    except AssertionError as error:  # the zoo checks its inputs with asserts ("The logs/ppo folder was not found")
        if os.environ.get("SB3_BEHAVE_DEBUG") or not str(error):
            raise
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if os.environ.get("SB3_BEHAVE_DEBUG"):
            raise
        if is_numpy2_pickle_error(error):
            print(f"{prog}: error: {numpy2_pickle_message(agent)}", file=sys.stderr)
            return 2
        if not _is_network_error(error):
            raise
        print(
            f"{prog}: error: the agent is not on this machine and the Hugging Face hub could not be reached "
            f"({type(error).__name__}): train one with `sb3-behave train`, or pass -f with a folder of trained agents",
            file=sys.stderr,
        )
        return 2
    finally:
        sys.argv = saved
    return 0


def train(argv: Sequence[str]) -> int:
    """``rl_zoo3.train`` with sb3-behave's algorithms; ``argv`` are the zoo's own arguments."""
    from rl_zoo3.train import train as zoo_train

    argv = list(argv)
    algo = _option(argv, "--algo") or "ppo"
    from sb3_behave.agents import ALGORITHMS

    conf = resolve_config(_option(argv, "-conf", "--conf-file"))
    if conf is not None:
        argv = _with_option(argv, ("-conf", "--conf-file"), conf)
    asks_help = "-h" in argv or "--help" in argv
    if algo in ALGORITHMS and conf is None and not asks_help:
        raise ValueError(
            f"--algo {algo}: the zoo has no built-in hyperparameters for it: pass -conf zoo_configs/{algo}.yml "
            "(shipped with sb3-behave; a file of yours by its path)"
        )
    if conf is not None and not asks_help and conf.endswith((".yml", ".yaml")):  # else a Python file or module
        from sb3_behave.zoo.config import check_config_entry
        from sb3_behave.zoo.registry import register_algorithms

        if algo in ALGORITHMS:
            require_imitation()
        register_algorithms()
        check_config_entry(conf, algo, _option(argv, "--env") or "CartPole-v1")
    return _run("sb3-behave train", zoo_train, argv, _option(argv, "-i", "--trained-agent") or "the trained agent (-i)")


def enjoy(argv: Sequence[str]) -> int:
    """``rl_zoo3.enjoy`` with sb3-behave's algorithms and pretrained agents."""
    from rl_zoo3.enjoy import enjoy as zoo_enjoy

    argv = with_default_folder(argv)
    with _reporting_scores():
        return _run("sb3-behave enjoy", zoo_enjoy, argv, _agent_label(argv))


def record_video(argv: Sequence[str]) -> int:
    """``rl_zoo3.record_video`` with sb3-behave's algorithms and pretrained agents."""
    import runpy

    try:
        import moviepy  # noqa: F401
    except ImportError:
        raise ValueError("record-video writes mp4 files with moviepy: pip install 'sb3-behave[video]'") from None

    def zoo_record_video() -> None:  # the zoo's script has no function to call: run it as __main__
        runpy.run_module("rl_zoo3.record_video", run_name="__main__")

    argv = with_default_folder(argv)
    folder = _option(argv, "-f", "--folder")
    if folder is not None and Path(folder) == PRETRAINED_FOLDER and _option(argv, "-o", "--output-folder") is None:
        # The zoo writes next to the agent by default: never into the installed package.
        argv += ["-o", "videos"]
        print(f"videos go to {Path('videos').resolve()} (-o to choose another folder)", flush=True)
    with _reporting_scores():
        return _run("sb3-behave record-video", zoo_record_video, argv, _agent_label(argv))
