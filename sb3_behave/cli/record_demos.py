"""``sb3-behave record-demos``: a program plays (the scripted expert, random play, a trained agent) and is recorded."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import (
    COUNT,
    PROBABILITY,
    SEED,
    add_env_arguments,
    add_trust_code_argument,
    parse_env_kwargs,
    print_stats,
    real,
)
from sb3_behave.cli.demos import print_dart


def add_parser(commands: argparse._SubParsersAction) -> None:
    from sb3_behave.agents import SKILL_PRESETS

    parser = commands.add_parser(
        "record-demos",
        help="let a program play (scripted expert, random, a trained agent) and record it",
        description=(
            "Let the scripted expert, random play or a trained agent (a model .zip or an RL Zoo run folder) play "
            "and record the episodes. For Flappy Bird, --skill poor|medium|strong|precise picks a demonstrator: "
            + "; ".join(f"{name}: {preset.description}" for name, preset in SKILL_PRESETS.items())
            + ". With --dart SIGMA (DART, Laskey et al. 2017) the env executes a perturbed version of the expert's "
            "action and the episode records the expert's own action, so the demonstrations cover recovery states."
        ),
    )
    add_env_arguments(parser)
    parser.add_argument(
        "--expert",
        default="scripted",
        help="scripted (the steady Flappy Bird expert), precise, random, a model .zip or a zoo run folder",
    )
    parser.add_argument(
        "--algo", default=None, help="algorithm of a model .zip (default ppo) or zoo folder (default: inferred)"
    )
    parser.add_argument("--episodes", type=COUNT, default=10, help="episodes to record (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="demonstration folder (episodes are added)")
    parser.add_argument("--epsilon", type=PROBABILITY, default=None, help="probability of a random action at each step")
    parser.add_argument(
        "--dart",
        type=real(0.0),
        default=None,
        metavar="SIGMA",
        help="DART noise: execute a perturbed action, record the expert's. Box actions: Gaussian noise of standard "
        "deviation SIGMA, clipped; Discrete actions: a random other action with probability SIGMA (in [0, 1]). "
        "Needs an expert (not random), and no --epsilon",
    )
    parser.add_argument("--skill", choices=tuple(SKILL_PRESETS), default=None, help="Flappy Bird demonstrator preset")
    parser.add_argument("--player", default=None, help="name saved as the player (default: a description of the expert)")
    parser.add_argument("--seed", type=SEED, default=0, help="episode k is reset with seed + k (default: %(default)s)")
    add_trust_code_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave.demos import load_episodes, record_demonstrations, summarize

    files = record_demonstrations(
        args.env,
        args.out,
        args.episodes,
        expert=args.expert,
        epsilon=args.epsilon,
        skill=args.skill,
        algo=args.algo,
        seed=args.seed,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        max_episode_steps=args.max_episode_steps,
        player=args.player,
        dart=args.dart,
    )
    print(f"{len(files)} episode(s) recorded in {args.out}")
    summary = summarize(load_episodes(files))
    print_stats(summary)
    print_dart(summary)
    return 0
