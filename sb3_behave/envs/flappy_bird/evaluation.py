"""Evaluating a policy on many seeded Flappy Bird games at once."""

from __future__ import annotations

from typing import Any

import numpy as np

from sb3_behave.envs.flappy_bird.vec_env import FlappyBirdVecEnv


def evaluate_flappy_policy(
    policy: Any,
    games: int = 10,
    max_frames: int = 5_000,
    seed: int = 12_345,
    deterministic: bool = True,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Play one episode of each of ``games`` seeded games with ``policy.predict``.

    :param policy: anything with SB3's ``predict(obs, deterministic=...)`` (a model, a policy, the
        scripted expert) that reads the env's observations
    :param games: games played at once in a :class:`FlappyBirdVecEnv` (game ``i`` has seed ``seed + i``)
    :param max_frames: time limit of each game
    :param seed: seed of game 0
    :param deterministic: passed to ``predict``
    :param env_kwargs: more arguments of :class:`FlappyBirdVecEnv` (``obs_type``, ``reward_mode``, ...)
    :return: ``{"score": mean pipes, "return": mean return, "scores": [...], "returns": [...],
        "crashed": [...]}`` (``crashed[i]``: game ``i`` ended by a crash, not by the time limit)
    """
    env = FlappyBirdVecEnv(games, seed=seed, max_episode_steps=max_frames, **env_kwargs)
    obs = env.reset()
    scores = np.full(games, -1.0)
    running = np.zeros(games)
    returns = np.zeros(games)
    crashed = np.zeros(games, dtype=bool)
    for _ in range(max_frames):
        actions, _ = policy.predict(obs, deterministic=deterministic)
        obs, rewards, dones, infos = env.step(actions)
        running += rewards
        for i in np.flatnonzero(dones & (scores < 0)):
            scores[i] = infos[i]["score"]
            returns[i] = running[i]
            crashed[i] = not infos[i]["TimeLimit.truncated"]
        if (scores >= 0).all():
            break
    env.close()
    return {
        "score": float(scores.mean()),
        "return": float(returns.mean()),
        "scores": scores.tolist(),
        "returns": returns.tolist(),
        "crashed": crashed.tolist(),
    }
