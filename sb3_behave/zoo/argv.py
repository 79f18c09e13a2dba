"""Reading and rewriting the options of the command lines that sb3-behave hands to the RL Zoo."""

from __future__ import annotations

from typing import Sequence


def option(argv: Sequence[str], *names: str) -> str | None:
    """The value of an option given as ``--name value`` or ``--name=value``, or None.

    :param argv: command-line arguments
    :param names: the option's spellings (``-f``, ``--folder``)
    """
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def with_option(argv: Sequence[str], names: Sequence[str], value: str) -> list[str]:
    """``argv`` with the value of the option ``names`` replaced by ``value``.

    :param argv: command-line arguments
    :param names: the option's spellings
    :param value: its new value
    """
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg in names and i + 1 < len(argv):
            argv[i + 1] = value
        elif any(arg.startswith(name + "=") for name in names):
            argv[i] = arg.split("=", 1)[0] + "=" + value
    return argv
