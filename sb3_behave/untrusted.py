"""Reading agents made elsewhere without running their code: model zips, zoo run folders, statistics files.

An SB3 model ``.zip`` holds its non-JSON members pickled with cloudpickle, which SB3 unpickles on
``load``; a zoo run folder holds YAML that the RL Zoo reads with PyYAML's unsafe loader, and a
``vecnormalize.pkl`` that SB3 unpickles. Any of them, shared by someone else, can run a command
on the machine that loads it. Within :func:`no_code_from_files`:

- **pickled members** are read by an unpickler that only builds data: containers, numbers,
  numpy arrays and random generators, gymnasium spaces, and the classes of SB3, sb3-contrib,
  sb3-behave and torch's layers and optimizers by name (:data:`ALLOWED`). A function pickled by
  value (a learning-rate schedule is one) is code: schedules are replaced by the constant rate
  saved beside them (enough to act; continuing training asks for the trust below), anything else
  is refused with one line naming the file and the member;
- **YAML** of a run folder is read with a safe loader that knows the two tags the zoo writes
  (``OrderedDict`` and ``tuple``) and refuses every other one, and more than
  :data:`MAX_YAML_ALIASES` aliases (a "billion laughs" file);
- **a model zip** whose members claim more than :data:`MAX_ZIP_BYTES` (uncompressed) is refused
  before it is read;
- the tensors are read by torch's weights-only loader, as SB3 2.9 and torch >= 2.6 do anyway.

``trust_code=True`` (``--trust-code`` on the command line) loads with SB3's and the zoo's own
unpickling and YAML: only for files you made or whose makers you trust.
"""

from __future__ import annotations

import base64
import contextvars
import io
import json
import pickle
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

#: Uncompressed bytes all members of a model zip may claim together, checked before reading.
MAX_ZIP_BYTES = 1 << 30
#: Aliases a YAML file of a run folder may use (the zoo writes none; a "billion laughs" file uses millions).
MAX_YAML_ALIASES = 100
#: The serialized members of a model that are learning-rate (or clip-range) schedules: functions pickled by value.
SCHEDULES = ("lr_schedule", "learning_rate", "clip_range", "clip_range_vf", "exploration_schedule", "delta_std")
#: What the data unpickler builds, by module (a prefix ending in ``.`` covers the package): names, or ``*`` for
#: any class there that passes ``_safe_class``. No function, nothing that runs or reads anything.
ALLOWED: dict[str, frozenset[str] | str] = {
    "builtins": frozenset({"set", "frozenset", "slice", "complex", "bytearray", "range", "object", "int", "float", "bool"}),
    "copyreg": frozenset({"_reconstructor"}),
    "collections": frozenset({"OrderedDict", "deque", "defaultdict"}),
    "numpy": frozenset({"ndarray", "dtype", "bool_", "float32", "float64", "int64", "int32", "uint8"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.core.numeric": frozenset({"_frombuffer"}),  # an array from its bytes, dtype and shape
    "numpy._core.numeric": frozenset({"_frombuffer"}),
    "numpy.dtypes": "*",
    "numpy.random._pickle": frozenset({"__generator_ctor", "__bit_generator_ctor", "__randomstate_ctor"}),
    "numpy.random.bit_generator": frozenset({"__pyx_unpickle_SeedSequence"}),  # a seed sequence from its state
    "numpy.random.": "*",
    "gymnasium.spaces.": "*",
    "torch.nn.modules.activation": "*",
    "torch.optim.": "*",
    "stable_baselines3.": "*",
    "sb3_contrib.": "*",
    "sb3_behave.": "*",
}

_TRUSTED: contextvars.ContextVar[bool] = contextvars.ContextVar("sb3_behave_trusted_files", default=False)


class UntrustedFileError(ValueError):
    """A file holds code, or claims more memory than allowed; the message names the file, the member and the way out."""


def _safe_class(module: str, obj: Any) -> bool:
    """A class of an allowed package that only holds data or builds torch modules (no function, no file access)."""
    import numpy as np

    if not isinstance(obj, type):
        return False
    if module.startswith(("numpy.random.", "numpy.dtypes")):
        random = (np.random.BitGenerator, np.random.Generator, np.random.RandomState, np.random.SeedSequence)
        return issubclass(obj, (*random, np.dtype))
    if module.startswith("gymnasium.spaces."):
        import gymnasium as gym

        return issubclass(obj, gym.spaces.Space)
    import torch as th

    if module.startswith(("torch.nn.", "torch.optim.")):
        return issubclass(obj, (th.nn.Module, th.optim.Optimizer))
    from stable_baselines3.common.buffers import BaseBuffer
    from stable_baselines3.common.policies import BaseModel
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.common.vec_env import VecNormalize

    # Policies, their parts and buffers build torch modules or arrays from spaces; the statistics are data.
    return issubclass(obj, (BaseModel, BaseFeaturesExtractor, th.nn.Module, BaseBuffer, RunningMeanStd, VecNormalize))


class _DataUnpickler(pickle.Unpickler):
    """An unpickler that finds only the names of :data:`ALLOWED`: data, spaces, and allowed classes by name."""

    def find_class(self, module: str, name: str) -> Any:
        if "." not in name:
            named = ALLOWED.get(module)
            if isinstance(named, frozenset) and name in named:
                return super().find_class(module, name)
            any_class = named == "*" or any(
                rule == "*" and prefix.endswith(".") and module.startswith(prefix) for prefix, rule in ALLOWED.items()
            )
            if any_class:
                obj = super().find_class(module, name)
                if _safe_class(module, obj):
                    return obj
        raise _Refused(f"{module}.{name}")


class _Refused(Exception):
    """The unpickler met a name it does not build (a function, a class of another package)."""


def load_data_pickle(data: bytes, where: str) -> Any:
    """Unpickle ``data`` building only what :data:`ALLOWED` names.

    :param data: the pickled bytes
    :param where: the file and member, for the message
    :raises UntrustedFileError: the pickle names something else (code, or a class of another package)
    """
    try:
        with warnings.catch_warnings():  # numpy 2 reading numpy 1's names of its internals: not the user's business
            warnings.filterwarnings("ignore", message="numpy.core", category=DeprecationWarning)
            return _DataUnpickler(io.BytesIO(data)).load()
    except _Refused as refused:
        raise UntrustedFileError(
            f"{where}: holds {refused} (code, or a class of another package), which sb3-behave does not run from a "
            "file: load it with --trust-code (trust_code=True) if you trust who made it"
        ) from None
    except Exception as error:  # a truncated or corrupt pickle
        from sb3_behave.stack import is_numpy2_pickle_error

        if is_numpy2_pickle_error(error):
            raise  # numpy 1 reading numpy 2's pickle: the callers say so in one line
        raise UntrustedFileError(f"{where}: not a readable pickle ({type(error).__name__}: {error})") from None


def safe_json_to_data(
    original: Callable[..., dict[str, Any]], where: str
) -> Callable[..., dict[str, Any]]:
    """SB3's ``json_to_data`` with every pickled member read by :func:`load_data_pickle` and given as a custom object.

    :param original: SB3's own ``json_to_data`` (it reads the JSON members)
    :param where: the model file, for messages
    """

    def json_to_data(json_string: str, custom_objects: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        members = json.loads(json_string)
        given = dict(custom_objects or {})
        for key, item in members.items():
            if key in given or not (isinstance(item, dict) and ":serialized:" in item):
                continue
            member = f"{where}: member {key!r}"
            raw = base64.b64decode(str(item[":serialized:"]).encode())
            try:
                given[key] = load_data_pickle(raw, member)
            except UntrustedFileError:
                if key not in SCHEDULES:
                    raise
                given[key] = _saved_rate(members, key)
        return original(json_string, given, *args, **kwargs)

    return json_to_data


def _saved_rate(members: dict[str, Any], key: str) -> Callable[[float], float]:
    """A schedule that a file holds as code, replaced: the constant rate saved beside it, to act with."""
    rate = members.get("learning_rate")
    value = float(rate) if key == "lr_schedule" and isinstance(rate, (int, float)) else 0.0

    def constant(progress_remaining: float) -> float:
        return value

    constant.__doc__ = f"{key} of an agent loaded without running its code: constant {value} (to act, not to train)"
    return constant


def check_zip_sizes(path: Any, limit: int = MAX_ZIP_BYTES) -> None:
    """Refuse a model zip whose members claim more than ``limit`` bytes uncompressed, before any is read.

    :param path: the ``.zip`` (a path; other file objects are left to SB3)
    :param limit: bytes
    :raises UntrustedFileError: too large, or not a zip file
    """
    if not isinstance(path, (str, Path)):
        return
    path = Path(path)
    if not path.is_file():
        path = Path(f"{path}.zip")  # SB3 adds the suffix itself
    if not path.is_file():
        return  # SB3 says what is missing
    try:
        with zipfile.ZipFile(path) as archive:
            claimed = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise UntrustedFileError(f"{path}: not a zip file (an SB3 model is one)") from None
    if claimed > limit:
        raise UntrustedFileError(
            f"{path}: its members claim {claimed / 2**20:,.0f} MiB uncompressed, over the {limit / 2**20:,.0f} MiB "
            "a model may take: refused before reading it"
        )


def zoo_yaml_loader(where: str = "a run folder's YAML") -> type:
    """A PyYAML loader for the files the RL Zoo writes: the safe loader, plus ``OrderedDict`` and ``tuple``.

    Every other ``!!python`` tag (an object to build, a function to call) is refused, and so is a
    file using more than :data:`MAX_YAML_ALIASES` aliases.

    :param where: the file, for messages
    """
    import collections

    import yaml

    class Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise UntrustedFileError(f"{where}: more than {MAX_YAML_ALIASES} YAML aliases: refused")
            return super().compose_node(parent, index)

    def ordered_dict(loader: Any, node: Any) -> Any:
        (pairs,) = loader.construct_sequence(node, deep=True)
        return collections.OrderedDict((key, value) for key, value in pairs)

    def refuse(loader: Any, suffix: str, node: Any) -> Any:
        raise UntrustedFileError(
            f"{where}: the YAML tag !!python/{suffix} asks to run code, which sb3-behave does not do for a file: "
            "pass --trust-code (trust_code=True) if you trust who made it"
        )

    Loader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", ordered_dict)
    Loader.add_constructor("tag:yaml.org,2002:python/tuple", lambda loader, node: tuple(loader.construct_sequence(node)))
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", refuse)
    return Loader


def safe_vec_normalize_load(load_path: str, venv: Any) -> Any:
    """``VecNormalize.load`` that unpickles with :func:`load_data_pickle` (the statistics, the spaces, the settings)."""
    data = Path(load_path).read_bytes()
    vec_normalize = load_data_pickle(data, str(load_path))
    from stable_baselines3.common.vec_env import VecNormalize

    if not isinstance(vec_normalize, VecNormalize):
        raise UntrustedFileError(f"{load_path}: holds a {type(vec_normalize).__name__}, not VecNormalize statistics")
    vec_normalize.set_venv(venv)
    return vec_normalize


@contextmanager
def trusting_code(trust: bool) -> Iterator[None]:
    """Within: the loads of :func:`no_code_from_files` trust files when ``trust`` (a command's ``--trust-code``)."""
    token = _TRUSTED.set(trust)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


@contextmanager
def no_code_from_files(trust_code: bool = False, where: str | None = None) -> Iterator[None]:
    """Within: SB3's model loading, VecNormalize's and the zoo's YAML reading run no code from the files.

    Patches, for the duration, ``stable_baselines3.common.save_util.json_to_data`` (and the zip
    sizes, checked in ``BaseAlgorithm.load``), ``VecNormalize.load`` and the loader the zoo
    passes to ``yaml.load``. Nothing changes with ``trust_code`` (or inside :func:`trusting_code`
    with ``True``).

    :param trust_code: load with SB3's own unpickling and the zoo's unsafe YAML
    :param where: the run folder whose YAML is read, for messages (model and statistics files are named themselves)
    """
    if trust_code or _TRUSTED.get():
        yield
        return
    import yaml
    from stable_baselines3.common import base_class, save_util
    from stable_baselines3.common.vec_env import VecNormalize

    original_load = save_util.load_from_zip_file
    original_json = save_util.json_to_data
    original_vec_normalize = VecNormalize.__dict__["load"]
    original_unsafe = yaml.UnsafeLoader

    def load_from_zip_file(load_path: Any, *args: Any, **kwargs: Any) -> Any:
        check_zip_sizes(load_path)
        save_util.json_to_data = safe_json_to_data(original_json, str(load_path))
        try:
            return original_load(load_path, *args, **kwargs)
        finally:
            save_util.json_to_data = original_json

    base_class.load_from_zip_file = load_from_zip_file
    VecNormalize.load = staticmethod(safe_vec_normalize_load)  # type: ignore[assignment]
    yaml.UnsafeLoader = zoo_yaml_loader(where or "a run folder's YAML")  # type: ignore[misc]  # what rl_zoo3 passes
    try:
        yield
    finally:
        base_class.load_from_zip_file = original_load
        VecNormalize.load = original_vec_normalize  # type: ignore[method-assign]
        yaml.UnsafeLoader = original_unsafe  # type: ignore[misc]


__all__ = [
    "ALLOWED",
    "MAX_YAML_ALIASES",
    "MAX_ZIP_BYTES",
    "SCHEDULES",
    "UntrustedFileError",
    "check_zip_sizes",
    "load_data_pickle",
    "no_code_from_files",
    "safe_json_to_data",
    "safe_vec_normalize_load",
    "trusting_code",
    "zoo_yaml_loader",
]
