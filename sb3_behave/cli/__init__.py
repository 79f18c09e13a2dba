"""The ``sb3-behave`` command: one module per command, each with its parser beside the function it runs.

Building the parser imports nothing heavy (no torch, SB3 or imitation): ``sb3-behave --help`` and
every command's ``--help`` answer at once; a command's libraries load when it runs. ``train``,
``enjoy`` and ``record-video`` hand their arguments to the RL Zoo (:mod:`.zoo`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from sb3_behave.cli import bench, compare, demos, irl, landscape, paths, play, quickstart, record_demos, study, zoo
from sb3_behave.cli.common import Parser

#: The modules that add a command (or a group of them), in the order ``--help`` lists them.
COMMAND_MODULES = (quickstart, play, record_demos, demos, compare, landscape, zoo, paths, irl, study, bench)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sb3-behave`` command; ``--help`` lists each command's own help."""
    from sb3_behave import __version__
    from sb3_behave.stack import describe

    parser = Parser(
        prog="sb3-behave",
        description="sb3-behave: learn behaviours from demonstrations and from rewards with Stable-Baselines3.",
        epilog="Run `sb3-behave COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sb3-behave {__version__} ({describe()})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in COMMAND_MODULES:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sb3-behave`` command.

    Errors a user can act on (a bad file, value or option, a missing library, an unknown env)
    print one line and exit with 2; set ``SB3_BEHAVE_DEBUG=1`` for the traceback.

    :param argv: the arguments (default: ``sys.argv[1:]``)
    :return: the exit status
    """
    from gymnasium import error as gym_error  # unknown, deprecated or uninstallable env ids

    from sb3_behave.stack import MissingDependencyError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in zoo.COMMANDS:
            return zoo.runner(argv[0])(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        from sb3_behave.untrusted import trusting_code

        with trusting_code(getattr(args, "trust_code", False)):  # --trust-code of the commands that load agents
            return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, MissingDependencyError, gym_error.Error) as error:  # DemonstrationError: ValueError
        if os.environ.get("SB3_BEHAVE_DEBUG"):
            raise
        print(f"sb3-behave: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a path the system refused (exists, not a folder, permission denied, disk full)
        if os.environ.get("SB3_BEHAVE_DEBUG"):
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"sb3-behave: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
