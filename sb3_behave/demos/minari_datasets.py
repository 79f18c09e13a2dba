"""Minari datasets, the Farama standard for offline RL data: export our episodes, read any dataset.

A Minari dataset lives in the local Minari root (``$MINARI_DATASETS_PATH``, by default
``~/.minari/datasets``) as ``<root>/<dataset id>/data/`` (``metadata.json`` plus the episodes).
:func:`export_minari` writes one from our episodes, with terminations kept apart from truncations
(a time limit is a truncation) and each episode's sb3-behave metadata (env id and kwargs, seed,
score, player, skill, ...) stored beside it. :func:`read_minari` reads one back, from a path or a
dataset id in the local root, as :class:`~sb3_behave.demos.episodes.Episode` objects, which the
loader then checks like our own files.

Needs the ``minari`` extra (``pip install 'sb3-behave[minari]'``); nothing here downloads.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from sb3_behave.checks import is_whole_number
from sb3_behave.demos.episodes import DemonstrationError, Episode, env_kwargs, json_safe, make_trajectory, parse_metadata
from sb3_behave.limits import check_claim

if TYPE_CHECKING:
    import gymnasium as gym

#: The install command named when minari is missing.
MINARI_INSTALL = "pip install 'sb3-behave[minari]'"
#: The name of an export's staging folder in the Minari root, followed by its process id.
STAGING_PREFIX = ".sb3-behave-export-"
#: The longest part of a dataset id (a folder name each), in bytes.
MAX_ID_PART = 200
#: The per-episode Minari metadata key that holds an episode's sb3-behave metadata, as JSON.
METADATA_KEY = "sb3_behave_metadata"
#: The most metadata.json we read (it holds spaces and specs, a few kB in practice).
_MAX_METADATA_BYTES = 16 * 2**20


def _minari() -> Any:
    try:
        import minari
    except ImportError:
        raise DemonstrationError(f"Minari datasets need the minari package: {MINARI_INSTALL}") from None
    return minari


def minari_root() -> Path:
    """The local Minari root: ``$MINARI_DATASETS_PATH`` if set, else ``~/.minari/datasets`` (as Minari decides).

    Unlike Minari's own lookup, this creates nothing on disk.
    """
    configured = os.environ.get("MINARI_DATASETS_PATH")
    return Path(configured) if configured is not None else Path.home() / ".minari" / "datasets"


def _metadata(folder: Path) -> dict[str, Any] | None:
    """The content of ``folder/metadata.json`` if it describes a Minari dataset, else ``None``."""
    file = folder / "metadata.json"
    if not file.is_file():
        return None
    if file.stat().st_size > _MAX_METADATA_BYTES:
        raise DemonstrationError(
            f"{file}: {file.stat().st_size:,} bytes, more than the {_MAX_METADATA_BYTES:,} a Minari "
            "metadata file may have here"
        )
    try:
        content = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return content if isinstance(content, dict) and "data_format" in content else None


def _locate(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]] | None:
    """The ``data`` folder of the Minari dataset at ``path`` and its metadata, or ``None``."""
    path = Path(path)
    try:
        exists = path.exists()
    except OSError:  # a name too long for the file system: no dataset there
        return None
    candidates = [path / "data", path] if exists else []
    if not exists and not path.is_absolute() and len(str(path).encode()) <= 4 * MAX_ID_PART:
        candidates.append(minari_root() / path / "data")
    for folder in candidates:
        metadata = _metadata(folder)
        if metadata is not None:
            return folder, metadata
    return None


def minari_data_folder(path: str | os.PathLike[str]) -> Path | None:
    """The folder holding a Minari dataset's ``metadata.json``, if ``path`` is one.

    A folder on disk comes first; only a path that does not exist is looked up as a dataset id.

    :param path: a dataset folder (``<root>/<id>``), its ``data`` folder, or a dataset id in the
        local Minari root
    :return: the ``data`` folder, or ``None`` when ``path`` is none of these
    """
    found = _locate(path)
    return found[0] if found is not None else None


def check_dataset_id(dataset_id: str) -> None:
    """Refuse a string that is not a Minari dataset id, ``(namespace/)name-v<version>``, or too long for a folder name."""
    longest = max((len(part.encode()) for part in dataset_id.split("/")), default=0)
    if longest > MAX_ID_PART:
        raise DemonstrationError(
            f"Minari dataset id {dataset_id[:40]!r}...: a part of {longest} bytes, over the {MAX_ID_PART} "
            "a folder name may have"
        )
    _minari()
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except (ValueError, TypeError):
        raise DemonstrationError(
            f"{dataset_id!r} is not a Minari dataset id: expected (namespace/)name-v<version>, "
            "e.g. sb3_behave/flappy-strong-v0"
        ) from None


def _spec_metadata(dataset: Any) -> dict[str, Any]:
    """``env_id`` and ``env_kwargs`` of a dataset's env spec, for datasets written by other tools."""
    try:
        spec = dataset.env_spec
    except Exception:  # a spec that gymnasium cannot parse: check against the spaces only
        return {}
    if spec is None:
        return {}
    return {"env_id": spec.id, "env_kwargs": env_kwargs(spec)}


def read_minari(path: str | os.PathLike[str]) -> list[Episode]:
    """Read a Minari dataset as checked-shape episodes (the loader checks them against the env).

    :param path: a dataset folder, its ``data`` folder, or a dataset id in the local Minari root
    :raises DemonstrationError: not a Minari dataset, minari missing, unreadable data, observations
        or actions that are not flat arrays, or an episode that terminates before its last step
    """
    found = _locate(path)
    if found is None:
        raise DemonstrationError(f"{path}: not a Minari dataset (no data/metadata.json), nor a dataset id in {minari_root()}")
    folder, dataset_metadata = found
    minari = _minari()
    written_by = dataset_metadata.get("minari_version")
    if written_by not in minari.supported_dataset_versions:
        raise DemonstrationError(
            f"{path}: written by minari {written_by}, which the installed minari {minari.__version__} cannot read "
            f"(it reads datasets of {', '.join(sorted(minari.supported_dataset_versions))}): export it again with this "
            "minari (the pinned stack has 0.5.3, the current one 0.5.4)"
        )
    _check_declared_size(folder, dataset_metadata)
    try:
        dataset = minari.MinariDataset(folder)
        indices = [int(i) for i in dataset.episode_indices]
        episode_metadata = list(dataset.storage.get_episode_metadata(indices))
        episodes_data = list(dataset.iterate_episodes(indices))
    except Exception as error:  # h5py and pyarrow raise many kinds of errors on damaged files
        raise DemonstrationError(f"{folder}: cannot read the Minari dataset ({type(error).__name__}: {error})") from None
    fallback = _spec_metadata(dataset)
    episodes = []
    for data, stored in zip(episodes_data, episode_metadata):
        source = f"{path}[{data.id}]"
        for name, values in (("observations", data.observations), ("actions", data.actions)):
            if not isinstance(values, np.ndarray):
                raise DemonstrationError(
                    f"{source}: {name} are a {type(values).__name__}, expected one array (Box or Discrete spaces)"
                )
        terminations = np.asarray(data.terminations, dtype=bool)
        if terminations[:-1].any():
            step = int(np.argmax(terminations[:-1]))
            raise DemonstrationError(f"{source}: terminates at step {step}, before its last step {len(terminations) - 1}")
        metadata = fallback
        if METADATA_KEY in stored:
            metadata = parse_metadata(f"{source} {METADATA_KEY}", str(stored[METADATA_KEY]), len(data.actions))
        terminal = bool(terminations[-1]) if len(terminations) else False
        trajectory = make_trajectory(
            source, np.asarray(data.observations), np.asarray(data.actions), np.asarray(data.rewards), terminal
        )
        episodes.append(Episode(trajectory, dict(metadata), source))
    _check_against_metadata(path, dataset, dataset_metadata, episodes)
    return episodes


def _check_declared_size(folder: Path, dataset_metadata: dict[str, Any]) -> None:
    """Refuse a dataset whose arrays would take more than the budget of one file, before Minari reads any.

    HDF5 datasets declare their shapes (a compressed one of zeros can claim any size in a few kB);
    arrow files are not compressed, so their size on disk is what they take.
    """
    if dataset_metadata.get("data_format", "hdf5") == "hdf5" and (folder / "main_data.hdf5").is_file():
        import h5py

        total = 0

        def add(name: str, item: Any) -> None:
            nonlocal total
            if isinstance(item, h5py.Dataset):
                total += int(item.size) * item.dtype.itemsize

        try:
            with h5py.File(folder / "main_data.hdf5", "r") as file:
                file.visititems(add)
        except (OSError, ValueError, RuntimeError) as error:
            raise DemonstrationError(f"{folder}: cannot read the Minari dataset ({type(error).__name__}: {error})") from None
    else:
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    check_claim(folder, total, "its episodes", error=DemonstrationError)


def _check_against_metadata(path: Any, dataset: Any, declared: dict[str, Any], episodes: Sequence[Episode]) -> None:
    """Refuse a dataset whose ``metadata.json`` (counts, spaces) contradicts the episodes it holds."""
    steps = sum(len(e.trajectory.acts) for e in episodes)
    for key, held in (("total_episodes", len(episodes)), ("total_steps", steps)):
        if key in declared and declared[key] != held:
            raise DemonstrationError(f"{path}: metadata.json says {key} {declared[key]!r}, but the dataset holds {held}")
    from gymnasium import spaces

    for name, space in (("observations", dataset.observation_space), ("actions", dataset.action_space)):
        if not isinstance(space, (spaces.Box, spaces.Discrete)):
            continue
        for episode in episodes:
            values = episode.trajectory.obs if name == "observations" else episode.trajectory.acts
            if tuple(values.shape[1:]) != tuple(space.shape or ()):
                raise DemonstrationError(
                    f"{episode.source}: {name} of shape {tuple(values.shape[1:])}, but the dataset's metadata declares "
                    f"{space}: the dataset contradicts itself"
                )


def _remove_stale_staging(root: Path) -> None:
    """Remove the staging folders of exports whose process is gone (killed before it could clean up)."""
    for folder in root.glob(f"{STAGING_PREFIX}*") if root.is_dir() else ():
        pid = folder.name.removeprefix(STAGING_PREFIX)
        try:
            os.kill(int(pid), 0)  # still running: its export is not ours to remove
            alive = int(pid) != os.getpid()
        except (ValueError, ProcessLookupError):
            alive = False
        except PermissionError:  # another user's running process
            alive = True
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


def _jpeg_encoded_by_minari_0_5_3(obs: np.ndarray) -> bool:
    """Whether minari 0.5.3's HDF5 writer would JPEG-encode these observations (its rule, on the data)."""
    return obs.dtype == np.uint8 and (obs.ndim in (2, 3) or (obs.ndim == 4 and obs.shape[-1] in (1, 3)))


def _dataset_env(episodes: Sequence[Episode], env: str | None) -> gym.Env:
    """The env the episodes were recorded in, made from ``env`` or from their metadata."""
    from sb3_behave.registration import make_env

    recorded = next((e.metadata for e in episodes if e.metadata.get("env_id")), {})
    env_id = env or recorded.get("env_id")
    if env_id is None:
        raise DemonstrationError("the demonstrations do not say which env they come from: pass --env (env=...)")
    same = recorded.get("env_id") == env_id
    kwargs = (recorded.get("env_kwargs") or {}) if same else {}
    max_steps = recorded.get("max_episode_steps") if same else None
    try:
        return make_env(env_id, kwargs, max_steps)
    except Exception as error:
        raise DemonstrationError(f"cannot make env {env_id!r} with {kwargs!r} for the dataset: {error}") from None


def export_minari(
    episodes: Sequence[Episode],
    dataset_id: str,
    env: str | None = None,
    description: str | None = None,
) -> Path:
    """Write episodes as a new Minari dataset in the local Minari root.

    Terminations and truncations stay apart (an episode that did not end by a termination ends
    by a truncation, as imitation's ``terminal=False`` means); each episode's sb3-behave metadata
    is stored as JSON in its Minari episode metadata (key ``sb3_behave_metadata``), and its seed
    as Minari's own ``seed``. Image observations are stored losslessly (minari >= 0.5.4; minari
    0.5.3 would JPEG-encode them, so they are refused there). The dataset is written under a
    hidden staging folder of the Minari root and moved to its id when complete: an error, or the
    process killed at any moment, leaves nothing under the id; an existing dataset is never touched.

    :param episodes: the episodes, as read by :func:`~sb3_behave.demos.storage.load_episodes`
    :param dataset_id: a new Minari dataset id, ``(namespace/)name-v<version>``
    :param env: the env id, when the episodes' metadata does not give it
    :param description: the dataset's description (default: one made from the metadata)
    :return: the dataset's folder
    """
    from sb3_behave import __version__

    minari = _minari()
    from minari.data_collector.episode_buffer import EpisodeBuffer
    from minari.dataset.minari_storage import is_image_space

    check_dataset_id(dataset_id)
    if not episodes:
        raise DemonstrationError(f"{dataset_id}: nothing to export (no episodes)")
    target = minari_root() / dataset_id
    if target.exists():
        raise DemonstrationError(f"{target}: a Minari dataset {dataset_id} already exists; choose another id or version")
    made = _dataset_env(episodes, env)
    made.close()
    keywords: dict[str, Any] = {}
    if "jpeg_encoding" in inspect.signature(minari.create_dataset_from_buffers).parameters:  # minari >= 0.5.4
        keywords["jpeg_encoding"] = False  # keep image observations exact
    elif any(_jpeg_encoded_by_minari_0_5_3(e.trajectory.obs) for e in episodes) or is_image_space(made.observation_space):
        raise DemonstrationError(
            f"{dataset_id}: minari {minari.__version__} stores image observations as JPEG, which loses pixels: "
            "export image demonstrations with minari >= 0.5.4 (the current stack)"
        )
    buffers = []
    for index, episode in enumerate(episodes):
        trajectory, seed = episode.trajectory, episode.metadata.get("seed")
        ends = np.zeros(len(trajectory.acts), dtype=bool)
        ends[-1] = True
        buffers.append(
            EpisodeBuffer(
                id=index,
                seed=seed if is_whole_number(seed, minimum=None) else None,
                observations=np.asarray(trajectory.obs),
                actions=np.asarray(trajectory.acts),
                rewards=np.asarray(trajectory.rews, dtype=np.float64),
                terminations=ends & bool(trajectory.terminal),
                truncations=ends & (not trajectory.terminal),
                infos={},
            )
        )
    players = sorted({str(e.metadata["player"]) for e in episodes if e.metadata.get("player")})
    skills = sorted({str(e.metadata["skill"]) for e in episodes if e.metadata.get("skill")})
    spec_id = made.spec.id if made.spec is not None else env
    default_description = f"{len(episodes)} episodes of {spec_id} recorded with sb3-behave {__version__}" + (
        f" (skills: {', '.join(skills)})" if skills else ""
    )
    # Written under a hidden staging root, then moved to its id in one rename: a run killed at any
    # moment (even with -9) leaves no half-written dataset under the final id to block the next one.
    root = minari_root()
    staging = root / f"{STAGING_PREFIX}{os.getpid()}"
    _remove_stale_staging(root)
    created = next(p for p in [*reversed(target.parents), target] if not p.exists())  # target does not exist
    previous_root = os.environ.get("MINARI_DATASETS_PATH")
    try:
        os.environ["MINARI_DATASETS_PATH"] = str(staging)
        with warnings.catch_warnings():  # Minari's nags about optional fields we cannot know
            warnings.filterwarnings("ignore", message="`(code_permalink|author_email)` is set to None")
            dataset = minari.create_dataset_from_buffers(
                dataset_id,
                buffers,
                env=made.spec,
                eval_env=made.spec,
                algorithm_name=f"sb3-behave {__version__} demonstrations",
                author=set(players) or {"sb3-behave"},
                description=description or default_description,
                **keywords,
            )
            stored = [{METADATA_KEY: json.dumps(json_safe(e.metadata))} if e.metadata else {} for e in episodes]
            dataset.storage.update_episode_metadata(stored, range(len(buffers)))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging / dataset_id, target)  # fails, rather than replaces, if it appeared meanwhile
    finally:
        if previous_root is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous_root
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():  # failed: the folders made for it (the root, a namespace) go too
            shutil.rmtree(created, ignore_errors=True)
    return target
