"""Shared test set-up: headless pygame, seeded numpy and torch."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed_everything():
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.manual_seed(0)


@pytest.fixture
def config_algorithm():
    """The zoo algorithm of a shipped config, from its file name: the longest registered one the name starts with.

    ``ppo_bc_warm_start`` and ``ppo_learned_reward`` are PPO's, ``sac_experts`` SAC's,
    ``preference_comparisons_bc_warm_start`` preference comparisons'.
    """
    from rl_zoo3.utils import ALGOS

    from sb3_behave.zoo.registry import register_algorithms

    register_algorithms()

    def algorithm(stem: str) -> str:
        return max((known for known in ALGOS if stem == known or stem.startswith(known + "_")), key=len)

    return algorithm
