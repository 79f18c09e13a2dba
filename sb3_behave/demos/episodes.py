"""What a demonstration episode is, and the checks every reader of demonstrations shares.

:class:`Episode` (a trajectory with its metadata and where it came from), :class:`DemonstrationError`,
the metadata's fields and their checks (:func:`parse_metadata`), the array checks
(:func:`make_trajectory`) and the env checks (:func:`check_episodes`). The readers of each format
build on it: our episode files and imitation's formats (:mod:`sb3_behave.demos.storage`) and
Minari datasets (:mod:`sb3_behave.demos.minari_datasets`). It imports neither.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Sequence, Union

import numpy as np
from imitation.data.types import Trajectory, TrajectoryWithRew

from sb3_behave.checks import is_number, is_whole_number

#: The ``format`` field of our episodes' metadata.
FORMAT = "sb3-behave-episode"


#: The version of our episode format.
FORMAT_VERSION = 1


#: A path, as text or ``pathlib.Path``.
PathLike = Union[str, "os.PathLike[str]"]


class DemonstrationError(ValueError):
    """A demonstration file or folder that cannot be used; the message names it and the problem."""


@dataclass(frozen=True)
class Episode:
    """One demonstration episode with where it came from.

    :param trajectory: the transitions, in imitation's type (a ``TrajectoryWithRew`` unless it came
        from an in-memory ``Trajectory`` without rewards)
    :param metadata: what was recorded with it (empty for imitation's formats)
    :param source: the file (or ``folder[index]``) it was read from
    """

    trajectory: Trajectory
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""


#: What every ``demonstrations`` argument of sb3-behave takes (see :func:`load_demonstrations`).
Demonstrations = Union[PathLike, Trajectory, Episode, Sequence[Union[PathLike, Trajectory, Episode]]]


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data (tuples become lists, anything unknown its ``repr``)."""
    return json.loads(json.dumps(value, default=repr))


#: Env kwargs that change how an episode is shown, not what happens in it: not compared.
DISPLAY_KWARGS = frozenset({"render_mode", "render_speed"})


def env_kwargs(spec: Any) -> dict[str, Any]:
    """The kwargs of an env spec that shape its episodes, as plain JSON data."""
    if spec is None:
        return {}
    return json_safe({k: v for k, v in spec.kwargs.items() if k not in DISPLAY_KWARGS})


def differing_kwargs(recorded: dict[str, Any], kwargs: dict[str, Any]) -> list[str]:
    """The names of the env kwargs that differ between two sets of them (set in one only, or to other values)."""
    return sorted(k for k in set(recorded) | set(kwargs) if recorded.get(k) != kwargs.get(k))


#: The largest metadata JSON of one episode (a few hundred bytes in practice).
MAX_METADATA_CHARS = 64 * 2**10


#: The longest text in a metadata field (a player's name, an env id, a skill label).
MAX_TEXT_CHARS = 256


#: Metadata fields and what each may be (``None`` is allowed for all but ``format``); others are kept as they are.
_FIELDS: dict[str, tuple[str, tuple[type, ...]]] = {
    "format": ("a string", (str,)),
    "format_version": ("an integer", (int,)),
    "env_id": ("a string", (str,)),
    "env_kwargs": ("a mapping", (dict,)),
    "max_episode_steps": ("a positive integer", (int,)),
    "seed": ("an integer", (int,)),
    "score": ("a finite number", (int, float)),
    "return": ("a finite number", (int, float)),
    "length": ("the number of actions", (int,)),
    "terminated": ("true or false", (bool,)),
    "truncated": ("true or false", (bool,)),
    "interrupted": ("true or false", (bool,)),
    "player": ("a string", (str,)),
    "skill": ("a string", (str,)),
    "timestamp": ("a string", (str,)),
    "sb3_behave_version": ("a string", (str,)),
    "dart": ("a mapping of sigma, perturbed_steps and perturbed_fraction", (dict,)),
}


def _field_problem(key: str, value: Any, length: int | None) -> str | None:
    expected, types = _FIELDS[key]
    is_bool = isinstance(value, bool)
    if not isinstance(value, types) or (is_bool and bool not in types):
        return f"expected {expected}"
    if isinstance(value, float) and not np.isfinite(value):
        return f"expected {expected}"
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return f"{len(value):,} characters, expected at most {MAX_TEXT_CHARS}"
    if key == "max_episode_steps" and value < 1:
        return f"expected {expected}"
    if key == "length" and length is not None and value != length:
        return f"expected {expected}, {length}"
    if key == "env_kwargs" and not all(isinstance(k, str) for k in value):
        return "expected a mapping of names to values"
    if key == "dart":
        sigma, steps, fraction = (value.get(k) for k in ("sigma", "perturbed_steps", "perturbed_fraction"))
        numbers = all(is_number(v) and np.isfinite(v) for v in (sigma, fraction))
        if not (numbers and is_whole_number(steps, minimum=None)):
            return f"expected {expected}"
        if sigma < 0 or steps < 0 or not 0 <= fraction <= 1 or (length is not None and steps > length):
            return f"expected {expected}: sigma >= 0, 0 <= perturbed_steps <= length, perturbed_fraction in [0, 1]"
    return None


def parse_metadata(source: str, text: str, length: int | None = None) -> dict[str, Any]:
    """Parse and check an episode's metadata JSON: its size, its nesting, and each known field's type and range.

    :param source: the file (or dataset entry) it came from, named in errors
    :param text: the JSON text
    :param length: the episode's number of actions, which the ``length`` field must equal
    :return: the metadata
    :raises DemonstrationError: naming ``source``, the field, its value and what was expected
    """
    if len(text) > MAX_METADATA_CHARS:
        raise DemonstrationError(f"{source}: metadata is {len(text):,} characters, expected at most {MAX_METADATA_CHARS:,}")
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        raise DemonstrationError(f"{source}: metadata is not valid JSON ({error})") from None
    except RecursionError:
        raise DemonstrationError(f"{source}: metadata is nested too deeply to be episode metadata") from None
    if not isinstance(metadata, dict):
        raise DemonstrationError(f"{source}: metadata is a JSON {type(metadata).__name__}, expected an object")
    for key in _FIELDS.keys() & metadata.keys():
        value = metadata[key]
        if value is None and key != "format":
            continue
        problem = _field_problem(key, value, length)
        if problem is not None:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise DemonstrationError(f"{source}: metadata field {key!r} is {shown}: {problem}")
    return metadata


def make_trajectory(
    source: str, obs: np.ndarray, acts: np.ndarray, rews: np.ndarray | None, terminal: bool
) -> Trajectory | TrajectoryWithRew:
    """Check the arrays of one episode and make imitation's trajectory of them (the loader's array checks).

    :param source: the file or ``demonstrations[i]`` they came from, named in errors
    :param obs: T + 1 observations
    :param acts: T actions
    :param rews: T rewards, or ``None`` for an episode without rewards
    :param terminal: whether it ended by a real termination (not a time limit)
    :return: a ``TrajectoryWithRew``, or a ``Trajectory`` when ``rews`` is ``None``
    :raises DemonstrationError: non-numeric arrays, NaN or inf, an empty episode, or lengths that do not match
    """
    arrays = (("obs", obs), ("acts", acts)) + ((("rews", rews),) if rews is not None else ())
    for name, array in arrays:
        numeric = np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.complexfloating)
        if not (numeric or array.dtype == np.bool_):
            raise DemonstrationError(f"{source}: {name} has dtype {array.dtype}, expected real numbers")
        if array.ndim == 0 or (name == "rews" and array.ndim != 1):
            expected = "one per step" if name == "rews" else "one entry per step"
            raise DemonstrationError(f"{source}: {name} has shape {array.shape}, expected {expected}")
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            bad = np.argwhere(~np.isfinite(array))[0]
            raise DemonstrationError(f"{source}: {name} holds NaN or inf (first at index {tuple(int(i) for i in bad)})")
    if len(acts) == 0:
        raise DemonstrationError(f"{source}: empty episode (no actions)")
    if len(obs) != len(acts) + 1 or (rews is not None and len(rews) != len(acts)):
        counts = f"{len(obs)} observations, {len(acts)} actions" + (f", {len(rews)} rewards" if rews is not None else "")
        raise DemonstrationError(
            f"{source}: inconsistent lengths: {counts} (expected one more observation than actions, one reward per action)"
        )
    if rews is None:
        return Trajectory(obs=obs, acts=acts, infos=None, terminal=bool(terminal))
    return TrajectoryWithRew(obs=obs, acts=acts, infos=None, terminal=bool(terminal), rews=rews.astype(np.float32))


def _describe_space(space: Any) -> str:
    return f"{type(space).__name__}{getattr(space, 'shape', '')} {getattr(space, 'dtype', '')}".strip()


def _first_out_of_bounds(values: np.ndarray, low: Any, high: Any, tolerance: float = 0.0) -> int | None:
    """Index of the first step with a value outside ``[low - tolerance, high + tolerance]``, else ``None``."""
    outside = (values < low - tolerance) | (values > high + tolerance)
    return int(np.argwhere(outside)[0][0]) if outside.any() else None


def _check_against_spaces(episode: Episode, env_id: str, obs_space: Any, act_space: Any) -> None:
    from gymnasium import spaces

    source, obs, acts = episode.source, episode.trajectory.obs, episode.trajectory.acts
    if isinstance(obs_space, spaces.Box):
        # Our recordings know their env: any other dtype means another env. Trajectories from elsewhere
        # (in memory, imitation's files) may hold float64 for a float32 space: the same kind will do.
        ours = episode.metadata.get("format") == FORMAT
        dtype_fits = obs.dtype == obs_space.dtype or (not ours and obs.dtype.kind == np.dtype(obs_space.dtype).kind)
        if obs.shape[1:] != obs_space.shape or not dtype_fits:
            raise DemonstrationError(
                f"{source}: observations are {obs.shape[1:]} {obs.dtype}, but {env_id} has {_describe_space(obs_space)}"
            )
        tolerance = 1e-5 if np.issubdtype(obs.dtype, np.floating) else 0
        step = _first_out_of_bounds(obs, obs_space.low, obs_space.high, tolerance)
        if step is not None:
            raise DemonstrationError(f"{source}: observation {step} is outside the observation space of {env_id}")
    if isinstance(act_space, spaces.Discrete):
        if not (np.issubdtype(acts.dtype, np.integer) or np.all(np.mod(acts, 1) == 0)) or acts.shape[1:] not in ((), (1,)):
            raise DemonstrationError(f"{source}: actions are {acts.shape[1:]} {acts.dtype}, but {env_id} has {act_space}")
        step = _first_out_of_bounds(acts, act_space.start, act_space.start + act_space.n - 1)
        if step is not None:
            raise DemonstrationError(
                f"{source}: action {step} is {acts.flat[step]}, outside {env_id}'s action space {act_space}"
            )
    elif isinstance(act_space, spaces.Box):
        if acts.shape[1:] != act_space.shape:
            raise DemonstrationError(f"{source}: actions are {acts.shape[1:]}, but {env_id} has {_describe_space(act_space)}")
        step = _first_out_of_bounds(acts, act_space.low, act_space.high, 1e-5)
        if step is not None:
            raise DemonstrationError(f"{source}: action {step} is outside {env_id}'s action space {act_space}")


def env_description(env: Any) -> tuple[str | None, dict | None, Any, Any]:
    """(env id, kwargs, observation space, action space) of an env, a VecEnv, an env id, or what has the two spaces.

    :param env: what to describe
    :raises DemonstrationError: an env id that cannot be made
    """
    import gymnasium as gym

    if isinstance(env, str):
        try:
            made = gym.make(env)
        except Exception as error:
            raise DemonstrationError(f"cannot make env {env!r} to check the demonstrations against: {error}") from None
        made.close()
        return made.spec.id, env_kwargs(made.spec), made.observation_space, made.action_space
    spec = getattr(env, "spec", None)
    if spec is None and hasattr(env, "envs"):  # an SB3 DummyVecEnv
        spec = getattr(env.envs[0], "spec", None)
    env_id = spec.id if spec is not None else None
    kwargs = env_kwargs(spec) if spec is not None else None
    return env_id, kwargs, env.observation_space, env.action_space


def check_episodes(episodes: Sequence[Episode], env: Any = None) -> None:
    """Check that the episodes come from one env (id and kwargs), and from ``env`` if given.

    :param episodes: episodes read by :func:`~sb3_behave.demos.storage.read_episodes`
    :param env: an env, a VecEnv or an env id to check observations and actions against
    :raises DemonstrationError: naming the first file at fault and what was expected
    """
    reference: Episode | None = None
    for episode in episodes:
        if not episode.metadata:
            continue
        if reference is None:
            reference = episode
            continue
        for key in ("env_id", "env_kwargs"):
            if episode.metadata.get(key) != reference.metadata.get(key):
                raise DemonstrationError(
                    f"{episode.source}: {key} is {episode.metadata.get(key)!r}, but {reference.source} has "
                    f"{reference.metadata.get(key)!r}: demonstrations must come from one env"
                )
    if env is None:
        return
    env_id, kwargs, obs_space, act_space = env_description(env)
    name = env_id or "the env"
    for episode in episodes:
        meta = episode.metadata
        if meta and env_id is not None and meta.get("env_id") != env_id:
            raise DemonstrationError(f"{episode.source}: recorded in {meta.get('env_id')!r}, not in {env_id!r}")
        if meta and kwargs is not None and meta.get("env_kwargs") != kwargs:
            recorded = meta.get("env_kwargs") or {}
            keys = differing_kwargs(recorded, kwargs)
            raise DemonstrationError(
                f"{episode.source}: recorded with env kwargs {recorded!r}, but the env has {kwargs!r} "
                f"(differing: {', '.join(keys)})"
            )
        _check_against_spaces(episode, name, obs_space, act_space)


__all__ = [
    "DISPLAY_KWARGS",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_METADATA_CHARS",
    "MAX_TEXT_CHARS",
    "DemonstrationError",
    "Demonstrations",
    "Episode",
    "PathLike",
    "check_episodes",
    "differing_kwargs",
    "env_description",
    "env_kwargs",
    "json_safe",
    "make_trajectory",
    "parse_metadata",
]
