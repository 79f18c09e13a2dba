"""The two supported dependency stacks, what is installed, and where the stacks differ.

sb3-behave runs on two stacks (docs/install.md):

- *current*: stable-baselines3 / sb3-contrib / rl_zoo3 2.9 or newer, gymnasium >= 1.2, numpy >= 2,
  and imitation 1.0.1's code installed without its stale pins;
- *pinned*: imitation 1.0.1 with its own pins (stable-baselines3 2.2, gymnasium 0.29.1, numpy 1).

This module imports nothing heavy; ``python -m sb3_behave.stack`` prints the installed stack, and
``--check current`` (or ``pinned``) exits with status 1 when the installed versions do not make
that stack.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, Iterator, Sequence

#: imitation's last release, whose code sb3-behave composes.
IMITATION_REQUIREMENT = "imitation==1.0.1"
#: The one command that adds imitation to the current stack without its pins.
IMITATION_INSTALL = f"pip install --no-deps {IMITATION_REQUIREMENT}"
#: d3rlpy for offline RL (``--algo cql``, ``iql``), by stack: its code without its metadata's ``gym``
#: notice package (which prints four lines into every SB3 process) and, for 2.8.1, gymnasium==1.0.0 pin.
#: 2.8.0 runs on gymnasium >= 1, 2.6.1 on gymnasium 0.29 (later releases refuse it at import).
D3RLPY_REQUIREMENTS = {"current": "d3rlpy>=2.8.0,!=2.8.1,<2.9", "pinned": "d3rlpy==2.6.1"}
#: The old ``gym`` package, which d3rlpy imports (for type checks) in most of its modules.
GYM_FOR_D3RLPY = "gym==0.26.2"
#: The packages that make a stack, in the order they are shown.
PACKAGES = (
    "stable-baselines3",
    "sb3-contrib",
    "rl_zoo3",
    "gymnasium",
    "numpy",
    "numba",
    "torch",
    "imitation",
    "pyarrow",
    "minari",
    "d3rlpy",
)


class MissingDependencyError(ImportError):
    """A library that a feature needs is not installed; the message gives the command that installs it."""


class MissingImitationError(MissingDependencyError):
    """imitation is not installed; the message gives the command that installs it."""


#: The two distributions of the ``pygame`` module, by the stack whose extras install each.
PYGAME_DISTRIBUTIONS = {"current": "pygame-ce", "pinned": "pygame"}


def require_imitation() -> None:
    """Raise :class:`MissingImitationError`, naming the install command, when imitation is missing.

    Called by every sub-package that builds on imitation, before it imports it.
    """
    if importlib.util.find_spec("imitation") is None:
        raise MissingImitationError(
            f"sb3-behave needs the imitation library, which is not installed: run `{IMITATION_INSTALL}` "
            "(current stack), or `pip install 'sb3-behave[pinned]'` for the imitation-pinned stack"
        )


def d3rlpy_install(stack: str | None = None) -> str:
    """The commands that add d3rlpy to a stack (default: the installed one; ``current`` when it is neither).

    :param stack: ``"current"`` or ``"pinned"``
    """
    stack = stack or stack_name()
    requirement = D3RLPY_REQUIREMENTS.get(stack, D3RLPY_REQUIREMENTS["current"])
    return f"pip install 'sb3-behave[offline]' && pip install --no-deps '{requirement}' {GYM_FOR_D3RLPY}"


def require_d3rlpy(what: str = "offline RL") -> None:
    """Raise :class:`MissingDependencyError`, naming the install commands, when d3rlpy is missing.

    :param what: the feature that needs it, for the message (``"cql"``)
    """
    needed = ("d3rlpy", "gym", "structlog", "dataclasses_json", "h5py")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(
            f"{what} (offline RL) needs d3rlpy, and {', '.join(missing)} is not installed: run `{d3rlpy_install()}`"
        )


def pygame_distributions() -> list[str]:
    """The installed distributions that provide the ``pygame`` module (``pygame-ce``, ``pygame``), usually one."""
    found = []
    for name in PYGAME_DISTRIBUTIONS.values():
        try:
            version(name)
        except PackageNotFoundError:
            continue
        found.append(name)
    return found


def require_pygame(what: str = "drawing the game") -> None:
    """Raise :class:`MissingDependencyError`, naming the install command, when no ``pygame`` module is installed.

    sb3-behave depends on no pygame distribution (two of them provide the same module, and a
    user's stack already has the one its SB3 and gymnasium use): the game's frames and windows
    use whichever is installed.

    :param what: what needs it, for the message
    """
    if importlib.util.find_spec("pygame") is None:
        raise MissingDependencyError(
            f"{what} needs the pygame module, which is not installed: run `pip install 'sb3-behave[render]'` "
            "(pygame-ce, as SB3 2.9 and gymnasium 1.x use), or `pip install pygame` on the imitation-pinned stack"
        )
    # SDL would turn Ctrl-C and SIGTERM into a quit event that only a window's event loop reads, so a
    # command busy elsewhere (an agent playing) would not stop: leave the signals to Python.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")


def installed_versions() -> dict[str, str | None]:
    """The installed version of each package of :data:`PACKAGES` (``None`` when missing)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def _release(text: str | None) -> tuple[int, ...]:
    """``"2.9.2"`` -> ``(2, 9, 2)``, ``"2.4.0rc1"`` -> ``(2, 4, 0)``; ``None`` -> ``()``."""
    match = re.match(r"\d+(\.\d+)*", text or "")
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


#: What each stack requires of the installed versions: (package, test, what is expected).
REQUIREMENTS: dict[str, list[tuple[str, Callable[[tuple[int, ...]], bool], str]]] = {
    "current": [
        ("stable-baselines3", lambda v: (2, 9) <= v < (3,), ">= 2.9, < 3"),
        ("sb3-contrib", lambda v: (2, 9) <= v < (3,), ">= 2.9, < 3"),
        ("rl_zoo3", lambda v: (2, 9) <= v < (3,), ">= 2.9, < 3"),
        ("gymnasium", lambda v: (1, 2) <= v < (2,), ">= 1.2, < 2"),
        ("numpy", lambda v: (2,) <= v < (3,), ">= 2, < 3"),
        ("imitation", lambda v: v[:3] == (1, 0, 1), "1.0.1"),
    ],
    "pinned": [
        ("stable-baselines3", lambda v: (2, 2, 1) <= v < (2, 3), "~= 2.2.1"),
        ("sb3-contrib", lambda v: (2, 2, 1) <= v < (2, 3), "~= 2.2.1"),
        ("rl_zoo3", lambda v: (2, 2, 1) <= v < (2, 3), "~= 2.2.1"),
        ("gymnasium", lambda v: v[:3] == (0, 29, 1), "0.29.1"),
        ("numpy", lambda v: (1, 22) <= v < (2,), ">= 1.22, < 2"),
        ("imitation", lambda v: v[:3] == (1, 0, 1), "1.0.1"),
        ("pyarrow", lambda v: v < (25,), "< 25"),
    ],
}


def problems(stack: str, versions: dict[str, str | None] | None = None) -> list[str]:
    """What keeps the installed versions from making ``stack`` (empty when they do).

    :param stack: ``"current"`` or ``"pinned"``
    :param versions: package versions (default: :func:`installed_versions`)
    """
    if stack not in REQUIREMENTS:
        raise ValueError(f"unknown stack {stack!r}: expected one of {', '.join(REQUIREMENTS)}")
    versions = installed_versions() if versions is None else versions
    found = []
    for name, test, expected in REQUIREMENTS[stack]:
        installed = versions.get(name)
        if installed is None or not test(_release(installed)):
            found.append(f"{name} {installed or 'is not installed'} (the {stack} stack needs {expected})")
    return found


def pygame_problems(distributions: list[str] | None = None) -> list[str]:
    """What is wrong with the installed pygame: two distributions of the one module (empty when fine).

    :param distributions: the installed pygame distributions (default: :func:`pygame_distributions`)
    """
    distributions = pygame_distributions() if distributions is None else distributions
    if len(distributions) < 2:
        return []
    return [
        f"both {' and '.join(distributions)} are installed: they write the same pygame module over each other; "
        "uninstall both, then install the one of your stack (pygame-ce for the current stack, pygame for the pinned one)"
    ]


def stack_name(versions: dict[str, str | None] | None = None) -> str:
    """``"current"``, ``"pinned"``, or ``"custom"`` for versions that make neither stack."""
    versions = installed_versions() if versions is None else versions
    return next((name for name in REQUIREMENTS if not problems(name, versions)), "custom")


def describe(versions: dict[str, str | None] | None = None) -> str:
    """One line naming the stack and the versions of its packages, as benchmarks print it."""
    versions = installed_versions() if versions is None else versions
    listed = ", ".join(f"{name} {v}" for name, v in versions.items() if v is not None)
    return f"{stack_name(versions)} stack: {listed}"


def machine_description() -> str:
    """One line for benchmark tables: processor, cores, Python, and the stack with its versions."""
    import os
    import platform

    processor = platform.processor() or platform.machine()
    return f"{processor}, {os.cpu_count()} cores, Python {platform.python_version()}; {describe()}"


# --------------------------------------------------------------------------- where the stacks differ
def float_schedule(value: float | Callable[[float], float]) -> Callable[[float], float]:
    """A learning-rate schedule from a float or a callable, without SB3 2.9's deprecation warning.

    SB3 2.9 replaced ``get_schedule_fn`` by the ``FloatSchedule`` class; SB3 2.2 has only the former.
    """
    try:
        from stable_baselines3.common.utils import FloatSchedule
    except ImportError:  # stable-baselines3 < 2.9
        from stable_baselines3.common.utils import get_schedule_fn

        return get_schedule_fn(value)
    return FloatSchedule(value)


def dump_logs(algorithm: Any) -> None:
    """Write an SB3 algorithm's logs: ``dump_logs()`` on SB3 2.9 and newer, ``_dump_logs()`` before."""
    public = getattr(algorithm, "dump_logs", None)
    (public if public is not None else algorithm._dump_logs)()


def is_numpy2_pickle_error(error: BaseException) -> bool:
    """Whether ``error`` is numpy 1 failing to unpickle an object that numpy 2 pickled.

    numpy 2 moved its internals to ``numpy._core``: an SB3 model saved under numpy 2 refers to
    those modules, which numpy 1 does not have (``ModuleNotFoundError``). numpy 2 also pickles
    random generators by class, which numpy 1 refuses (a ``vecnormalize.pkl``: ``ValueError``).
    """
    if isinstance(error, ModuleNotFoundError):
        return (error.name or "").startswith("numpy._core")
    return isinstance(error, ValueError) and "is not a known BitGenerator module" in str(error)


def numpy2_pickle_message(path: Any) -> str:
    """The one-line explanation of :func:`is_numpy2_pickle_error` for the agent at ``path``."""
    import numpy

    return (
        f"{path}: this agent was saved with numpy 2 and cannot be loaded with numpy {numpy.__version__} "
        "(the imitation-pinned stack): load it on the current stack, or train it again on this one"
    )


@contextmanager
def imitation_bc_warning_silenced() -> Iterator[None]:
    """Silence the one warning imitation 1.0.1's BC gives at every batch on recent torch.

    Its logger calls ``float()`` on loss terms that require grad, and torch warns each time
    ("Converting a tensor with requires_grad=True to a scalar"): a library detail in the middle of
    the user's output, and nothing the user can act on.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True", category=UserWarning)
        yield


@contextmanager
def saved_under_numpy2_is_an_error(path: Any) -> Iterator[None]:
    """Turn numpy 1 failing on a numpy-2 pickle into a ``ValueError`` with :func:`numpy2_pickle_message`.

    :param path: the model or run folder being loaded, named in the message
    """
    try:
        yield
    except (ModuleNotFoundError, ValueError) as error:
        if is_numpy2_pickle_error(error):
            raise ValueError(numpy2_pickle_message(path)) from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sb3_behave.stack [--check current|pinned]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sb3_behave.stack",
        description="Print the installed dependency stack; with --check, fail unless it is the given one.",
    )
    parser.add_argument("--check", choices=tuple(REQUIREMENTS), default=None, help="the stack that must be installed")
    args = parser.parse_args(argv)
    print(describe())
    print(f"pygame: {', '.join(pygame_distributions()) or 'not installed (the game draws nothing: see sb3-behave[render])'}")
    if args.check is None:
        return 0
    found = problems(args.check) + pygame_problems()
    for problem in found:
        print(f"  not the {args.check} stack: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
