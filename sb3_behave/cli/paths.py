"""``sb3-behave paths``: where the package keeps its zoo configs and pretrained agents, for the unmodified RL Zoo."""

from __future__ import annotations

import argparse

#: What ``sb3-behave paths`` can print, and what each is.
PATHS = {
    "configs": "the folder of the RL Zoo hyperparameter files shipped with sb3-behave (zoo_configs/: ppo.yml, gail.yml, ...)",
    "agents": "the folder of the pretrained agents shipped with sb3-behave, in the RL Zoo's layout (-f of rl_zoo3.enjoy)",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "paths",
        help="where the shipped zoo configs and pretrained agents are (for python -m rl_zoo3 ...)",
        description=(
            "Print where sb3-behave keeps its RL Zoo configs and its pretrained agents, so that the unmodified "
            "zoo finds them from any folder: "
            'python -m rl_zoo3.train ... -conf "$(sb3-behave paths configs)/ppo.yml", '
            'python -m rl_zoo3.enjoy ... -f "$(sb3-behave paths agents)". '
            "Without an argument, both, one per line with its name."
        ),
    )
    parser.add_argument("what", nargs="?", choices=tuple(PATHS), help="; ".join(f"{k}: {v}" for k, v in PATHS.items()))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sb3_behave.zoo.commands import PRETRAINED_FOLDER, SHIPPED_CONFIGS

    folders = {"configs": SHIPPED_CONFIGS, "agents": PRETRAINED_FOLDER}
    if args.what is not None:
        print(folders[args.what])
    else:
        for name, folder in folders.items():
            print(f"{name}  {folder}")
    return 0
