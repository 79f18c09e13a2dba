"""``sb3-behave bench env|landscape``: the benchmarks whose tables go in benchmarks/README.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sb3_behave.cli.common import COUNT, POSITIVE, print_and_write, whole


def _progress(label: str) -> None:
    print(f"  timing {label} ...", file=sys.stderr, flush=True)


def add_parser(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser(
        "bench",
        help="benchmarks: env throughput, batched landscapes",
        description="Benchmarks whose tables go in benchmarks/README.md.",
    )
    benchmarks = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    env = benchmarks.add_parser(
        "env",
        help="env steps per second against flappy-bird-gymnasium",
        description=(
            "Time sb3_behave/FlappyBird-v0 (one env, through gym.make), FlappyBirdVecEnv and "
            "flappy-bird-gymnasium (if installed: pip install --no-deps flappy-bird-gymnasium==0.4.0) in this process, "
            "on the same observation kind, and print steps per second and the ratios to the peer."
        ),
    )
    env.add_argument(
        "--obs", nargs="+", choices=("features", "lidar"), default=["features", "lidar"], help="observation kinds"
    )
    env.add_argument(
        "--n-envs", type=whole(1, 1_000_000), default=1024, help="games in the VecEnv, up to 1,000,000 (default: 1024)"
    )
    env.add_argument("--seconds", type=POSITIVE, default=2.0, help="length of one timed run (default: %(default)s)")
    env.add_argument("--repeats", type=COUNT, default=3, help="timed runs per figure, median kept (default: %(default)s)")
    env.add_argument("--markdown-out", type=Path, default=None, help="also write the table to this file")
    env.add_argument("--overwrite", action="store_true", help="replace an existing --markdown-out file")
    env.set_defaults(func=run_env)
    landscape = benchmarks.add_parser(
        "landscape",
        help="batched landscape against the one-point-at-a-time loop",
        description=(
            "Compute the IL and RL losses of a fresh PPO MlpPolicy on every point of a GRID x GRID slice over "
            "TRANSITIONS synthetic demonstration transitions, batched, and with the one-point-at-a-time loop "
            "(load_state_dict per point), in one process; print seconds and speedups as a Markdown table, and "
            "whether the goals (10x the loop, under 10 s) are met."
        ),
    )
    landscape.add_argument("--env", default="sb3_behave/FlappyBird-v0", help="env id (default: %(default)s)")
    landscape.add_argument("--grid", type=whole(2, 401), default=41, help="points per axis, 2 to 401 (default: %(default)s)")
    landscape.add_argument(
        "--transitions", type=COUNT, default=10_000, help="demonstration transitions (default: %(default)s)"
    )
    landscape.add_argument(
        "--directions",
        nargs="+",
        choices=("filter", "weights"),
        default=["filter", "weights"],
        help="slices to time: filter (every weight matrix moves), weights (two scalars of the last layer)",
    )
    landscape.add_argument(
        "--loop-points", type=COUNT, default=64, help="grid points the loops evaluate, extrapolated (default: %(default)s)"
    )
    landscape.add_argument(
        "--repeats", type=COUNT, default=3, help="interleaved timing rounds, medians kept (default: %(default)s)"
    )
    landscape.add_argument(
        "--vmap-grid",
        type=whole(0),
        default=11,
        help="points per axis for timing the vmap path, 0 to skip (default: %(default)s)",
    )
    landscape.add_argument("--markdown-out", type=Path, default=None, help="also write the table to this file")
    landscape.add_argument("--overwrite", action="store_true", help="replace an existing --markdown-out file")
    landscape.set_defaults(func=run_landscape)


def run_env(args: argparse.Namespace) -> int:
    from sb3_behave import bench
    from sb3_behave.stack import machine_description

    _check_markdown_out(args)
    if not bench.peer_available():
        peer = "pip install --no-deps flappy-bird-gymnasium==0.4.0"
        print(f"flappy-bird-gymnasium is not installed ({peer}): no peer column", file=sys.stderr)
    first_call = bench.warm_up()
    results = bench.run_env_benchmark(
        obs_types=tuple(args.obs), n_envs=args.n_envs, seconds=args.seconds, repeats=args.repeats, progress=_progress
    )
    lines = [
        f"Machine: {machine_description()}",
        bench.core_description(first_call),
        f"Each figure: median of {args.repeats} runs of {args.seconds:g} s, random actions (10% flaps).",
        "",
        bench.format_table(results),
    ]
    print_and_write("\n".join(lines), args.markdown_out)
    return 0


def _check_markdown_out(args: argparse.Namespace) -> None:
    from sb3_behave.outputs import check_output

    if args.markdown_out is not None:  # before the timing, not after it
        check_output(args.markdown_out, args.overwrite, folder=False, flag="--markdown-out")


def run_landscape(args: argparse.Namespace) -> int:
    import time

    from sb3_behave.landscape import bench

    _check_markdown_out(args)
    wall, cpu = time.perf_counter(), time.process_time()
    results = bench.run_landscape_benchmark(
        env_id=args.env,
        grid=args.grid,
        transitions=args.transitions,
        directions=tuple(args.directions),
        loop_points=args.loop_points,
        repeats=args.repeats,
        vmap_grid=args.vmap_grid,
        progress=_progress,
    )
    # CPU time over wall time: well under the number of torch threads means the machine was shared.
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    header = [
        f"Machine: {bench.machine_description()}; this process got {share:.2f} CPU-seconds per second during the run",
        f"{args.grid}x{args.grid} grid, {args.transitions:,} synthetic transitions of {args.env}, a fresh PPO MlpPolicy; "
        f"IL (cross-entropy) and RL (REINFORCE) losses at every point. Loops timed on {args.loop_points} evenly "
        f"spaced points and extrapolated; each figure is the median of {args.repeats} interleaved rounds.",
    ]
    goals = "\n".join(f"- {line}" for line in bench.goal_lines(results))
    print_and_write("\n".join(header) + "\n\n" + bench.format_table(results) + "\n\n" + goals, args.markdown_out)
    return 0
