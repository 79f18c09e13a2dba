"""Programs playing: let any policy play and keep its episodes; record the scripted expert, random play or trained agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from imitation.data.types import TrajectoryWithRew

from sb3_behave.agents import SKILL_PRESETS, Policy, is_flappy, make_policy
from sb3_behave.demos.recorder import RecordDemonstrations
from sb3_behave.demos.storage import MAX_TEXT_CHARS, PathLike
from sb3_behave.registration import make_env


def play_episodes(
    env: gym.Env,
    policy: Policy,
    episodes: int,
    seed: int = 0,
    epsilon: float = 0.0,
    progress_bar: bool = False,
    keep: bool = True,
) -> list[TrajectoryWithRew]:
    """Let ``policy`` play ``episodes`` episodes of ``env`` and return them as imitation trajectories.

    Episode ``k`` is reset with ``seed + k``; ``terminal`` is set only by a real termination (a
    time limit is not terminal). Wrap ``env`` in :class:`RecordDemonstrations` to also write each
    episode to a demo folder, as :func:`record_demonstrations` does.

    :param env: the env to play (a gymnasium env, possibly wrapped)
    :param policy: an ``obs -> action`` callable for one observation (see :mod:`sb3_behave.agents`)
    :param episodes: how many episodes
    :param seed: seed of the first episode, and of the random actions
    :param epsilon: probability of a random action instead of the policy's, at each step
    :param progress_bar: show a progress bar (with the score, for Flappy Bird)
    :param keep: keep the episodes and return them; ``False`` plays without keeping them (when a
        :class:`RecordDemonstrations` wrapper already writes them)
    :return: the episodes, in order (an empty list without ``keep``)
    """
    from tqdm.auto import tqdm

    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed + 1)
    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    trajectories = []
    bar = tqdm(range(episodes), desc=f"recording {name}", unit="episode", disable=not progress_bar)
    for k in bar:
        obs, info = env.reset(seed=seed + k)
        observations, actions, rewards = [np.array(obs, copy=True)], [], []
        terminated = truncated = False
        while not (terminated or truncated):
            action = policy(obs)
            if epsilon > 0 and rng.random() < epsilon:
                action = env.action_space.sample()
            obs, reward, terminated, truncated, info = env.step(action)
            if keep:
                observations.append(np.array(obs, copy=True))
                actions.append(np.array(action, copy=True))
                rewards.append(reward)
        if keep:
            trajectories.append(
                TrajectoryWithRew(
                    obs=np.stack(observations),
                    acts=np.stack(actions),
                    infos=None,
                    terminal=bool(terminated),
                    rews=np.asarray(rewards, dtype=np.float32),
                )
            )
        if "score" in info:
            bar.set_postfix(score=info["score"])
    return trajectories


def record_demonstrations(
    env_id: str,
    folder: PathLike,
    episodes: int,
    expert: str = "scripted",
    epsilon: float | None = None,
    skill: str | None = None,
    algo: str | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    max_episode_steps: int | None = None,
    player: str | None = None,
    progress_bar: bool = True,
) -> list[Path]:
    """Let a program play ``episodes`` episodes and record them into ``folder``.

    :param env_id: the env to play
    :param folder: the demonstration folder (episodes are added to what is there)
    :param episodes: how many episodes
    :param expert: ``"scripted"``, ``"random"``, a model ``.zip`` or a zoo run folder
    :param epsilon: probability of a random action instead of the expert's, at each step
    :param skill: a Flappy Bird preset, ``"poor"``, ``"medium"`` or ``"strong"`` (sets the expert and
        epsilon and labels the episodes); for other envs, only a label
    :param algo: the algorithm of a model or zoo folder
    :param seed: episode ``k`` is reset with ``seed + k``
    :param env_kwargs: keyword arguments of ``gym.make``
    :param max_episode_steps: override the env's time limit
    :param player: the name saved as the player (default: a description of the expert)
    :param progress_bar: show a progress bar
    :return: the files written
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    env = make_env(env_id, env_kwargs, max_episode_steps)
    if skill is not None and is_flappy(env):
        if skill not in SKILL_PRESETS:
            raise ValueError(f"unknown skill {skill!r}: expected one of {', '.join(SKILL_PRESETS)}")
        preset = SKILL_PRESETS[skill]
        if epsilon is not None and epsilon != preset.epsilon:
            raise ValueError(f"--skill {skill} sets epsilon to {preset.epsilon}; do not pass --epsilon with it")
        expert, epsilon = preset.expert, preset.epsilon
    epsilon = epsilon or 0.0
    policy, description = make_policy(expert, env, algo=algo, seed=seed)
    if epsilon > 0:
        description += f" (epsilon={epsilon:g})"
    if len(description) > MAX_TEXT_CHARS:  # a model's long path: keep its end
        description = "..." + description[-(MAX_TEXT_CHARS - 3) :]
    recorder = RecordDemonstrations(env, folder, player=player or description, skill=skill)
    play_episodes(recorder, policy, episodes, seed=seed, epsilon=epsilon, progress_bar=progress_bar, keep=False)
    recorder.close()
    return recorder.saved
