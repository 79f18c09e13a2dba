"""The compiler of the simulation kernels: numba's ``njit`` where it pays, plain Python where it does not.

Each kernel of the Flappy Bird core is written once, as a Python loop over birds. numba compiles
it to machine code (a few seconds, once per machine: the machine code is cached on disk beside the
source, or in numba's user cache folder when that is read-only), but loading numba and its
compiled code costs a process about 130 MB and half a second, whatever it then runs. So the
kernels are compiled when that pays, as a JIT compiles hot code:

- as soon as a core of more than one bird is built (:class:`~sb3_behave.envs.FlappyBirdVecEnv`),
  or lidar rays are first cast (Python is about 50 times slower there), every kernel is compiled;
- one bird with feature or image observations (``gym.make("sb3_behave/FlappyBird-v0")``) runs
  its kernels' Python source for its first :data:`HOT_CALLS` calls (about 10 microseconds more
  per step, which a policy's forward pass hides), then compiles: a short game shown, recorded or
  compared by an agent, or played by a person, never imports numba, while training or a
  benchmark soon runs compiled.

Compiled or not, the same Python function gives the same numbers (no fast-math: IEEE results bit
for bit; ``tests/test_flappy_trajectories.py`` checks it). Without numba installed, or with
``NUMBA_DISABLE_JIT=1``, everything runs as Python: slower (far slower for many birds), never different.

numba's disk cache is invalidated when a kernel's own source file changes, not when a module it
reads constants from does: after changing a game constant in ``core.py``, delete this folder's
``__pycache__`` (``tests/test_flappy_trajectories.py`` compares every compiled kernel with its
Python source and says so).
"""

from __future__ import annotations

import importlib.util
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable)

#: Whether numba is installed (it is a dependency; tests run without it, and the game still runs).
NUMBA_INSTALLED = importlib.util.find_spec("numba") is not None

#: Calls of a kernel, for one bird, after which every kernel is compiled (about 0.3 s of Python with features).
HOT_CALLS = 20_000

_KERNELS: list[_Kernel] = []
_compiled = False


class _Kernel:
    """A kernel: its Python source (``py_func``, as numba names it), run as Python until :func:`compile_kernels`."""

    def __init__(self, function: Callable, compile_on_first_call: bool) -> None:
        self.py_func = function
        self.compiled: Any = None  # numba's dispatcher, once compiled
        self._run = self._compile_first if compile_on_first_call else self._count
        self._calls = 0
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__doc__ = function.__doc__
        self.__module__ = function.__module__

    def __call__(self, *args: Any) -> Any:
        return self._run(*args)

    def _count(self, *args: Any) -> Any:
        self._calls += 1
        if self._calls >= HOT_CALLS:
            compile_kernels()
            if self.compiled is None:  # numba is missing: no more counting
                self._run = self.py_func
        return self.py_func(*args)

    def _compile_first(self, *args: Any) -> Any:
        compile_kernels()
        if self.compiled is None:  # numba is missing
            self._run = self.py_func
        return self._run(*args)

    def __repr__(self) -> str:
        return f"<Flappy Bird kernel {self.__name__}: {'compiled' if self.compiled is not None else 'Python'}>"


def kernel(function: F) -> F:
    """A kernel, run as Python until any kernel has run :data:`HOT_CALLS` times or :func:`compile_kernels` is called.

    :param function: a loop over arrays of numbers, in the subset of Python that numba compiles
    """
    return _register(function, compile_on_first_call=False)


def costly_kernel(function: F) -> F:
    """A kernel too slow as Python even for one bird (lidar): compiles every kernel on its first call.

    :param function: a loop over arrays of numbers, in the subset of Python that numba compiles
    """
    return _register(function, compile_on_first_call=True)


def _register(function: F, compile_on_first_call: bool) -> F:
    found = _Kernel(function, compile_on_first_call)
    _KERNELS.append(found)
    if _compiled:
        _compile(found)
    return found  # type: ignore[return-value]


def _compile(found: _Kernel) -> None:
    from numba import njit

    found.compiled = njit(cache=True, nogil=True)(found.py_func)
    found._run = found.compiled


def compile_kernels() -> bool:
    """Compile every kernel from now on (importing numba; each compiles, or loads from the cache, on its next call).

    :return: whether they are compiled (``False``: numba is not installed)
    """
    global _compiled
    if not _compiled and NUMBA_INSTALLED:
        try:
            import numba  # noqa: F401
        except ImportError:
            return False
        for found in _KERNELS:
            _compile(found)
        _compiled = True
    return _compiled


def compiled() -> bool:
    """Whether the kernels run compiled in this process (see the module's description for when)."""
    return _compiled


__all__ = ["HOT_CALLS", "NUMBA_INSTALLED", "compile_kernels", "compiled", "costly_kernel", "kernel"]
