"""Demonstrations on disk: one file per episode, written atomically, read without running code.

An episode file ``episode-<time>-<pid>.npz`` is a numpy ``.npz`` archive of plain arrays:
``obs`` (T + 1 observations), ``acts`` (T actions), ``rews`` (T rewards), ``terminal`` (a bool:
the episode ended by a real termination, not a time limit) and ``metadata`` (a JSON string: env
id and kwargs, seed, score, return, length, player, skill label, timestamp, package version; for
a recording with DART noise, ``dart``: its sigma and how many steps it perturbed).
It is read with ``allow_pickle=False``: a file that holds pickled objects is refused, and one whose
array headers claim more than the memory budget (:mod:`sb3_behave.limits`) is refused before it is read.

:func:`load_demonstrations` also reads the formats of the ``imitation`` library (a saved
``datasets`` folder, or the older ``.npz``) without decoding their jsonpickled ``infos``, and Minari
datasets (:mod:`sb3_behave.demos.minari_datasets`). What an episode is and the checks all these
readers share are in :mod:`sb3_behave.demos.episodes` (their names are importable from here too).
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
from imitation.data.types import Trajectory, TrajectoryWithRew

from sb3_behave.demos.episodes import (  # noqa: F401  (DISPLAY_KWARGS ... check_episodes: also importable from here)
    DISPLAY_KWARGS,
    FORMAT,
    FORMAT_VERSION,
    MAX_METADATA_CHARS,
    MAX_TEXT_CHARS,
    DemonstrationError,
    Demonstrations,
    Episode,
    PathLike,
    check_episodes,
    differing_kwargs,
    env_description,
    env_kwargs,
    json_safe,
    make_trajectory,
    parse_metadata,
)
from sb3_behave.demos.minari_datasets import minari_data_folder, minari_root, read_minari
from sb3_behave.limits import check_npz
from sb3_behave.outputs import replacing

if TYPE_CHECKING:
    import gymnasium as gym

EPISODE_PATTERN = "episode-*.npz"
_ARRAYS = ("obs", "acts", "rews", "terminal", "metadata")


# --------------------------------------------------------------------------- writing


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
    names = list(names)
    check_npz(path, data.zip, names, DemonstrationError)  # headers against the budget before any array is read
    arrays = {}
    for name in names:
        try:
            arrays[name] = data[name]
        except ValueError as error:
            if "pickle" in str(error):
                raise _refused(path) from None
            raise DemonstrationError(f"{path}: array {name!r} cannot be read ({error})") from None
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
            raise DemonstrationError(f"{path}: truncated or corrupt file ({type(error).__name__}: {error})") from None
    return arrays


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
