"""``sb3-behave play``: a person plays in a pygame window, and every episode is recorded."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import COUNT, POSITIVE, SEED, add_env_arguments, parse_env_kwargs


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "play",
        help="play an env with the keyboard in a window, recording your demonstrations",
        description=(
            "Play an env in a pygame window and record every finished episode. Flappy Bird: SPACE or UP "
            "to flap. CartPole-v1, MountainCar-v0, Acrobot-v1, LunarLander (v3; v2 on gymnasium 0.29): the arrow "
            "keys. Each episode starts at your first key. P pauses, ESC quits (the episode in progress is then not saved)."
        ),
    )
    add_env_arguments(parser)
    parser.add_argument("--record", type=Path, default=None, help="demonstration folder to add your episodes to")
    parser.add_argument("--player", default=None, help="your name, saved with each episode (default: login name)")
    parser.add_argument("--skill", default=None, help="a skill label saved with each episode (poor, medium, strong...)")
    parser.add_argument("--episodes", type=COUNT, default=None, help="stop after this many episodes (default: until ESC)")
    parser.add_argument(
        "--speed", type=POSITIVE, default=1.0, help="game speed: 0.5 plays at half speed (default: %(default)s)"
    )
    parser.add_argument("--seed", type=SEED, default=None, help="seed of the first episode (default: random)")
    parser.add_argument("--keys", default=None, help="key map for other Discrete envs, e.g. 'left=0,right=1,default=0'")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave.demos.play import play

    summaries = play(
        args.env,
        record=args.record,
        player=args.player,
        episodes=args.episodes,
        speed=args.speed,
        seed=args.seed,
        keys=args.keys,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        max_episode_steps=args.max_episode_steps,
        skill=args.skill,
    )
    if args.record is not None:
        print(f"{len(summaries)} episode(s) recorded in {args.record}")
    return 0
