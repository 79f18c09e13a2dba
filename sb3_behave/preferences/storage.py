"""Preferences on disk: one file per answer, written atomically the moment it is given.

An answer file ``preference-<time>-<pid>-<n>.npz`` is a numpy ``.npz`` archive of plain arrays:
the two fragments (``obs1``, ``acts1``, ``rews1``, ``terminal1`` and the same with ``2``), the
``preference`` (the probability that fragment 1 is preferred, as imitation defines it: 1.0 the
first, 0.0 the second, 0.5 equal) and ``metadata`` (a JSON string: env id, who answered, when,
package version). Files are read with ``allow_pickle=False``. Rendered frames are not saved: they
are only needed to show a pair, and an answered pair is not shown again.

A folder of answers is the reward signal of a run: :func:`load_preferences` returns the pairs and
their preferences, which resume a run (``preferences: <folder>`` in YAML, ``sb3-behave compare --out``).
"""

from __future__ import annotations

import itertools
import json
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from imitation.data.types import TrajectoryWithRew

from sb3_behave.demos.episodes import (
    DemonstrationError,
    Episode,
    check_episodes,
    differing_kwargs,
    env_description,
    json_safe,
    make_trajectory,
)
from sb3_behave.limits import check_npz
from sb3_behave.outputs import PathLike, replacing

#: The file names of the answers in a preferences folder (one file per answer).
ANSWER_PATTERN = "preference-*.npz"
FORMAT = "sb3-behave-preference"
FORMAT_VERSION = 1
_ARRAYS = ("obs1", "acts1", "rews1", "terminal1", "obs2", "acts2", "rews2", "terminal2", "preference", "metadata")
_counter = itertools.count()
#: The largest reward (in absolute value) a fragment of an answer may hold: anything larger is a damaged file.
MAX_ABS_REWARD = 1e6

#: A pair of fragments, as imitation's ``TrajectoryWithRewPair``.
FragmentPair = tuple[TrajectoryWithRew, TrajectoryWithRew]


class PreferenceError(ValueError):
    """A preferences folder or answer file that cannot be used; the message names it and the problem."""


def answer_files(folder: PathLike) -> list[Path]:
    """The answer files of ``folder``, oldest first.

    :param folder: a preferences folder
    :return: the paths of its ``preference-*.npz`` files (none when the folder does not exist)
    """
    folder = Path(folder)
    return sorted(folder.glob(ANSWER_PATTERN)) if folder.is_dir() else []


def check_preferences_folder(folder: PathLike) -> None:
    """Check, before anything is asked, that answers may be written into ``folder``.

    :param folder: a preferences folder (it may not exist yet)
    :raises PreferenceError: ``folder`` is a file, cannot be written to, or holds files that are not answers
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise PreferenceError(f"{folder}: is a file, and answers are written into a folder: choose a folder")
    if not folder.is_dir():
        return
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PreferenceError(f"{folder}: cannot write into this folder (permission denied)")
    others = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and not p.match(ANSWER_PATTERN))
    if others:
        raise PreferenceError(
            f"{folder}: is not a preferences folder (it holds {others[0]!r}{' and more' if len(others) > 1 else ''}): "
            "choose a new folder or one holding only preference-*.npz answers"
        )


def write_answer(folder: PathLike, fragments: FragmentPair, preference: float, metadata: dict[str, Any] | None = None) -> Path:
    """Write one answer into ``folder`` atomically (a temporary file, then a rename).

    A crash at any moment leaves either the complete file or none (at most a hidden ``.tmp`` file,
    which loaders ignore).

    :param folder: the preferences folder (created if needed)
    :param fragments: the two fragments compared
    :param preference: probability that the first is preferred (1.0, 0.0, 0.5, or anything in [0, 1])
    :param metadata: JSON-serialisable fields saved with it (env id, who answered, ...)
    :return: the path of the new file
    """
    if not 0.0 <= float(preference) <= 1.0:
        raise PreferenceError(f"preference {preference!r}: expected a probability in [0, 1]")
    from sb3_behave import __version__

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc)
    final = folder / f"preference-{stamp.strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{next(_counter):05d}.npz"
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "timestamp": stamp.isoformat(timespec="seconds"),
        "sb3_behave_version": __version__,
        **(metadata or {}),
    }
    first, second = fragments
    with replacing(final) as temporary:
        np.savez_compressed(
            temporary,
            obs1=np.asarray(first.obs),
            acts1=np.asarray(first.acts),
            rews1=np.asarray(first.rews),
            terminal1=np.asarray(bool(first.terminal)),
            obs2=np.asarray(second.obs),
            acts2=np.asarray(second.acts),
            rews2=np.asarray(second.rews),
            terminal2=np.asarray(bool(second.terminal)),
            preference=np.asarray(float(preference), dtype=np.float32),
            metadata=np.asarray(json.dumps(json_safe(meta))),
        )
    return final


def read_answer(path: PathLike) -> tuple[FragmentPair, float, dict[str, Any]]:
    """One answer file: the pair, its preference and its metadata.

    :param path: a ``preference-*.npz`` file written by :func:`write_answer`
    :return: ``(pair, preference, metadata)``: the two fragments (without infos), the probability that
        the first is preferred, the metadata saved with it
    :raises PreferenceError: naming the file: not an answer, pickled objects, truncated, inconsistent
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [name for name in _ARRAYS if name not in data.files]
            if missing:
                raise PreferenceError(f"{path}: not a preference answer (no {', '.join(missing)})")
            check_npz(path, data.zip, _ARRAYS, PreferenceError)  # headers against the budget before any array is read
            arrays = {name: data[name] for name in _ARRAYS}
    except PreferenceError:  # check_npz raises it too
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise PreferenceError(f"{path}: refused: the file holds pickled Python objects") from None
        raise PreferenceError(f"{path}: not a numpy .npz archive ({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise PreferenceError(f"{path}: truncated or corrupt file ({type(error).__name__}: {error})") from None
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as error:
        raise PreferenceError(f"{path}: metadata is not valid JSON ({error})") from None
    preference = float(arrays["preference"])
    if not 0.0 <= preference <= 1.0:
        raise PreferenceError(f"{path}: preference is {preference}: expected a probability in [0, 1]")
    if not isinstance(metadata, dict):
        raise PreferenceError(f"{path}: metadata is a JSON {type(metadata).__name__}, expected an object")
    pair = []
    for k in ("1", "2"):
        obs, acts, rews = arrays[f"obs{k}"], arrays[f"acts{k}"], arrays[f"rews{k}"]
        try:  # numbers, finite, one more observation than actions, one reward per action
            fragment = make_trajectory(f"{path}: fragment {k}", obs, acts, rews, bool(arrays[f"terminal{k}"]))
        except DemonstrationError as error:
            raise PreferenceError(str(error)) from None
        largest = float(np.max(np.abs(fragment.rews)))
        if largest > MAX_ABS_REWARD:
            raise PreferenceError(
                f"{path}: fragment {k} has a reward of {largest:g}, beyond the +-{MAX_ABS_REWARD:g} an answer may hold"
            )
        pair.append(fragment)
    return (pair[0], pair[1]), preference, metadata


def load_preferences(folder: PathLike, env: Any = None) -> tuple[list[FragmentPair], np.ndarray]:
    """The answered pairs of a preferences folder and their preferences, oldest first.

    :param folder: the folder (a missing or empty one holds no answers)
    :param env: an env (or VecEnv) whose observation and action spaces the fragments must fit
    :return: ``(pairs, preferences)``: a list of fragment pairs, a float32 array of as many preferences
    :raises PreferenceError: a file that cannot be read, or fragments of another env
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise PreferenceError(f"{folder}: is a file, expected a preferences folder")
    pairs: list[FragmentPair] = []
    preferences = []
    for path in answer_files(folder):
        pair, preference, metadata = read_answer(path)
        if env is not None:
            check_answer_env(path, pair, metadata, env)
        pairs.append(pair)
        preferences.append(preference)
    return pairs, np.asarray(preferences, dtype=np.float32)


def check_answer_env(path: PathLike, pair: Sequence[TrajectoryWithRew], metadata: dict[str, Any], env: Any) -> None:
    """Check that an answer is about ``env``: its env id and kwargs (when saved), its observations and actions.

    :param path: the answer file, for messages
    :param pair: its two fragments
    :param metadata: its metadata (``env_id`` and ``env_kwargs``, when saved)
    :param env: an env or VecEnv (or an env id)
    :raises PreferenceError: an answer about another env, or fragments outside the env's spaces
    """
    env_id, kwargs, _, _ = env_description(env)
    recorded = metadata.get("env_id")
    if recorded is not None and env_id is not None and recorded != env_id:
        raise PreferenceError(
            f"{path}: an answer about {recorded!r}, not {env_id!r}: keep each env's answers in its own folder"
        )
    saved = metadata.get("env_kwargs")
    if isinstance(saved, dict) and kwargs is not None and saved != kwargs:
        keys = ", ".join(differing_kwargs(saved, kwargs))
        raise PreferenceError(
            f"{path}: an answer about {env_id} with other env kwargs (differing: {keys}): use another folder"
        )
    try:
        check_episodes([Episode(fragment, {}, f"{path}: fragment {k}") for k, fragment in enumerate(pair, 1)], env)
    except DemonstrationError as error:
        raise PreferenceError(str(error)) from None


__all__ = [
    "ANSWER_PATTERN",
    "MAX_ABS_REWARD",
    "FragmentPair",
    "PreferenceError",
    "answer_files",
    "check_answer_env",
    "check_preferences_folder",
    "load_preferences",
    "read_answer",
    "write_answer",
]
