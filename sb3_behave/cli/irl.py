"""``sb3-behave irl``: maximum causal entropy IRL on a toy-text env; the recovered reward as a heat map, and how good it is."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sb3_behave.cli.common import POSITIVE, SEED, parse_env_kwargs, real, whole


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "irl",
        help="maximum causal entropy IRL on a tabular env: recover a reward from demonstrations",
        description=(
            "Maximum causal entropy IRL (imitation's MCEIRL) on a gymnasium toy-text env: FrozenLake-v1, "
            "CliffWalking (-v1 on gymnasium 1.x, -v0 on 0.29), Taxi (-v4 / -v3). The tabular model is built from the "
            "env's own transition table, with a reward per state (the reward of arriving in it), terminal states "
            "leading to an absorbing end state and a finite horizon. An expert, soft-optimal for the true reward, "
            "gives --demos trajectories; MCE IRL recovers a reward per state from them. The policy that is "
            "soft-optimal for the recovered reward is scored under the TRUE reward, exactly (expected return "
            "from the state distributions, no sampling), against the expert and a random policy. "
            "Writes OUT/reward.png (true vs recovered reward over the grid; a scatter for Taxi) and "
            "OUT/results.json (returns, fraction of the expert, iterations, the recovered reward, settings)."
        ),
    )
    parser.add_argument("--env", default="FrozenLake-v1", help="a toy-text env id (default: %(default)s)")
    parser.add_argument(
        "--env-kwargs",
        nargs="*",
        metavar="KEY:VALUE",
        help="keyword arguments of gym.make: KEY:VALUE pairs (is_slippery:False map_name:8x8) or one JSON object",
    )
    parser.add_argument(
        "--demos",
        type=whole(0, 100_000),
        default=100,
        help="expert trajectories sampled as demonstrations, up to 100,000; 0: the expert's exact occupancy measure "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--horizon",
        type=whole(1, 10_000),
        default=None,
        help="steps per episode, up to 10,000 (default: the env's time limit, else 100)",
    )
    parser.add_argument(
        "--discount", type=real(0.0, 1.0, open_low=True), default=0.99, help="discount in (0, 1] (default: %(default)s)"
    )
    parser.add_argument(
        "--expert-beta",
        type=POSITIVE,
        default=1000.0,
        help="the expert's inverse temperature per unit of the largest absolute reward: it is soft-optimal for "
        "BETA * reward / max|reward| (large: nearly deterministic; default: %(default)s)",
    )
    parser.add_argument(
        "--iterations",
        "--max-iter",
        type=whole(1, 1_000_000),
        default=500,
        help="most MCE IRL iterations, up to 1,000,000 (default: %(default)s)",
    )
    parser.add_argument("--learning-rate", type=POSITIVE, default=0.1, help="Adam's learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the demonstrations and the reward's init (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("reports/irl"), help="output folder (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier report in --out (refused without it)")
    parser.add_argument("--tensorboard-log", type=Path, default=None, help="write MCE IRL's log to TensorBoard in this folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave.outputs import check_folder, check_output, write_text

    out = check_output(args.out, args.overwrite)
    check_folder("--tensorboard-log", args.tensorboard_log)
    from sb3_behave.irl import MCEIRLConfig, run_mce_irl, save_reward_plot, tabular_model

    config = MCEIRLConfig(
        demos=args.demos,
        horizon=args.horizon,
        discount=args.discount,
        expert_beta=args.expert_beta,
        iterations=args.iterations,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    model = tabular_model(args.env, horizon=args.horizon, **parse_env_kwargs(args.env_kwargs))
    result = run_mce_irl(model, config, progress=not args.no_progress, tensorboard_log=args.tensorboard_log)
    out.mkdir(parents=True, exist_ok=True)
    save_reward_plot(model, result.reward, out / "reward.png")
    write_text(out / "results.json", json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
    print(result.report())
    print(f"written to {out}: reward.png, results.json")
    return 0
