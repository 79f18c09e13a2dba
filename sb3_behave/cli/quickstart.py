"""``sb3-behave quickstart``: the package's end-to-end story in one run."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import COUNT, SEED, whole


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "quickstart",
        help="the end-to-end story: demonstrations, BC warm start, fine-tuning, loss landscapes",
        description=(
            "Play Flappy Bird with the scripted expert and save a frame, record poor and strong "
            "demonstration sets, warm-start PPO by BC on the strong set and fine-tune it (TensorBoard logs, "
            "a saved model), draw the IL and RL loss landscapes of poor and strong play; prints where "
            "everything went."
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="run again into an --out that holds an earlier run")
    parser.add_argument(
        "--episodes", type=COUNT, default=5, help="expert episodes, and episodes per demonstration set (default: %(default)s)"
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of everything (default: %(default)s)")
    parser.add_argument("--max-steps", type=COUNT, default=10_000, help="frames per episode at most (default: %(default)s)")
    parser.add_argument("--bc-epochs", type=COUNT, default=20, help="epochs of BC in the warm start (default: %(default)s)")
    parser.add_argument(
        "--fine-tune-steps",
        type=whole(0),
        default=100_000,
        help="PPO env steps after the warm start, rounded up to whole rollouts of 4,096 (default: %(default)s)",
    )
    parser.add_argument(
        "--landscape-grid", type=whole(2), default=41, help="points per axis of the landscapes (default: %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave import quickstart

    quickstart.run(
        out=args.out,
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        bc_epochs=args.bc_epochs,
        fine_tune_steps=args.fine_tune_steps,
        landscape_grid=args.landscape_grid,
        overwrite=args.overwrite,
    )
    return 0
