"""Programs playing: record demonstrations from the scripted expert, random play or trained agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from sb3_behave.agents import SKILL_PRESETS
from sb3_behave.demos.recorder import RecordDemonstrations
from sb3_behave.demos.storage import PathLike
from sb3_behave.registration import FLAPPY_BIRD_ID

#: ``obs, env -> action`` for one (unbatched) observation.
Policy = Callable[[Any, gym.Env], Any]


def _is_flappy(env: gym.Env) -> bool:
    return env.spec is not None and env.spec.id == FLAPPY_BIRD_ID


def scripted_policy(env: gym.Env) -> Policy:
    """The scripted Flappy Bird expert, whatever the env's ``obs_type`` (it reads the features)."""
    from sb3_behave.envs import FlappyBirdExpert

    if not _is_flappy(env):
        raise ValueError(f"the scripted expert plays {FLAPPY_BIRD_ID} only, not {env.spec.id if env.spec else env}")
    expert = FlappyBirdExpert()
    return lambda obs, env: int(expert.act(env.unwrapped.features()))


def random_policy(env: gym.Env, seed: int = 0) -> Policy:
    """Uniformly random actions from the env's action space, seeded."""
    env.action_space.seed(seed)
    return lambda obs, env: env.action_space.sample()


def model_policy(path: PathLike, env: gym.Env, algo: str | None = None) -> Policy:
    """A trained SB3 agent: a model ``.zip`` or an RL Zoo run folder (its VecNormalize statistics applied).

    :param path: the ``.zip`` file, or the zoo's run folder (``logs/<algo>/<env>_<n>``)
    :param env: the env it will play (for the VecNormalize statistics)
    :param algo: the algorithm (``ppo``, ``dqn``, ...); inferred from a zoo folder's path if omitted
    """
    from sb3_behave.zoo.agents import load_agent_from_path

    model, normalize = load_agent_from_path(path, env, algo=algo)

    def act(obs: Any, env: gym.Env) -> Any:
        if normalize is not None:
            obs = normalize.normalize_obs(obs)
        action, _ = model.predict(obs, deterministic=True)
        return action

    return act


def make_policy(expert: str, env: gym.Env, algo: str | None = None, seed: int = 0) -> tuple[Policy, str]:
    """The policy named by ``expert`` and a description of it (saved as the player).

    :param expert: ``"scripted"``, ``"random"``, a model ``.zip`` or a zoo run folder
    :param env: the env to play
    :param algo: the algorithm of a model or zoo folder
    :param seed: seed of random play
    """
    if expert == "scripted":
        return scripted_policy(env), "scripted-expert"
    if expert == "random":
        return random_policy(env, seed), "random"
    path = Path(expert)
    if not path.exists():
        raise ValueError(f"--expert {expert!r}: expected 'scripted', 'random', a model .zip or an RL Zoo run folder")
    return model_policy(path, env, algo), f"model:{path}"


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
    env = gym.make(env_id, **(env_kwargs or {}), **({"max_episode_steps": max_episode_steps} if max_episode_steps else {}))
    if skill is not None and _is_flappy(env):
        if skill not in SKILL_PRESETS:
            raise ValueError(f"unknown skill {skill!r}: expected one of {', '.join(SKILL_PRESETS)}")
        preset = SKILL_PRESETS[skill]
        if epsilon is not None and epsilon != preset.epsilon:
            raise ValueError(f"--skill {skill} sets epsilon to {preset.epsilon}; do not pass --epsilon with it")
        expert, epsilon = preset.expert, preset.epsilon
    epsilon = epsilon or 0.0
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    policy, description = make_policy(expert, env, algo=algo, seed=seed)
    if epsilon > 0:
        description += f" (epsilon={epsilon:g})"
    recorder = RecordDemonstrations(env, folder, player=player or description, skill=skill)
    rng = np.random.default_rng(seed)
    recorder.action_space.seed(seed + 1)
    from tqdm.auto import tqdm

    bar = tqdm(range(episodes), desc=f"recording {env_id}", unit="episode", disable=not progress_bar)
    for k in bar:
        obs, info = recorder.reset(seed=seed + k)
        done = False
        while not done:
            action = policy(obs, recorder)
            if epsilon > 0 and rng.random() < epsilon:
                action = recorder.action_space.sample()
            obs, _, terminated, truncated, info = recorder.step(action)
            done = terminated or truncated
        if "score" in info:
            bar.set_postfix(score=info["score"])
    recorder.close()
    return recorder.saved
