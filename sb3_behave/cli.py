"""The ``sb3-behave`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

DESCRIPTION = """\
sb3-behave: learn behaviours from demonstrations and from rewards with Stable-Baselines3.

Commands:
  quickstart   the end-to-end story: the scripted expert plays Flappy Bird (more steps come
               with each release: demonstrations, BC warm start, fine-tuning, landscapes)
  bench env    steps per second of the Flappy Bird env against flappy-bird-gymnasium
"""


def _cmd_quickstart(args: argparse.Namespace) -> int:
    from sb3_behave import quickstart

    quickstart.run(out=args.out, episodes=args.episodes, seed=args.seed, max_steps=args.max_steps)
    return 0


def _cmd_bench_env(args: argparse.Namespace) -> int:
    from sb3_behave import bench

    if not bench.peer_available():
        print("flappy-bird-gymnasium is not installed (pip install 'sb3-behave[bench]'): no peer column", file=sys.stderr)
    results = bench.run_env_benchmark(
        obs_types=tuple(args.obs),
        n_envs=args.n_envs,
        seconds=args.seconds,
        repeats=args.repeats,
        progress=lambda label: print(f"  timing {label} ...", file=sys.stderr, flush=True),
    )
    table = bench.format_table(results)
    print(f"Machine: {bench.machine_description()}")
    print(f"Each figure: median of {args.repeats} runs of {args.seconds:g} s, random actions (10% flaps).\n")
    print(table)
    if args.markdown_out is not None:
        args.markdown_out.parent.mkdir(parents=True, exist_ok=True)
        args.markdown_out.write_text(table + "\n")
        print(f"\ntable written to {args.markdown_out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sb3-behave`` command."""
    parser = argparse.ArgumentParser(
        prog="sb3-behave", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from sb3_behave import __version__

    parser.add_argument("--version", action="version", version=f"sb3-behave {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    quick = commands.add_parser(
        "quickstart",
        help="the end-to-end story of the package in one run",
        description="Play Flappy Bird with the scripted expert and save a frame; prints where everything went.",
    )
    quick.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder (default: %(default)s)")
    quick.add_argument("--episodes", type=int, default=3, help="expert episodes to play (default: %(default)s)")
    quick.add_argument("--seed", type=int, default=0, help="seed of everything (default: %(default)s)")
    quick.add_argument("--max-steps", type=int, default=2_000, help="frames per episode at most (default: %(default)s)")
    quick.set_defaults(func=_cmd_quickstart)

    bench = commands.add_parser("bench", help="benchmarks", description="Benchmarks whose tables go in benchmarks/README.md.")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    env = bench_commands.add_parser(
        "env",
        help="env steps per second against flappy-bird-gymnasium",
        description=(
            "Time sb3_behave/FlappyBird-v0 (one env, through gym.make), FlappyBirdVecEnv and "
            "flappy-bird-gymnasium (if installed: pip install 'sb3-behave[bench]') in this process, "
            "on the same observation kind, and print steps per second and the ratios to the peer."
        ),
    )
    env.add_argument(
        "--obs", nargs="+", choices=("features", "lidar"), default=["features", "lidar"], help="observation kinds"
    )
    env.add_argument("--n-envs", type=int, default=1024, help="games in the VecEnv (default: %(default)s)")
    env.add_argument("--seconds", type=float, default=2.0, help="length of one timed run (default: %(default)s)")
    env.add_argument("--repeats", type=int, default=3, help="timed runs per figure, median kept (default: %(default)s)")
    env.add_argument("--markdown-out", type=Path, default=None, help="also write the table to this file")
    env.set_defaults(func=_cmd_bench_env)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sb3-behave`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
