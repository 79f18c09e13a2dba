"""The gymnasium environment: the batched core with one bird."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from sb3_behave.envs.flappy_bird import observations
from sb3_behave.envs.flappy_bird.core import FPS, FlappyBirdCore, check_reward_mode


class FlappyBirdEnv(gym.Env[np.ndarray, np.int64]):
    """Flappy Bird with the classic FlapPyBird physics, registered as ``sb3_behave/FlappyBird-v0``.

    Actions: ``0`` do nothing, ``1`` flap. An episode ends (``terminated``) when the bird hits a
    pipe or the ground, and is truncated after ``max_episode_steps`` frames (10,000 as registered,
    about 5.5 minutes of play) or when ``score_limit`` pipes have been passed.

    :param obs_type: ``"features"`` (12 floats in [-1, 1], the order of flappy-bird-gymnasium's
        simple observation, see :data:`~sb3_behave.envs.flappy_bird.observations.FEATURE_NAMES`),
        ``"lidar"`` (180 ray distances in [0, 1]) or ``"rgb"`` (uint8 frames of ``image_size``)
    :param render_mode: ``"human"`` for a pygame window at 30 frames per second, ``"rgb_array"``
        for 512x288 RGB frames from :meth:`render`
    :param reward_mode: ``"alive"``: +0.1 per frame alive, +1 per pipe, -1 on a crash;
        ``"score"``: +1 per pipe, -1 on a crash
    :param score_limit: truncate the episode once this many pipes have been passed
    :param image_size: ``(height, width)`` of ``"rgb"`` observations
    :param render_speed: multiplies the frame rate of the ``"human"`` window
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": FPS}

    def __init__(
        self,
        obs_type: str = "features",
        render_mode: str | None = None,
        reward_mode: str = "alive",
        score_limit: int | None = None,
        image_size: tuple[int, int] = (84, 84),
        render_speed: float = 1.0,
    ) -> None:
        observations.check_obs_type(obs_type)
        check_reward_mode(reward_mode)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}: expected None, 'human' or 'rgb_array'")
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.reward_mode = reward_mode
        self.score_limit = score_limit
        self.image_size = observations.check_image_size(image_size)
        self.render_speed = render_speed
        self.observation_space = observations.observation_space(obs_type, self.image_size)
        self.action_space = gym.spaces.Discrete(2)
        self.core = FlappyBirdCore(1)
        self._renderer: Any = None
        self._flap = np.zeros(1, dtype=bool)

    @property
    def score(self) -> int:
        """Pipes passed in the current episode."""
        return int(self.core.score[0])

    def _observe(self) -> np.ndarray:
        return observations.observe(self.core, self.obs_type, self.image_size)[0]

    def features(self) -> np.ndarray:
        """The 12-feature observation of the current state, whatever ``obs_type`` is (for experts)."""
        return observations.features(self.core)[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if self.core.rngs[0] is not self.np_random:  # a new seed gives a new generator
            self.core.set_rng(0, self.np_random)
        self.core.reset()
        if self.render_mode == "human":
            self.render()
        return self._observe(), {"score": 0}

    def step(self, action: int | np.integer | np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Play one frame.

        :param action: 1 flaps, 0 does nothing
        :return: the observation, the reward (of ``reward_mode``), ``terminated`` (a crash),
            ``truncated`` (the score limit; the time limit is gymnasium's ``TimeLimit``) and
            ``{"score": pipes passed so far}``
        """
        self._flap[0] = action == 1
        result = self.core.step(self._flap, self.reward_mode, self.score_limit)
        if self.render_mode == "human":
            self.render()
        terminated, truncated = bool(result.crashed[0]), bool(result.truncated[0])
        return self._observe(), float(result.reward[0]), terminated, truncated, {"score": int(self.core.score[0])}

    def render(self) -> np.ndarray | None:
        """Draw the current frame: a window for ``"human"``, an RGB array for ``"rgb_array"``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode: pass render_mode='human' or 'rgb_array' to gym.make")
            return None
        if self._renderer is None:
            from sb3_behave.envs.flappy_bird.render import FlappyBirdRenderer

            self._renderer = FlappyBirdRenderer(self.render_mode, speed=self.render_speed)
        return self._renderer.render(self.core, 0)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        super().close()
