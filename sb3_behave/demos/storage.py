"""Demonstrations on disk: one file per episode, written atomically, read without running code.

An episode file ``episode-<time>-<pid>.npz`` is a numpy ``.npz`` archive of plain arrays:
``obs`` (T + 1 observations), ``acts`` (T actions), ``rews`` (T rewards), ``terminal`` (a bool:
the episode ended by a real termination, not a time limit) and ``metadata`` (a JSON string: env
id and kwargs, seed, score, return, length, player, skill label, timestamp, package version; for
a recording with DART noise, ``dart``: its sigma and how many steps it perturbed).
It is read with ``allow_pickle=False``: a file that holds pickled objects is refused.

:func:`load_demonstrations` also reads the formats of the ``imitation`` library (a saved
``datasets`` folder, or the older ``.npz``) without decoding their jsonpickled ``infos``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence, Union

import numpy as np
from imitation.data.types import Trajectory, TrajectoryWithRew

from sb3_behave.outputs import replacing

if TYPE_CHECKING:
    import gymnasium as gym

EPISODE_PATTERN = "episode-*.npz"
FORMAT = "sb3-behave-episode"
FORMAT_VERSION = 1
_ARRAYS = ("obs", "acts", "rews", "terminal", "metadata")

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


# --------------------------------------------------------------------------- writing
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


def episode_metadata(env: gym.Env, **fields: Any) -> dict[str, Any]:
    """Metadata of an episode of ``env``: env id, kwargs and time limit, plus ``fields``.

    :param env: the env the episode was played in
    :param fields: more entries (seed, score, player, skill, ...)
    """
    from sb3_behave import __version__

    spec = env.spec
    return json_safe(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "env_id": spec.id if spec is not None else type(env.unwrapped).__name__,
            "env_kwargs": env_kwargs(spec),
            "max_episode_steps": spec.max_episode_steps if spec is not None else None,
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sb3_behave_version": __version__,
            **fields,
        }
    )


def write_episode(folder: PathLike, trajectory: TrajectoryWithRew, metadata: dict[str, Any]) -> Path:
    """Write one episode into ``folder`` atomically (a temporary file, then a rename).

    A crash at any moment leaves either the complete file or no episode file at all (at most a
    hidden ``.episode-*.tmp`` file, which loaders ignore).

    :param folder: the demonstration folder (created if needed)
    :param trajectory: the episode
    :param metadata: JSON-serialisable metadata (see :func:`episode_metadata`)
    :return: the path of the new file
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    final = folder / f"episode-{stamp}-{os.getpid()}.npz"
    with replacing(final) as temporary:
        np.savez_compressed(
            temporary,
            obs=np.asarray(trajectory.obs),
            acts=np.asarray(trajectory.acts),
            rews=np.asarray(trajectory.rews),
            terminal=np.asarray(bool(trajectory.terminal)),
            metadata=np.asarray(json.dumps(json_safe(metadata))),
        )
    return final


def check_folder_accepts(folder: PathLike, env: gym.Env) -> None:
    """Check, before anything is played, that episodes of ``env`` may be added to ``folder``.

    :param folder: a demonstration folder (it may not exist yet)
    :param env: the env whose episodes will be written
    :raises DemonstrationError: ``folder`` is a file or cannot be written to, or holds episodes of
        another env id or other env kwargs (a folder of mixed envs no longer loads)
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DemonstrationError(f"{folder}: is a file, and episodes are written into a folder: choose a folder")
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise DemonstrationError(f"{folder}: cannot write into this folder (permission denied)")
    existing = sorted(folder.glob(EPISODE_PATTERN)) if folder.is_dir() else []
    if not existing:
        return
    recorded = read_episode(existing[0]).metadata
    spec = env.spec
    env_id = spec.id if spec is not None else type(env.unwrapped).__name__
    kwargs = env_kwargs(spec)
    if recorded.get("env_id") != env_id:
        raise DemonstrationError(
            f"{folder}: holds episodes of {recorded.get('env_id')}, not of {env_id}: record into another folder"
        )
    old = recorded.get("env_kwargs") or {}
    differing = differing_kwargs(old, kwargs)
    if differing:

        def shown(values: dict[str, Any], key: str) -> str:
            return repr(values[key]) if key in values else "unset"

        what = "; ".join(f"{k}: {shown(old, k)} there, {shown(kwargs, k)} here" for k in differing)
        raise DemonstrationError(
            f"{folder}: holds episodes of {env_id} with other env kwargs ({what}): record into another folder"
        )


def save_demonstrations(trajectories: Sequence[TrajectoryWithRew], path: PathLike) -> Path:
    """Save trajectories in the ``imitation`` library's own format (``imitation.data.serialize``).

    :param trajectories: what to save
    :param path: the folder to create (it must not exist yet)
    """
    from imitation.data import serialize

    path = Path(path)
    if path.exists():
        raise DemonstrationError(f"{path}: already exists; choose a new folder for the export")
    if not trajectories:
        raise DemonstrationError(f"{path}: nothing to export (no trajectories)")
    serialize.save(path, list(trajectories))
    return path


# --------------------------------------------------------------------------- limits
#: The largest array a demonstration file may hold, checked from its header before anything is read.
MAX_ARRAY_BYTES = 4 * 2**30
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
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in (sigma, fraction))
        if not (numbers and isinstance(steps, int) and not isinstance(steps, bool)):
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


def _check_array_header(path: Path, archive: zipfile.ZipFile, name: str) -> None:
    """Refuse an array whose header claims more bytes than the file holds or than :data:`MAX_ARRAY_BYTES`."""
    try:
        info = archive.getinfo(f"{name}.npy")
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    except (KeyError, ValueError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise DemonstrationError(f"{path}: array {name!r} has no valid header ({type(error).__name__}: {error})") from None
    claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if claimed > MAX_ARRAY_BYTES:
        raise DemonstrationError(
            f"{path}: array {name!r} claims shape {shape} of {dtype} ({claimed:,} bytes), more than the "
            f"{MAX_ARRAY_BYTES:,} bytes a demonstration array may hold"
        )
    if claimed > info.file_size:
        raise DemonstrationError(
            f"{path}: array {name!r} claims shape {shape} of {dtype} ({claimed:,} bytes), but holds {info.file_size:,} bytes"
        )


# --------------------------------------------------------------------------- reading
def _refused(path: Path) -> DemonstrationError:
    return DemonstrationError(
        f"{path}: refused: the file holds pickled Python objects, which could run code when loaded "
        "(sb3-behave never unpickles demonstration files)"
    )


def _open_npz(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise _refused(path) from None
        raise DemonstrationError(f"{path}: not a numpy .npz archive ({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise DemonstrationError(f"{path}: truncated or corrupt file ({type(error).__name__}: {error})") from None


def _read_arrays(path: Path, data: Any, names: Iterable[str]) -> dict[str, np.ndarray]:
    arrays = {}
    for name in names:
        _check_array_header(path, data.zip, name)
        try:
            arrays[name] = data[name]
        except ValueError as error:
            if "pickle" in str(error):
                raise _refused(path) from None
            raise DemonstrationError(f"{path}: array {name!r} cannot be read ({error})") from None
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
            raise DemonstrationError(f"{path}: truncated or corrupt file ({type(error).__name__}: {error})") from None
    return arrays


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


def read_episode(path: PathLike) -> Episode:
    """Read and check one sb3-behave episode file (never unpickles anything).

    :param path: an ``episode-*.npz`` file
    :raises DemonstrationError: if the file is missing, truncated, corrupt, holds pickled data or
        holds arrays that do not make an episode
    """
    path = Path(path)
    if not path.is_file():
        raise DemonstrationError(f"{path}: no such file")
    with _open_npz(path) as data:
        missing = [name for name in _ARRAYS if name not in data.files]
        if missing:
            raise DemonstrationError(f"{path}: not an sb3-behave episode file: missing {', '.join(missing)}")
        arrays = _read_arrays(path, data, _ARRAYS)
    for name in ("terminal", "metadata"):
        if arrays[name].shape != ():
            raise DemonstrationError(f"{path}: {name} has shape {arrays[name].shape}, expected a single value")
    if arrays["metadata"].dtype.kind != "U":
        raise DemonstrationError(f"{path}: metadata has dtype {arrays['metadata'].dtype}, expected a JSON string")
    acts = arrays["acts"]
    metadata = parse_metadata(str(path), str(arrays["metadata"]), len(acts) if acts.ndim else None)
    if metadata.get("format") != FORMAT:
        raise DemonstrationError(f"{path}: metadata does not describe an sb3-behave episode (format {FORMAT!r})")
    trajectory = make_trajectory(str(path), arrays["obs"], acts, arrays["rews"], bool(arrays["terminal"]))
    return Episode(trajectory, metadata, str(path))


def _read_imitation_dataset(folder: Path) -> list[Episode]:
    """imitation's ``serialize.save`` folder, without its jsonpickled ``infos``."""
    import datasets

    try:
        dataset = datasets.load_from_disk(str(folder))
    except Exception as error:  # datasets raises many kinds of errors on damaged folders
        raise DemonstrationError(f"{folder}: cannot read the imitation dataset ({type(error).__name__}: {error})") from None
    if not isinstance(dataset, datasets.Dataset):
        raise DemonstrationError(f"{folder}: expected one imitation dataset, found {type(dataset).__name__}")
    missing = [name for name in ("obs", "acts", "terminal", "rews") if name not in dataset.column_names]
    if missing:
        raise DemonstrationError(f"{folder}: imitation dataset without {', '.join(missing)} (rewards are needed)")
    columns = dataset.select_columns(["obs", "acts", "terminal", "rews"]).with_format("numpy")
    episodes = []
    for i in range(len(columns)):
        row = columns[i]
        source = f"{folder}[{i}]"
        obs = np.stack(row["obs"]) if row["obs"].dtype == object else np.asarray(row["obs"])
        acts = np.stack(row["acts"]) if row["acts"].dtype == object else np.asarray(row["acts"])
        episodes.append(
            Episode(make_trajectory(source, obs, acts, np.asarray(row["rews"]), bool(row["terminal"])), {}, source)
        )
    return episodes


def _read_imitation_npz(path: Path) -> list[Episode]:
    """imitation's older ``.npz`` format; its pickled ``infos`` array is never touched."""
    with _open_npz(path) as data:
        missing = [name for name in ("obs", "acts", "terminal", "indices", "rews") if name not in data.files]
        if missing:
            raise DemonstrationError(
                f"{path}: neither an sb3-behave episode nor imitation's .npz: missing {', '.join(missing)}"
            )
        arrays = _read_arrays(path, data, ("obs", "acts", "terminal", "indices", "rews"))
    indices = arrays["indices"].astype(np.int64)
    obs = np.split(arrays["obs"], indices + np.arange(len(indices)) + 1)
    acts = np.split(arrays["acts"], indices)
    rews = np.split(arrays["rews"], indices)
    return [
        Episode(make_trajectory(f"{path}[{i}]", o, a, r, bool(t)), {}, f"{path}[{i}]")
        for i, (o, a, r, t) in enumerate(zip(obs, acts, rews, arrays["terminal"]))
    ]


def read_episodes(path: PathLike) -> list[Episode]:
    """All episodes at ``path``: an sb3-behave episode file or folder, imitation's formats, or a Minari dataset.

    :param path: a file or a folder, or a dataset id in the local Minari root
    :raises DemonstrationError: naming the path and the problem
    """
    from sb3_behave.demos.minari_datasets import minari_data_folder, minari_root, read_minari

    path = Path(path)
    if not path.exists():
        if minari_data_folder(path) is not None:  # a dataset id in the local Minari root
            return read_minari(path)
        raise DemonstrationError(f"{path}: no such file or folder (nor a Minari dataset id in {minari_root()})")
    if path.is_dir():
        files = sorted(path.glob(EPISODE_PATTERN))
        if files:
            return [read_episode(f) for f in files]
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            return _read_imitation_dataset(path)
        if minari_data_folder(path) is not None:
            return read_minari(path)
        raise DemonstrationError(
            f"{path}: no demonstrations: expected {EPISODE_PATTERN} files (sb3-behave), a dataset saved by imitation "
            "or a Minari dataset"
        )
    if path.suffix in (".pkl", ".pickle"):
        raise _refused(path)
    if path.suffix != ".npz":
        raise DemonstrationError(f"{path}: unknown demonstration file: expected an .npz file or a folder")
    with _open_npz(path) as data:
        ours = "metadata" in data.files
    return [read_episode(path)] if ours else _read_imitation_npz(path)


# --------------------------------------------------------------------------- checking
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


def _env_description(env: Any) -> tuple[str | None, dict | None, Any, Any]:
    """(env id, kwargs, observation space, action space) of an env, a VecEnv, an env id, or what has the two spaces."""
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

    :param episodes: episodes read by :func:`read_episodes`
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
    env_id, kwargs, obs_space, act_space = _env_description(env)
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


def _in_memory(index: int, trajectory: Trajectory) -> Episode:
    """An imitation trajectory given in memory, checked like a file's arrays; its ``infos`` are kept.

    (``infos`` can say that a ``terminal`` episode was cut by a time limit, as imitation's
    rollouts do; files never give them, since decoding them would run jsonpickle.)
    """
    from imitation.data.types import DictObs

    source = f"demonstrations[{index}]"
    rews = np.asarray(trajectory.rews) if isinstance(trajectory, TrajectoryWithRew) else None
    if isinstance(trajectory.obs, DictObs):  # dict observations: check each key's arrays, keep the trajectory
        acts = np.asarray(trajectory.acts)
        for key, values in trajectory.obs.items():
            make_trajectory(f"{source}.obs[{key!r}]", np.asarray(values), acts, rews, trajectory.terminal)
        return Episode(trajectory, {}, source)
    checked = make_trajectory(source, np.asarray(trajectory.obs), np.asarray(trajectory.acts), rews, trajectory.terminal)
    return Episode(dataclasses.replace(checked, infos=trajectory.infos), {}, source)


def load_episodes(demonstrations: Demonstrations, env: Any = None) -> list[Episode]:
    """Read demonstrations from wherever they are, as checked :class:`Episode` objects (see :func:`load_demonstrations`)."""
    single = isinstance(demonstrations, (str, os.PathLike, Trajectory, Episode))
    items = [demonstrations] if single else list(demonstrations)  # type: ignore[arg-type]
    if not items:
        raise DemonstrationError("no demonstrations given (an empty list)")
    episodes: list[Episode] = []
    for index, item in enumerate(items):
        if isinstance(item, Episode):
            episodes.append(item)
        elif isinstance(item, Trajectory):
            episodes.append(_in_memory(index, item))
        elif isinstance(item, (str, os.PathLike)):
            episodes.extend(read_episodes(item))
        else:
            raise DemonstrationError(
                f"demonstrations[{index}] is a {type(item).__name__}: expected a path, a Minari dataset id, an imitation "
                "Trajectory or an Episode"
            )
    check_episodes(episodes, env)
    return episodes


def load_demonstrations(
    demonstrations: Demonstrations, env: Any = None, require_rewards: bool | str = False
) -> list[Trajectory]:
    """The one entry point: demonstrations from wherever they are, as imitation trajectories, checked.

    Every consumer (the zoo adapters, ValueDICE, the warm start, the landscapes) reads its
    ``demonstrations`` through here. Nothing read runs code: episode files are read with
    ``allow_pickle=False``, pickle files are refused, and imitation's jsonpickled ``infos`` are dropped.

    :param demonstrations: one of these, or a list of them: an sb3-behave demo folder or episode
        file; a dataset saved by ``imitation`` (its ``datasets`` folder or older ``.npz``); a Minari
        dataset (a folder, or a dataset id in the local Minari root; needs the ``minari`` extra);
        an imitation ``Trajectory`` / ``TrajectoryWithRew``; an :class:`Episode`
    :param env: what to check them against: an env, a VecEnv, an env id, or anything with
        ``observation_space`` and ``action_space`` (an SB3 algorithm). Observations and actions must
        fit its spaces, and episodes with metadata must come from its env id and kwargs
    :param require_rewards: refuse trajectories without rewards (for consumers that use them; a
        string says why, in the error); otherwise such trajectories come back as they are, never
        with made-up rewards
    :return: the trajectories, in the order given and, within a folder, of recording; files give
        ``TrajectoryWithRew``
    :raises DemonstrationError: a one-line message naming the file (or ``demonstrations[i]``) and the problem
    """
    episodes = load_episodes(demonstrations, env)
    if require_rewards:
        missing = next((e for e in episodes if not isinstance(e.trajectory, TrajectoryWithRew)), None)
        if missing is not None:
            why = require_rewards if isinstance(require_rewards, str) else "rewards are needed here"
            raise DemonstrationError(
                f"{missing.source}: an imitation Trajectory without rewards, but {why}: "
                "give TrajectoryWithRew objects, or demonstrations read from files"
            )
    return [episode.trajectory for episode in episodes]


# --------------------------------------------------------------------------- summaries
def summarize(episodes: Sequence[Episode]) -> dict[str, Any]:
    """Counts and statistics of episodes, as printed by ``sb3-behave demos info``."""
    returns = np.array([float(np.sum(e.trajectory.rews)) for e in episodes])
    scores = [e.metadata["score"] for e in episodes if e.metadata.get("score") is not None]

    def stats(values: Sequence[float]) -> dict[str, float] | None:
        if len(values) == 0:
            return None
        return {"mean": float(np.mean(values)), "min": float(np.min(values)), "max": float(np.max(values))}

    def tally(key: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in episodes:
            value = str(e.metadata.get(key)) if e.metadata else "(imitation format)"
            counts[value] = counts.get(value, 0) + 1
        return counts

    dart = [(e.metadata["dart"], len(e.trajectory)) for e in episodes if e.metadata.get("dart") is not None]
    return {
        "episodes": len(episodes),
        "transitions": int(sum(len(e.trajectory) for e in episodes)),
        "terminated": int(sum(e.trajectory.terminal for e in episodes)),
        "score": stats(scores),
        "return": stats(returns),
        "length": stats([len(e.trajectory) for e in episodes]),
        "players": tally("player"),
        "skills": tally("skill"),
        "envs": tally("env_id"),
        # DART noise: the episodes recorded with it, their sigmas, and the fraction of their steps perturbed
        "dart": None
        if not dart
        else {
            "episodes": len(dart),
            "sigmas": sorted({float(d["sigma"]) for d, _ in dart}),
            "perturbed_fraction": sum(d["perturbed_steps"] for d, _ in dart) / max(1, sum(n for _, n in dart)),
        },
    }
