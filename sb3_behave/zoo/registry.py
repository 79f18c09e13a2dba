"""Registering sb3-behave's algorithms in the RL Zoo (``rl_zoo3.utils.ALGOS`` and the Optuna samplers)."""

from __future__ import annotations

import importlib.util

from sb3_behave.agents import ALGORITHMS, algorithm_class


def register_algorithms() -> None:
    """Add sb3-behave's algorithms and their Optuna samplers to the zoo; safe to call twice.

    After this, ``rl_zoo3``'s own ``train``, ``enjoy`` and ``record_video`` accept every name of
    :data:`sb3_behave.agents.ALGORITHMS` as ``--algo`` (``sb3-behave train`` calls it for you). They all
    build on imitation: without it, nothing is added (see :func:`sb3_behave.stack.require_imitation`).
    """
    from rl_zoo3 import hyperparams_opt, utils

    from sb3_behave.zoo.samplers import SAMPLERS

    if importlib.util.find_spec("imitation") is None:  # the zoo's own algorithms still work
        return
    for algo in ALGORITHMS:
        utils.ALGOS[algo] = algorithm_class(algo, check_installed=False)  # --algo cql says what is missing
    hyperparams_opt.HYPERPARAMS_SAMPLER.update(SAMPLERS)
