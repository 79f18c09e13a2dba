"""Registration of sb3-behave's environments with gymnasium.

``import sb3_behave`` calls :func:`register_envs`, so ``gym.make("sb3_behave/FlappyBird-v0")`` works
after it. Without the import, ``gym.make("sb3_behave:sb3_behave/FlappyBird-v0")`` makes gymnasium
import the package first; the RL Zoo takes ``--gym-packages sb3_behave``. gymnasium 0.29 also calls
:func:`register_envs` through the ``gymnasium.envs`` entry point when it is imported (gymnasium 1.x
no longer loads such plugins). It imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

#: The id of the Flappy Bird env, registered when ``sb3_behave`` is imported.
FLAPPY_BIRD_ID = "sb3_behave/FlappyBird-v0"
FLAPPY_BIRD_MAX_EPISODE_STEPS = 10_000


def register_envs() -> None:
    """Register ``sb3_behave/FlappyBird-v0`` (once; calling again does nothing)."""
    from gymnasium.envs.registration import register, registry

    if FLAPPY_BIRD_ID not in registry:
        register(
            id=FLAPPY_BIRD_ID,
            entry_point="sb3_behave.envs.flappy_bird.env:FlappyBirdEnv",
            max_episode_steps=FLAPPY_BIRD_MAX_EPISODE_STEPS,
        )


def make_env(
    env_id: str, env_kwargs: dict[str, Any] | None = None, max_episode_steps: int | None = None, **display: Any
) -> Any:
    """``gym.make`` with errors a user can act on: a misspelt kwarg, a bad time limit, an env that fails to start.

    :param env_id: the env id
    :param env_kwargs: keyword arguments of the env
    :param max_episode_steps: override the env's time limit (a positive integer)
    :param display: ``render_mode`` and the like, passed on as they are
    :return: the env
    :raises ValueError: naming the env id, the kwarg or value at fault, and what was expected
    """
    import inspect
    import re

    import gymnasium as gym

    if max_episode_steps is not None and (
        isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, int) or max_episode_steps < 1
    ):
        raise ValueError(f"max_episode_steps must be a positive integer, got {max_episode_steps!r}")
    kwargs = dict(env_kwargs or {})
    extra = {"max_episode_steps": max_episode_steps} if max_episode_steps is not None else {}
    try:
        return gym.make(env_id, **kwargs, **extra, **display)
    except TypeError as error:
        unexpected = re.search(r"unexpected keyword argument '(\w+)'", str(error))
        if unexpected is None:
            raise ValueError(f"{env_id} with env kwargs {kwargs}: {str(error).splitlines()[0]}") from None
        accepted = ""
        try:
            entry_point = gym.spec(env_id).entry_point
            creator = gym.envs.registration.load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
            names = [p for p in inspect.signature(creator).parameters if p not in ("self", "render_mode", "kwargs")]
            accepted = f"; it takes {', '.join(names) or 'none'}"
        except (AttributeError, ImportError, TypeError, ValueError):  # no signature to show: the name alone
            pass
        raise ValueError(f"{env_id} has no env kwarg {unexpected.group(1)!r}{accepted}") from None
