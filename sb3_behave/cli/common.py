"""What several commands share: how they make their env, how they print statistics and write tables."""

from __future__ import annotations

import argparse
import json
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the flag and what it expects (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def whole(minimum: int = 1, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (and at most ``maximum``)."""
    expected = f"a whole number >= {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum:,}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value:,}")
        return value

    parse.__name__ = expected.removeprefix("a ")
    return parse


def real(low: float | None = None, high: float | None = None, open_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in ``[low, high]`` (``(low, high]`` with ``open_low``)."""
    bounds = f"{'(' if open_low else '['}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {bounds}, got {text!r}") from None
        too_low = low is not None and (value <= low if open_low else value < low)
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected a number in {bounds}, got {text}")
        return value

    parse.__name__ = f"number in {bounds}"
    return parse


#: A seed: numpy takes whole numbers >= 0.
SEED = whole(0)
#: A count of episodes, steps, points...
COUNT = whole(1)
#: A probability.
PROBABILITY = real(0.0, 1.0)
#: A positive number (a speed, a span, a duration).
POSITIVE = real(0.0, open_low=True)


def add_env_arguments(parser: argparse.ArgumentParser, time_limit: bool = True) -> None:
    """``--env``, ``--env-kwargs`` (and ``--max-episode-steps``): how commands make their env."""
    parser.add_argument("--env", default="sb3_behave/FlappyBird-v0", help="env id (default: %(default)s)")
    parser.add_argument(
        "--env-kwargs", nargs="*", metavar="KEY=VALUE", help="keyword arguments of gym.make (or KEY:VALUE, or one JSON object)"
    )
    if time_limit:
        parser.add_argument("--max-episode-steps", type=COUNT, default=None, help="override the env's time limit")


def parse_env_kwargs(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["obs_type=lidar", "score_limit:10"]`` -> ``{"obs_type": "lidar", "score_limit": 10}``.

    :param pairs: ``KEY=VALUE`` or ``KEY:VALUE`` (the zoo's form) strings, or one JSON object; a value
        that is valid JSON is decoded (``True``, ``False`` and ``None`` too, in any case), else kept as a string
    :raises ValueError: a pair without a key and a value, or a JSON object that is not one
    """
    pairs = list(pairs or [])
    if len(pairs) == 1 and pairs[0].lstrip().startswith("{"):
        try:
            kwargs = json.loads(pairs[0])
        except json.JSONDecodeError as error:
            raise ValueError(f"--env-kwargs: {pairs[0]!r} is not a JSON object ({error.msg})") from None
        if not isinstance(kwargs, dict):
            raise ValueError(f"--env-kwargs: {pairs[0]!r} is not a JSON object")
        return kwargs
    kwargs = {}
    for pair in pairs:
        cut = min((i for i in (pair.find(":"), pair.find("=")) if i > 0), default=-1)
        if cut < 0:
            raise ValueError(f"--env-kwargs: {pair!r} is not KEY=VALUE (example: obs_type=lidar)")
        key, value = pair[:cut], pair[cut + 1 :]
        literal = {"true": "true", "false": "false", "none": "null"}.get(value.lower(), value)
        try:
            kwargs[key] = json.loads(literal)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def print_stats(summary: dict[str, Any]) -> None:
    """The score, return and length lines of a demonstration summary."""
    for key in ("score", "return", "length"):
        stats = summary.get(key)
        if stats is not None:
            print(f"  {key:<12} mean {stats['mean']:.2f}   min {stats['min']:.2f}   max {stats['max']:.2f}")


def print_and_write(text: str, markdown_out: Path | None) -> None:
    """Print a benchmark's text, and write it to ``markdown_out`` if given."""
    print(text)
    if markdown_out is not None:
        markdown_out.parent.mkdir(parents=True, exist_ok=True)
        markdown_out.write_text(text + "\n")
        print(f"\ntable written to {markdown_out}")


def add_trust_code_argument(parser: argparse.ArgumentParser) -> None:
    """``--trust-code``: the agent's files read with SB3's own unpickling (see :mod:`sb3_behave.untrusted`)."""
    parser.add_argument(
        "--trust-code",
        action="store_true",
        help="read the agent's files (model .zip, run folder) with SB3's and the zoo's own unpickling and YAML, which "
        "run code a file may hold; without it they are read as data and a file that holds code is refused",
    )


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within: SIGTERM raises ``KeyboardInterrupt``, as Ctrl-C does, so a command stops cleanly on either.

    Each command keeps what it has written (answers, episodes: one file each, written atomically)
    and says how far it got.
    """
    import signal

    def interrupt(number: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
