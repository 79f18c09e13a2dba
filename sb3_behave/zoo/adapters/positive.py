"""A learned reward made positive, for generators in envs whose episodes end on failure.

AIRL's learned reward (``generator_reward: positive`` of :class:`~sb3_behave.zoo.adapters.adversarial.AIRL`),
the reward model of preference comparisons (the same key of
:class:`~sb3_behave.zoo.adapters.preferences.PreferenceComparisons`) and a log-density far from
the demonstrations (:class:`~sb3_behave.zoo.adapters.density.Density`) are mostly negative once
trained, or of no fixed sign: where a step's reward is negative, ending the episode at once is the
generator's best answer in an env that ends on failure. ``softplus`` keeps the order of the rewards
and pays for every step lived.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch as th

#: What ``generator_reward`` may name, by algorithm: imitation's reward as it is, or :func:`positive_reward` of it.
GENERATOR_REWARDS = {
    "airl": ("logit", "positive"),
    "preference_comparisons": ("learned", "positive"),
    "density": ("log_density", "positive"),
}


def check_generator_reward(algo: str, value: Any) -> str:
    """``value`` if it is one of ``algo``'s :data:`GENERATOR_REWARDS`, else a ``ValueError`` naming the key and the choices.

    :param algo: ``"airl"``, ``"preference_comparisons"`` or ``"density"``
    :param value: the ``generator_reward`` asked for
    """
    if value not in GENERATOR_REWARDS[algo]:
        raise ValueError(f"{algo}: generator_reward is {value!r}: expected one of {', '.join(GENERATOR_REWARDS[algo])}")
    return value


def positive_reward(reward: np.ndarray) -> np.ndarray:
    """``log(1 + exp(reward))``: a learned reward made positive, as GAIL's ``-log(1 - D)`` is.

    AIRL's discriminator logit is the reward net's output ``f`` less ``log pi``; where ``f`` is
    mostly negative, ending the episode pays; ``softplus(f)`` keeps the order of ``f`` and pays for
    every step lived, like an env whose episodes end on failure. A reward model fitted to
    preferences between fragments of equal length has no fixed level (adding a constant to every
    step changes no preference), so the same holds there. For a density, ``softplus(log p) =
    log(1 + p)``: about ``log p`` where the demonstrations are dense, 0 far from them.

    :param reward: the reward net's output
    """
    return np.logaddexp(0.0, reward)


@functools.cache
def _positive_reward_class() -> type:
    from imitation.rewards.reward_nets import PredictProcessedWrapper

    class PositiveReward(PredictProcessedWrapper):
        """A reward net whose processed predictions are :func:`positive_reward` of its base's (its forward is the base's)."""

        def predict_processed(self, state: Any, action: Any, next_state: Any, done: Any, **kwargs: Any) -> np.ndarray:
            return positive_reward(self.base.predict_processed(state, action, next_state, done, **kwargs))

    return PositiveReward


def positive_reward_net(net: th.nn.Module) -> th.nn.Module:
    """``net`` (an imitation reward net) wrapped so that the rewards it gives are :func:`positive_reward` of its own.

    :param net: the reward net
    """
    return _positive_reward_class()(net)


__all__ = ["GENERATOR_REWARDS", "check_generator_reward", "positive_reward", "positive_reward_net"]
