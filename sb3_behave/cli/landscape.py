"""``sb3-behave landscape``: the imitation loss and the RL loss of one policy on the same slice of its weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import (
    POSITIVE,
    PROBABILITY,
    SEED,
    add_env_arguments,
    add_trust_code_argument,
    parse_env_kwargs,
    whole,
)

#: The most points per axis of a landscape's grid, and grid points per batch.
MAX_GRID = 401
MAX_CHUNK = 4096


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "landscape",
        help="IL and RL loss landscapes of one policy on demonstration sets: figures, JSON, TensorBoard",
        description=(
            "Draw the imitation loss (cross-entropy or MSE to the demonstrated actions) and the RL loss "
            "(REINFORCE weighted by the demonstrations' discounted reward-to-go) of one policy over the same "
            "2-D slice theta0 + alpha*d1 + beta*d2 of its actor's weights, for each demonstration set. "
            "Writes OUT/<set>.png (IL | RL | standardized difference, with the minima), OUT/landscape.json "
            "(grids, axes, and the agreement: Pearson and Spearman correlation of the surfaces, distance "
            "between their minima, cosine of the two gradients at theta0) and TensorBoard events in "
            "OUT/tensorboard. Demonstrations are checked against --env with --env-kwargs: demonstrations "
            "recorded with reward_mode=score need --env-kwargs reward_mode=score."
        ),
    )
    add_env_arguments(parser, time_limit=False)
    parser.add_argument(
        "--demos", nargs="+", required=True, help="one demonstration set each: a demo folder or file, or a Minari dataset"
    )
    parser.add_argument(
        "--directions",
        choices=("weights", "filter", "gradients"),
        default="filter",
        help="the slice: two scalar weights (--weights), filter-normalized random directions (Li et al. 2018), "
        "or the IL and RL gradients at theta0 (default: %(default)s)",
    )
    parser.add_argument("--grid", type=whole(2, MAX_GRID), default=41, help="points per axis, 2 to 401 (default: %(default)s)")
    parser.add_argument("--span", type=POSITIVE, default=1.0, help="the grid covers [-span, span] (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("reports/landscape"), help="output folder (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier report in --out (refused without it)")
    parser.add_argument(
        "--policy", default="fresh", help="'fresh' (a random init of --algo's MlpPolicy), a model .zip or an RL Zoo run folder"
    )
    add_trust_code_argument(parser)
    parser.add_argument(
        "--algo", default=None, help="algorithm of the policy: ppo, a2c, trpo (default: ppo; inferred for a zoo folder)"
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the fresh policy and the random directions")
    parser.add_argument(
        "--il-loss", choices=("ce", "mse", "nll"), default=None, help="IL loss (default: ce for Discrete, nll for Box)"
    )
    parser.add_argument("--gamma", type=PROBABILITY, default=0.99, help="discount of the reward-to-go (default: %(default)s)")
    parser.add_argument(
        "--baseline",
        choices=("none", "mean", "time"),
        default="none",
        help="subtracted from the reward-to-go: the mean return, or the mean at each time step (default: %(default)s)",
    )
    parser.add_argument("--normalize-returns", action="store_true", help="standardize the reward-to-go of each set")
    parser.add_argument(
        "--weights",
        nargs=2,
        default=None,
        metavar="NAME[i,j]",
        help="the two scalar weights of --directions weights (default: the first two of the last layer, "
        "action_net.weight[0,0] and action_net.weight[0,1])",
    )
    parser.add_argument(
        "--bias", choices=("zero", "copy"), default="zero", help="filter direction of biases and log_std (default: zero)"
    )
    parser.add_argument(
        "--method", choices=("auto", "mlp", "vmap"), default="auto", help="grid evaluation (default: %(default)s)"
    )
    parser.add_argument(
        "--chunk-size", type=whole(1, MAX_CHUNK), default=None, help="grid points per batch, up to 4,096 (default: automatic)"
    )
    parser.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard events")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave.landscape.directions import DEFAULT_WEIGHTS
    from sb3_behave.landscape.report import LandscapeConfig, landscape_report

    if args.weights and args.directions != "weights":
        raise ValueError(
            f"--weights chooses the weights of --directions weights; with --directions {args.directions} it does nothing"
        )
    config = LandscapeConfig(
        directions=args.directions,
        grid=args.grid,
        span=args.span,
        il_loss=args.il_loss,
        gamma=args.gamma,
        baseline=args.baseline,
        normalize_returns=args.normalize_returns,
        weights=tuple(args.weights or DEFAULT_WEIGHTS),
        seed=args.seed,
        bias=args.bias,
        method=args.method,
        chunk_size=args.chunk_size,
    )
    landscape_report(
        args.env,
        args.demos,
        args.out,
        config,
        policy=args.policy,
        algo=args.algo,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        tensorboard=not args.no_tensorboard,
        progress=not args.no_progress,
        overwrite=args.overwrite,
    )
    return 0
