"""The compiler of the simulation kernels: numba's ``njit``, or plain Python without numba.

Each kernel of the Flappy Bird core is written once, as a Python loop over birds, and compiled by
numba to machine code on its first call (a few seconds, once per machine: the machine code is
cached on disk beside the source, or in numba's user cache folder when that is read-only). The
same Python function runs uncompiled, and gives the same numbers, when numba is not installed or
when ``NUMBA_DISABLE_JIT=1`` is set: slower (3 times for one bird with features, about 75 times
with lidar, far more for many birds), never different.

numba's disk cache is invalidated when a kernel's own source file changes, not when a module it
reads constants from does: after changing a game constant in ``core.py``, delete this folder's
``__pycache__`` (``tests/test_flappy_trajectories.py`` compares every compiled kernel with its
Python source and says so).
"""

from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

try:
    from numba import njit as _njit
except ImportError:  # numba is a dependency; without it (tests/test_flappy_trajectories.py) the game still runs
    _njit = None

#: Whether the kernels are compiled (numba is importable).
COMPILED = _njit is not None


def kernel(function: F) -> F:
    """Compile ``function`` with numba (cached on disk, no fast-math: IEEE results bit for bit).

    :param function: a loop over arrays of numbers, in the subset of Python that numba compiles
    """
    if _njit is None:
        return function
    return _njit(cache=True, nogil=True)(function)  # type: ignore[return-value]
