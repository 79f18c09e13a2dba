"""Registering sb3-behave's algorithms in the RL Zoo (``rl_zoo3.utils.ALGOS`` and the Optuna samplers)."""

from __future__ import annotations

import importlib
from typing import Any

#: The algorithms sb3-behave adds to the zoo, as ``module:class``.
ALGORITHMS = {
    "bc": "sb3_behave.zoo.adapters:BC",
    "dagger": "sb3_behave.zoo.adapters:DAgger",
    "gail": "sb3_behave.zoo.adapters:GAIL",
    "airl": "sb3_behave.zoo.adapters:AIRL",
    "valuedice": "sb3_behave.valuedice:ValueDICE",
}


def algorithm_class(algo: str) -> Any:
    """The class of one of sb3-behave's algorithms (``bc``, ``dagger``, ``gail``, ``airl``, ``valuedice``)."""
    try:
        module, name = ALGORITHMS[algo].split(":")
    except KeyError:
        raise ValueError(f"unknown algorithm {algo!r}: expected one of {', '.join(ALGORITHMS)}") from None
    return getattr(importlib.import_module(module), name)


def register_algorithms() -> None:
    """Add sb3-behave's algorithms and their Optuna samplers to the zoo; safe to call twice.

    After this, ``rl_zoo3``'s own ``train``, ``enjoy`` and ``record_video`` accept
    ``--algo bc|dagger|gail|airl|valuedice`` (``sb3-behave train`` calls it for you). They all
    build on imitation: without it, nothing is added (see :func:`sb3_behave.stack.require_imitation`).
    """
    import importlib.util

    from rl_zoo3 import hyperparams_opt, utils

    from sb3_behave.zoo.samplers import SAMPLERS

    if importlib.util.find_spec("imitation") is None:  # the zoo's own algorithms still work
        return
    for algo in ALGORITHMS:
        utils.ALGOS[algo] = algorithm_class(algo)
    hyperparams_opt.HYPERPARAMS_SAMPLER.update(SAMPLERS)
