"""What several commands share: how they make their env, how they print statistics and write tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence


def add_env_arguments(parser: argparse.ArgumentParser, time_limit: bool = True) -> None:
    """``--env``, ``--env-kwargs`` (and ``--max-episode-steps``): how commands make their env."""
    parser.add_argument("--env", default="sb3_behave/FlappyBird-v0", help="env id (default: %(default)s)")
    parser.add_argument("--env-kwargs", nargs="*", metavar="KEY=VALUE", help="keyword arguments of gym.make")
    if time_limit:
        parser.add_argument("--max-episode-steps", type=int, default=None, help="override the env's time limit")


def parse_env_kwargs(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["obs_type=lidar", "score_limit=10"]`` -> ``{"obs_type": "lidar", "score_limit": 10}``.

    :param pairs: ``KEY=VALUE`` strings; a value that is valid JSON is decoded, else kept as a string
    """
    kwargs = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env-kwargs: {pair!r} is not KEY=VALUE (example: obs_type=lidar)")
        try:
            kwargs[key] = json.loads(value)
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
