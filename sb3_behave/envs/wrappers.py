"""Env wrappers for imitation on episodic envs.

:class:`AbsorbingHorizon` gives every episode the same length, as the AIRL and DAC papers and
imitation's own benchmarks (``seals`` envs) do: an adversarial reward is then never rewarded for
ending an episode early or late, whatever its sign. Use it through the zoo's ``env_wrapper`` key::

    CartPole-v1:
      env_wrapper:
        - sb3_behave.envs.wrappers.AbsorbingHorizon:
            horizon: 500
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


class AbsorbingHorizon(gym.Wrapper):
    """Episodes of exactly ``horizon`` steps: after termination, the last observation repeats (an absorbing state).

    When the wrapped env terminates, the episode goes on: each later step ignores the action and
    returns the terminal observation again, reward 0, ``terminated=False``, with
    ``info["absorbing"] = True``, until ``horizon`` steps have passed; then ``truncated=True``.
    The env's own return is unchanged (absorbing steps earn 0), so evaluation returns are the
    env's. A truncation of the wrapped env (its time limit) still ends the episode.

    :param env: the env
    :param horizon: steps per episode (at least 1)
    """

    def __init__(self, env: gym.Env, horizon: int) -> None:
        if int(horizon) != horizon or horizon < 1:
            raise ValueError(f"AbsorbingHorizon: horizon must be a whole number of steps >= 1, got {horizon!r}")
        super().__init__(env)
        self.horizon = int(horizon)
        self._steps = 0
        self._absorbing_obs: Any = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._steps = 0
        self._absorbing_obs = None
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        self._steps += 1
        at_horizon = self._steps >= self.horizon
        if self._absorbing_obs is not None:
            return self._absorbing_obs, 0.0, False, at_horizon, {"absorbing": True}
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated:
            self._absorbing_obs = obs
        return obs, reward, False, bool(truncated) or at_horizon, info
