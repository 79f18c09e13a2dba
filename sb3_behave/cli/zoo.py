"""``sb3-behave train|enjoy|record-video``: the RL Zoo's own scripts, with sb3-behave's algorithms and agents.

Their arguments go to the zoo's parser unchanged (``sb3-behave train --help`` is the zoo's help);
they are listed here for ``sb3-behave --help`` only.
"""

from __future__ import annotations

import argparse
from typing import Callable, Sequence

#: The zoo's commands: name -> one line for ``sb3-behave --help``.
COMMANDS = {
    "train": "the RL Zoo's train with BC, DAgger, GAIL, AIRL and ValueDICE added (every zoo flag; -optimize too)",
    "enjoy": "the RL Zoo's enjoy: watch a trained agent; finds the pretrained agents shipped with the package",
    "record-video": "the RL Zoo's record_video of a trained agent (pip install 'sb3-behave[video]')",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    for name, text in COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)


def runner(name: str) -> Callable[[Sequence[str]], int]:
    """The function that runs the zoo command ``name`` with the zoo's own arguments."""
    from sb3_behave.zoo import commands

    return {"train": commands.train, "enjoy": commands.enjoy, "record-video": commands.record_video}[name]
