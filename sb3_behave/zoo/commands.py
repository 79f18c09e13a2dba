"""``sb3-behave train``, ``enjoy`` and ``record-video``: the RL Zoo's own scripts with sb3-behave's algorithms added.

Every zoo flag works as in ``python -m rl_zoo3.train`` (``--eval-freq``, ``--save-freq``, ``-tb``,
``-i``, ``--seed``, ``--vec-env``, ``-params``, ``-optimize``, ...): the arguments are handed to
the zoo unchanged, after :func:`~sb3_behave.zoo.registry.register_algorithms`. ``train`` adds
``--vec-env flappy`` (:mod:`sb3_behave.zoo.vec_envs`) and the options of a shared Optuna study.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import shutil
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Sequence

import numpy as np

from sb3_behave.limits import without_torch_compiler
from sb3_behave.outputs import check_folder
from sb3_behave.stack import is_numpy2_pickle_error, numpy2_pickle_message, require_imitation
from sb3_behave.untrusted import no_code_from_files
from sb3_behave.zoo.argv import option, with_option
from sb3_behave.zoo.shared_train import SHARED_STUDY_OPTIONS, shared_study
from sb3_behave.zoo.vec_envs import check_native_vec_env, take_vec_env, training_on_native_vec_env

#: Where the package keeps its pretrained agents, in the zoo's layout (``<algo>/<env>_<n>/``).
PRETRAINED_FOLDER = Path(__file__).resolve().parent.parent / "pretrained"
#: The hyperparameter files shipped with the package (``zoo_configs/`` in the repository).
SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "zoo_configs"
#: The zoo's default folder of trained agents (it downloads from the Hugging Face hub into it).
ZOO_DEFAULT_FOLDER = "rl-trained-agents"


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
    if option(argv, "-f", "--folder") is not None:
        return argv
    folder = resolve_folder(ZOO_DEFAULT_FOLDER, option(argv, "--algo") or "ppo", option(argv, "--env") or "CartPole-v1")
    return argv if folder == Path(ZOO_DEFAULT_FOLDER) else [*argv, "-f", str(folder)]


def _agent_label(argv: Sequence[str]) -> str:
    """``FOLDER/ALGO/ENV_*``: the agent ``enjoy`` and ``record-video`` load (the zoo's defaults filled in)."""
    folder = option(argv, "-f", "--folder") or ZOO_DEFAULT_FOLDER
    env = (option(argv, "--env") or "CartPole-v1").replace("/", "-")
    return f"{folder}/{option(argv, '--algo') or 'ppo'}/{env}_*"


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
        from sb3_behave.zoo.loading import without_learned_reward

        if kwargs.get("hyperparams"):  # the agent acts: a learned reward is not needed (enjoy passes it by name)
            kwargs["hyperparams"] = without_learned_reward(kwargs["hyperparams"])
        return _ScoreReport().wrap(original(*args, **kwargs))

    rl_zoo3.utils.create_test_env = rl_zoo3.enjoy.create_test_env = create_test_env
    try:
        yield
    finally:
        rl_zoo3.utils.create_test_env = rl_zoo3.enjoy.create_test_env = original


def import_env_namespace(env_id: str | None) -> None:
    """Import the package that registers a namespaced env id (``seals/CartPole-v0``: ``seals``), when installed.

    gymnasium 1.x no longer imports it by itself; this does what ``--gym-packages seals`` would.
    Ids without a namespace, and namespaces that are no installed package, are left to the zoo.

    :param env_id: the ``--env`` of the command
    """
    namespace = (env_id or "").partition("/")[0] if "/" in (env_id or "") else ""
    if namespace.isidentifier() and importlib.util.find_spec(namespace) is not None:
        importlib.import_module(namespace)


def _run(
    prog: str, entry: Callable[[], None], argv: Sequence[str], agent: str, context: ContextManager[Any] | None = None
) -> int:
    """Run a zoo script with ``argv`` (in ``context``); ``agent`` names the agent it loads, for the numpy-2 message."""
    from sb3_behave.agents import ALGORITHMS
    from sb3_behave.zoo.registry import register_algorithms

    if option(argv, "--algo") in ALGORITHMS:
        require_imitation()
    register_algorithms()
    import_env_namespace(option(argv, "--env"))
    saved = sys.argv
    sys.argv = [prog, *argv]
    try:
        with context or nullcontext():
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


#: sb3-behave's option of ``train``, ``enjoy`` and ``record-video`` (taken out before the zoo parses the rest).
TRUST_CODE = "--trust-code"
TRUST_CODE_HELP = (
    "read the agent's files with the zoo's and SB3's own YAML and unpickling, which run code a file may hold "
    "(without it they are read as data, and a file that holds code is refused): only for agents you trust"
)


def _take_trust_code(argv: Sequence[str]) -> tuple[list[str], bool]:
    return [arg for arg in argv if arg != TRUST_CODE], TRUST_CODE in argv


def _print_trust_code_help(argv: Sequence[str]) -> None:
    if "-h" in argv or "--help" in argv:
        print(f"sb3-behave's option:\n  {TRUST_CODE:<24}{TRUST_CODE_HELP}\n", flush=True)


def train(argv: Sequence[str]) -> int:
    """``rl_zoo3.train`` with sb3-behave's algorithms; ``argv`` are the zoo's own arguments."""
    from rl_zoo3.train import train as zoo_train

    argv, trust = _take_trust_code(argv)
    algo = option(argv, "--algo") or "ppo"
    from sb3_behave.agents import ALGORITHMS

    if "-h" in argv or "--help" in argv:
        print("sb3-behave's options of -optimize --storage (workers sharing one Optuna study; docs/guide/many_machines.md):")
        for name, (takes_value, text) in SHARED_STUDY_OPTIONS.items():
            print(f"  {name + (' N' if takes_value else ''):<24}{text}")
        print("sb3-behave's value of --vec-env:")
        print(f"  {'--vec-env flappy':<24}train and evaluate on FlappyBirdVecEnv (sb3_behave/FlappyBird-v0 only): all games")
        print(f"  {'':<24}in one compiled step, same seeds and env_kwargs as --vec-env dummy (docs/guide/flappy_bird.md)")
        print(f"  {TRUST_CODE:<24}accept policy_kwargs written as Python text and !!python tags in -conf, and read a -i")
        print(f"  {'':<24}agent with SB3's own unpickling: the zoo runs the code these hold (only for files you trust)")
        print(flush=True)
        shared: ContextManager[Any] = nullcontext()  # nothing checked: the zoo prints its help and exits
        argv = [arg for arg in argv if arg.partition("=")[0] not in SHARED_STUDY_OPTIONS]
    else:
        argv, shared = shared_study(argv)
    argv, native_vec_env = take_vec_env(argv)
    if native_vec_env is not None and not ("-h" in argv or "--help" in argv):
        check_native_vec_env(native_vec_env, option(argv, "--env") or "CartPole-v1")
        shared = _both(shared, training_on_native_vec_env(native_vec_env))

    _check_zoo_arguments(argv)
    conf = resolve_config(option(argv, "-conf", "--conf-file"))
    if conf is not None:
        argv = with_option(argv, ("-conf", "--conf-file"), conf)
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
        check_config_entry(conf, algo, option(argv, "--env") or "CartPole-v1", trust_code=trust)
    runs = Path(option(argv, "-f", "--log-folder") or "logs") / algo
    pattern = f"{(option(argv, '--env') or 'CartPole-v1').replace('/', '-')}_*"
    before = set(runs.glob(pattern))
    made = [folder for folder in (runs.parent, runs) if not folder.exists()]  # logs/ and logs/<algo>, if the run makes them
    status: int | None = None
    try:
        status = _run(  # -conf's YAML and a -i agent are read as data too
            "sb3-behave train",
            zoo_train,
            argv,
            option(argv, "-i", "--trained-agent") or "the trained agent (-i)",
            _both(shared, no_code_from_files(trust)),
        )
        return status
    finally:
        if status != 0:  # refused, failed or stopped by an error: its empty run folder would take the next id
            for folder in sorted(set(runs.glob(pattern)) - before):
                if folder.is_dir() and not _holds_results(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    print(f"{folder}: removed, the run stopped before it trained (the next run takes its id)", flush=True)
            for folder in reversed(made):  # the folders made for it, left empty
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


def _check_zoo_arguments(argv: Sequence[str]) -> None:
    """What the zoo would find wrong only after printing its set-up (or in a traceback): checked first, one line each."""
    if "-h" in argv or "--help" in argv:
        return
    algo = option(argv, "--algo")
    if algo is not None:
        from rl_zoo3.utils import ALGOS

        from sb3_behave.agents import ALGORITHMS, algorithm_class
        from sb3_behave.zoo.registry import register_algorithms

        if algo in ALGORITHMS:  # ours: imitation, or d3rlpy for cql, missing is said so, not "unknown algorithm"
            algorithm_class(algo)
        register_algorithms()
        if algo not in ALGOS:
            close = [algo.lower()] if algo.lower() in ALGOS else difflib.get_close_matches(algo, list(ALGOS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"--algo {algo!r}: unknown algorithm{hint}; the zoo has {', '.join(sorted(ALGOS))}")
    for flags in (("-f", "--log-folder", "--folder"), ("-tb", "--tensorboard-log"), ("-o", "--output-folder")):
        check_folder(flags[0], option(argv, *flags))


#: What the zoo writes into a run folder before training starts.
_SET_UP_FILES = ("config.yml", "args.yml", "command.txt", "env_kwargs.yml")


def _holds_results(folder: Path) -> bool:
    """Whether a run folder holds anything training made: a model, an evaluation, a finished episode."""
    for path in folder.rglob("*"):
        if path.is_dir() or path.name in _SET_UP_FILES:
            continue
        if path.name.endswith("monitor.csv"):
            with open(path, encoding="utf-8", errors="replace") as file:
                if sum(1 for _ in zip(range(3), file)) <= 2:  # the header lines only: no episode finished
                    continue
        return True
    return False


@contextmanager
def _both(outer: ContextManager[Any], inner: ContextManager[Any]) -> Iterator[None]:
    with outer, inner:
        yield


def enjoy(argv: Sequence[str]) -> int:
    """``rl_zoo3.enjoy`` with sb3-behave's algorithms and pretrained agents; the agent's files are read as data."""
    from rl_zoo3.enjoy import enjoy as zoo_enjoy

    argv, trust = _take_trust_code(argv)
    _print_trust_code_help(argv)
    _check_zoo_arguments(argv)
    argv = with_default_folder(argv)
    with _reporting_scores(), no_code_from_files(trust), without_torch_compiler():
        return _run("sb3-behave enjoy", zoo_enjoy, argv, _agent_label(argv))


def record_video(argv: Sequence[str]) -> int:
    """``rl_zoo3.record_video`` with sb3-behave's algorithms and pretrained agents; the agent's files are read as data."""
    import runpy

    try:
        import moviepy  # noqa: F401
    except ImportError:
        raise ValueError("record-video writes mp4 files with moviepy: pip install 'sb3-behave[video]'") from None

    def zoo_record_video() -> None:  # the zoo's script has no function to call: run it as __main__
        runpy.run_module("rl_zoo3.record_video", run_name="__main__")

    argv, trust = _take_trust_code(argv)
    _print_trust_code_help(argv)
    _check_zoo_arguments(argv)
    argv = with_default_folder(argv)
    folder = option(argv, "-f", "--folder")
    if folder is not None and Path(folder) == PRETRAINED_FOLDER and option(argv, "-o", "--output-folder") is None:
        # The zoo writes next to the agent by default: never into the installed package.
        argv += ["-o", "videos"]
        print(f"videos go to {Path('videos').resolve()} (-o to choose another folder)", flush=True)
    with _reporting_scores(), no_code_from_files(trust), without_torch_compiler():
        return _run("sb3-behave record-video", zoo_record_video, argv, _agent_label(argv))
