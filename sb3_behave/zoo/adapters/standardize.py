"""Observation standardization that lives in the policy: a features extractor fitted on the demonstrations.

BC and DAgger (``standardize_observations: true``) build their policy with
:class:`StandardizedFlatten` and fit it on the demonstrations before the first gradient step. The
mean and standard deviation are buffers of the policy, so they are saved with it and ``predict``
applies them: a loaded policy needs neither the demonstrations nor a ``VecNormalize`` file.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.preprocessing import get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

#: A feature whose standard deviation in the demonstrations is below this is only centred.
MIN_STD = 1e-6


class StandardizedFlatten(BaseFeaturesExtractor):
    """Flattens a Box observation and standardizes it with statistics fitted on demonstrations.

    Before :meth:`fit` it is the identity (mean 0, std 1), like SB3's ``FlattenExtractor``.

    :param observation_space: a Box observation space
    """

    def __init__(self, observation_space: gym.spaces.Box) -> None:
        if not isinstance(observation_space, gym.spaces.Box):
            raise ValueError(f"standardize_observations needs a Box observation space, got {type(observation_space).__name__}")
        super().__init__(observation_space, get_flattened_obs_dim(observation_space))
        self.flatten = th.nn.Flatten()
        self.register_buffer("mean", th.zeros(self.features_dim))
        self.register_buffer("std", th.ones(self.features_dim))
        self.register_buffer("fitted", th.tensor(False))

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has set the statistics (saved with the policy)."""
        return bool(self.fitted)

    def fit(self, observations: np.ndarray) -> None:
        """Set the mean and standard deviation of each feature from ``observations``.

        :param observations: demonstration observations, shape ``(n, *observation_shape)``
        """
        flat = np.asarray(observations, dtype=np.float64).reshape(len(observations), -1)
        if len(flat) == 0:
            raise ValueError("standardize_observations: no demonstration observations to fit the statistics on")
        std = flat.std(axis=0)
        self.mean.copy_(th.as_tensor(flat.mean(axis=0), dtype=th.float32))
        self.std.copy_(th.as_tensor(np.where(std < MIN_STD, 1.0, std), dtype=th.float32))
        self.fitted.fill_(True)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return (self.flatten(observations) - self.mean) / self.std


def standardizers(policy: th.nn.Module) -> list[StandardizedFlatten]:
    """The :class:`StandardizedFlatten` modules of ``policy`` (two when actor and critic do not share one)."""
    return [module for module in policy.modules() if isinstance(module, StandardizedFlatten)]
