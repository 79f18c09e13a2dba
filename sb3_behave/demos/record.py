"""Programs playing: let any policy play and keep its episodes; record the scripted expert, random play or trained agents.

With DART noise (Laskey et al., "DART: Noise Injection for Robust Imitation Learning", CoRL 2017)
the env executes a perturbed version of the expert's action while the episode records the expert's
own action: the demonstrations then visit the states a cloned policy drifts into, labelled with
how the expert recovers from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from imitation.data.types import TrajectoryWithRew

from sb3_behave.agents import SKILL_PRESETS, Policy, is_flappy, make_policy
from sb3_behave.demos.episodes import MAX_TEXT_CHARS, PathLike
from sb3_behave.demos.recorder import RecordDemonstrations
from sb3_behave.registration import make_env


class DartNoise:
    """The perturbation of DART: the action the env executes instead of the expert's.

    Box actions get Gaussian noise of standard deviation ``sigma`` on each dimension, clipped to
    the action space; for Discrete actions, ``sigma`` is the probability of a uniformly random
    *other* action (so it must be in [0, 1]).

    :param action_space: the env's action space (``Box`` or ``Discrete``)
    :param sigma: the noise scale, as above
    :param seed: seed of the noise
    :raises ValueError: another kind of action space, or a ``sigma`` out of range (one line naming ``--dart``)
    """

    def __init__(self, action_space: gym.spaces.Space, sigma: float, seed: int = 0) -> None:
        from gymnasium import spaces

        if not isinstance(action_space, (spaces.Box, spaces.Discrete)):
            raise ValueError(f"--dart: perturbs Box or Discrete actions, and this env has {action_space}")
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"--dart {sigma}: expected SIGMA >= 0")
        if isinstance(action_space, spaces.Discrete) and sigma > 1:
            raise ValueError(
                f"--dart {sigma}: for Discrete actions SIGMA is the probability of a random other action, "
                "expected a number in [0, 1]"
            )
        if isinstance(action_space, spaces.Discrete) and action_space.n < 2:
            raise ValueError(f"--dart: the action space {action_space} has no other action to take")
        self.action_space = action_space
        self.sigma = float(sigma)
        self.rng = np.random.default_rng(seed)

    def __call__(self, action: Any) -> Any:
        """The action to execute instead of ``action`` (the expert's)."""
        space = self.action_space
        if self.sigma == 0:
            return action
        if isinstance(space, gym.spaces.Discrete):
            if self.rng.random() >= self.sigma:
                return action
            chosen = int(np.asarray(action).item()) - int(space.start)
            other = int(self.rng.integers(space.n - 1))
            other += other >= chosen  # skip the expert's own action
            return np.asarray(other + int(space.start), dtype=np.asarray(action).dtype).reshape(np.shape(action))
        noisy = np.asarray(action, dtype=np.float64) + self.rng.normal(0.0, self.sigma, size=space.shape)
        return np.clip(noisy, space.low, space.high).astype(space.dtype)


def find_recorder(env: gym.Env) -> RecordDemonstrations | None:
    """The :class:`RecordDemonstrations` wrapper in ``env`` (``env`` itself or a wrapper inside it), if any."""
    while True:
        if isinstance(env, RecordDemonstrations):
            return env
        if not isinstance(env, gym.Wrapper):
            return None
        env = env.env


def play_episodes(
    env: gym.Env,
    policy: Policy,
    episodes: int,
    seed: int = 0,
    epsilon: float = 0.0,
    progress_bar: bool = False,
    keep: bool = True,
    dart: float | None = None,
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
    :param dart: DART noise (see :class:`DartNoise`): the env executes a perturbed version of the
        policy's action, and the episodes hold the policy's own action as the action of each step
        (a :class:`RecordDemonstrations` wrapper in ``env`` records it too, with ``dart`` and the
        fraction of perturbed steps in each episode's metadata). Not combined with ``epsilon``
    :return: the episodes, in order (an empty list without ``keep``)
    """
    from tqdm.auto import tqdm

    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    if dart is not None and epsilon > 0:
        raise ValueError(
            f"--dart cannot be combined with epsilon > 0 (got epsilon {epsilon:g}): random actions would be recorded "
            "as the expert's; choose one"
        )
    noise = DartNoise(env.action_space, dart, seed=seed + 2) if dart is not None else None
    recorder = find_recorder(env) if noise is not None else None
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
            action = label = policy(obs)
            if epsilon > 0 and rng.random() < epsilon:
                action = label = env.action_space.sample()  # epsilon: the random action is what is recorded
            if noise is not None:
                action = noise(label)  # DART: the perturbed action is executed, the expert's is recorded
                if recorder is not None:
                    recorder.label_next_step(label, dart=noise.sigma)
            obs, reward, terminated, truncated, info = env.step(action)
            if keep:
                observations.append(np.array(obs, copy=True))
                actions.append(np.array(label, copy=True))
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
    dart: float | None = None,
) -> list[Path]:
    """Let a program play ``episodes`` episodes and record them into ``folder``.

    :param env_id: the env to play
    :param folder: the demonstration folder (episodes are added to what is there)
    :param episodes: how many episodes
    :param expert: ``"scripted"`` (the steady Flappy Bird expert), ``"precise"``, ``"random"``, a model ``.zip``
        or a zoo run folder
    :param epsilon: probability of a random action instead of the expert's, at each step
    :param skill: a Flappy Bird preset, ``"poor"``, ``"medium"``, ``"strong"`` or ``"precise"`` (sets the expert and
        epsilon and labels the episodes); for other envs, only a label
    :param algo: the algorithm of a model or zoo folder
    :param seed: episode ``k`` is reset with ``seed + k``
    :param env_kwargs: keyword arguments of ``gym.make``
    :param max_episode_steps: override the env's time limit
    :param player: the name saved as the player (default: a description of the expert)
    :param progress_bar: show a progress bar
    :param dart: DART noise of this scale (see :class:`DartNoise`): the env executes a perturbed
        action, each episode records the expert's own action, and its metadata holds ``dart``
        (``sigma``, ``perturbed_steps``, ``perturbed_fraction``). Needs an expert (not ``"random"``)
        and no epsilon
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
    if dart is not None:
        if expert == "random":
            what = f"--skill {skill} plays at random" if skill is not None and is_flappy(env) else "--expert random"
            raise ValueError(f"--dart needs an expert whose actions are worth recording as labels, and {what}")
        if epsilon > 0:
            what = f"--skill {skill} sets epsilon to {epsilon:g}" if skill is not None and is_flappy(env) else "--epsilon"
            raise ValueError(f"--dart cannot be combined with random actions ({what}): use one or the other")
        DartNoise(env.action_space, dart)  # its checks, before an agent is loaded
    policy, description = make_policy(expert, env, algo=algo, seed=seed)
    if epsilon > 0:
        description += f" (epsilon={epsilon:g})"
    if dart is not None:
        description += f" (dart={dart:g})"
    if len(description) > MAX_TEXT_CHARS:  # a model's long path: keep its end
        description = "..." + description[-(MAX_TEXT_CHARS - 3) :]
    recorder = RecordDemonstrations(env, folder, player=player or description, skill=skill)
    play_episodes(recorder, policy, episodes, seed=seed, epsilon=epsilon, progress_bar=progress_bar, keep=False, dart=dart)
    recorder.close()
    return recorder.saved
