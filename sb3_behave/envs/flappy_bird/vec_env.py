"""A native SB3 VecEnv: all birds of the batched core stepped in one compiled call."""

from __future__ import annotations

from itertools import repeat
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from sb3_behave.envs.flappy_bird import observations
from sb3_behave.envs.flappy_bird.core import FlappyBirdCore, check_reward_mode
from sb3_behave.registration import FLAPPY_BIRD_MAX_EPISODE_STEPS


class FlappyBirdVecEnv(VecEnv):
    """``n_envs`` Flappy Bird games in one process, stepped together by the batched core.

    Behaves like ``make_vec_env("sb3_behave/FlappyBird-v0", n_envs)`` (same spaces, rewards,
    auto-reset with ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]``),
    without a Python loop over the games. Game ``i`` seeded with ``seed + i`` plays exactly like
    ``gym.make(...)`` reset with that seed. One difference, for speed: ``infos[i]["score"]`` (the
    pipes passed) is given when an episode ends, not at every step; :attr:`scores` has the
    running scores of all games.

    :param n_envs: number of games
    :param obs_type: ``"features"``, ``"lidar"`` or ``"rgb"`` (see :class:`FlappyBirdEnv`)
    :param seed: seed of game 0; game ``i`` gets ``seed + i``. ``None``: fresh entropy
    :param reward_mode: ``"alive"`` or ``"score"`` (see :class:`FlappyBirdEnv`)
    :param score_limit: truncate an episode once this many pipes have been passed
    :param max_episode_steps: truncate an episode after this many frames (as registered: 10,000)
    :param image_size: ``(height, width)`` of ``"rgb"`` observations
    :param render_mode: ``"rgb_array"`` to get frames from :meth:`get_images` and ``render()``
    """

    def __init__(
        self,
        n_envs: int = 8,
        obs_type: str = "features",
        seed: int | None = None,
        reward_mode: str = "alive",
        score_limit: int | None = None,
        max_episode_steps: int | None = FLAPPY_BIRD_MAX_EPISODE_STEPS,
        image_size: tuple[int, int] = (84, 84),
        render_mode: str | None = None,
    ) -> None:
        observations.check_obs_type(obs_type)
        check_reward_mode(reward_mode)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"unknown render_mode {render_mode!r} for FlappyBirdVecEnv: expected None or 'rgb_array'")
        self.obs_type = obs_type
        self.reward_mode = reward_mode
        self.score_limit = score_limit
        self.max_episode_steps = max_episode_steps
        self.image_size = observations.check_image_size(image_size)
        self.render_mode = render_mode
        self.core = FlappyBirdCore(n_envs)
        self._rng_ready = np.zeros(n_envs, dtype=bool)
        self._actions = np.zeros(n_envs, dtype=np.int64)
        self._renderer: Any = None
        space = observations.observation_space(obs_type, self.image_size)
        super().__init__(n_envs, space, gym.spaces.Discrete(2))
        if seed is not None:
            self.seed(seed)

    @property
    def scores(self) -> np.ndarray:
        """Pipes passed so far in the current episode of each game (a copy)."""
        return self.core.score.copy()

    def _observe(self, state: Any = None) -> np.ndarray:
        return observations.observe(self.core if state is None else state, self.obs_type, self.image_size)

    def reset(self) -> np.ndarray:
        for i, seed in enumerate(self._seeds):
            if seed is not None or not self._rng_ready[i]:
                self.core.set_rng(i, seeding.np_random(seed)[0])
                self._rng_ready[i] = True
        self.core.reset()
        self._reset_seeds()
        self._reset_options()
        return self._observe()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs)

    def step_wait(self) -> VecEnvStepReturn:
        result = self.core.step(self._actions == 1, self.reward_mode, self.score_limit, self.max_episode_steps)
        reward = result.reward.astype(np.float32)
        truncated = result.truncated
        dones = result.crashed | truncated
        obs = self._observe()
        # One new dict per game and step (consumers such as imitation's rollouts keep them): at
        # 1024 games this list is half of the step's time.
        infos: list[dict[str, Any]] = [{} for _ in repeat(None, self.num_envs)]
        if dones.any():
            finished = np.flatnonzero(dones)
            terminal = obs[finished]  # a copy: one row per finished game
            for i, terminal_obs, score, cut in zip(
                finished.tolist(), terminal, self.core.score[finished].tolist(), truncated[finished].tolist()
            ):
                infos[i] = {"score": score, "terminal_observation": terminal_obs, "TimeLimit.truncated": cut}
            self.core.reset(finished)
            obs[finished] = self._observe(self.core.select(finished))
        return obs, reward, dones, infos

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            gym.logger.warn("FlappyBirdVecEnv.get_images() needs render_mode='rgb_array'")
            return [None for _ in range(self.num_envs)]
        if self._renderer is None:
            from sb3_behave.envs.flappy_bird.render import FlappyBirdRenderer

            self._renderer = FlappyBirdRenderer("rgb_array")
        return [self._renderer.render(self.core, i) for i in range(self.num_envs)]

    # The games are not separate objects: attributes and methods are those of this VecEnv.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if indices is not None and len(list(self._get_indices(indices))) != self.num_envs:
            raise ValueError(f"FlappyBirdVecEnv shares {attr_name!r} between all games: set it for all of them")
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
