"""Registration of sb3-behave's environments with gymnasium.

``import sb3_behave`` calls :func:`register_envs`, so ``gym.make("sb3_behave/FlappyBird-v0")`` works
after it. Without the import, ``gym.make("sb3_behave:sb3_behave/FlappyBird-v0")`` makes gymnasium
import the package first; the RL Zoo takes ``--gym-packages sb3_behave``. gymnasium 0.29 also calls
:func:`register_envs` through the ``gymnasium.envs`` entry point when it is imported (gymnasium 1.x
no longer loads such plugins). It imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from sb3_behave.checks import is_number, is_whole_number

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
    import re

    import gymnasium as gym

    if max_episode_steps is not None and not is_whole_number(max_episode_steps):
        raise ValueError(f"max_episode_steps must be a positive integer, got {max_episode_steps!r}")
    kwargs = dict(env_kwargs or {})
    extra = {"max_episode_steps": max_episode_steps} if max_episode_steps is not None else {}
    parameters = _creator_parameters(env_id)
    _check_kwarg_types(env_id, kwargs, parameters)
    try:
        return gym.make(env_id, **kwargs, **extra, **display)
    except TypeError as error:
        unexpected = re.search(r"unexpected keyword argument '(\w+)'", str(error))
        if unexpected is None:
            raise ValueError(f"{env_id} with env kwargs {kwargs}: {str(error).splitlines()[0]}") from None
        names = [p for p in parameters or () if p not in ("self", "render_mode", "kwargs")]
        accepted = f"; it takes {', '.join(names) or 'none'}" if parameters is not None else ""
        raise ValueError(f"{env_id} has no env kwarg {unexpected.group(1)!r}{accepted}") from None
    except (KeyError, IndexError, AssertionError) as error:  # the env's own checks of its kwargs
        raise ValueError(f"{env_id} refused env kwargs {kwargs} ({type(error).__name__}: {error})") from None


#: Keyword arguments that ``gym.make`` takes itself (not the env's constructor).
MAKE_KWARGS = frozenset({"max_episode_steps", "autoreset", "apply_api_compatibility", "disable_env_checker", "render_mode"})


def check_env_kwargs(env_id: str, env_kwargs: dict[str, Any]) -> None:
    """Check env kwargs against what the env's constructor takes, without making the env.

    A name it does not take (unless it takes ``**kwargs``), and a word where its default is a flag
    or a number (``is_slippery: maybe`` would be taken as true), are refused.

    :param env_id: a registered env id (an unknown one is left to ``gym.make``)
    :param env_kwargs: the kwargs
    :raises ValueError: naming the env, the kwarg and what was expected
    """
    import inspect

    parameters = _creator_parameters(env_id)
    if parameters is None:
        return
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    names = [p for p in parameters if p not in ("self", "render_mode", "kwargs")]
    for key in env_kwargs:
        if not takes_any and key not in parameters and key not in MAKE_KWARGS:
            raise ValueError(f"{env_id} has no env kwarg {key!r}; it takes {', '.join(names) or 'none'}")
    _check_kwarg_types(env_id, env_kwargs, parameters)


def _check_kwarg_types(env_id: str, kwargs: dict[str, Any], parameters: Any) -> None:
    """A word where the env's default is a flag or a number would be taken as true, or fail deep inside."""
    import inspect

    for key, value in kwargs.items():
        default = parameters[key].default if parameters is not None and key in parameters else inspect.Parameter.empty
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{env_id}: env kwarg {key}={value!r}: expected true or false (its default is {default})")
        if is_number(default) and isinstance(value, str):
            raise ValueError(f"{env_id}: env kwarg {key}={value!r}: expected a number like {default!r}")


def _creator_parameters(env_id: str) -> Any:
    """The parameters of the function or class an env id makes (``None`` when they cannot be known)."""
    import inspect

    import gymnasium as gym

    try:
        entry_point = gym.spec(env_id).entry_point
        creator = gym.envs.registration.load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
        return dict(inspect.signature(creator).parameters)
    except Exception:  # an unknown id (gym.make says so), no signature: nothing to check against
        return None
