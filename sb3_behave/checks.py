"""Checks of the values a user writes (YAML keys, CLI options): numbers that YAML or Python could confuse.

``True`` is an ``int`` to Python, and ``1e-3`` is a string to YAML 1.1 (PyYAML) unless written
``1.0e-3``: each check refuses what is not the kind of number asked for, so that the caller can
name the key, the value and what it expected in one line.
"""

from __future__ import annotations

from typing import Any


def is_number(value: Any) -> bool:
    """Whether ``value`` is an ``int`` or a ``float``, and not a ``bool``.

    :param value: what was given
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_whole_number(value: Any, minimum: int | None = 1) -> bool:
    """Whether ``value`` is an ``int`` (not a ``bool``) of at least ``minimum``.

    :param value: what was given
    :param minimum: the smallest value accepted; None for any
    """
    return isinstance(value, int) and not isinstance(value, bool) and (minimum is None or value >= minimum)


__all__ = ["is_number", "is_whole_number"]
