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
  (``OrderedDict`` and ``tuple``) and refuses every other one, more than :data:`MAX_YAML_ALIASES`
  aliases or aliases that expand to more than :data:`MAX_YAML_NODES` values (a "billion laughs"
  file), and a file larger than :data:`sb3_behave.limits.MAX_YAML_BYTES`;
- **a model zip** whose members claim more than the memory budget of one file (uncompressed,
  :mod:`sb3_behave.limits`) is refused before it is read;
- the tensors are read by torch's weights-only loader, as SB3 2.9 and torch >= 2.6 do anyway; a
  ``.pth`` member that holds anything else is refused in one line.

``trust_code=True`` (``--trust-code`` on the command line) loads with SB3's and the zoo's own
unpickling and YAML: only for files you made or whose makers you trust.
"""

from __future__ import annotations

import base64
import contextvars
import io
import json
import pickle
import re
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

#: Aliases a YAML file of a run folder may use (the zoo writes none; a "billion laughs" file uses millions).
MAX_YAML_ALIASES = 100
#: Values a YAML file may hold once its aliases are expanded (a zoo config holds a few hundred).
MAX_YAML_NODES = 100_000
#: Keys of a zoo config whose text values the RL Zoo evaluates as Python (``eval``): code, when a file holds them.
EVALUATED_KEYS = frozenset({"policy_kwargs", "normalize", "replay_buffer_class", "replay_buffer_kwargs", "monitor_kwargs"})
#: The serialized members of a model that are learning-rate (or clip-range) schedules: functions pickled by value.
SCHEDULES = (
    "lr_schedule",
    "learning_rate",
    "clip_range",
    "clip_range_vf",
    "exploration_schedule",
    "delta_std",
    "delta_std_schedule",
)
#: Serialized members a model rebuilds when loaded (``_setup_model``), pickled as torch tensors: ARS's
#: ``weights``, its policy's parameters as one vector that only its training uses (the policy's own
#: weights, which act, are loaded from the zip).
REBUILT = ("weights",)
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
    from stable_baselines3.common import utils
    from stable_baselines3.common.buffers import BaseBuffer
    from stable_baselines3.common.noise import ActionNoise
    from stable_baselines3.common.policies import BaseModel
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit
    from stable_baselines3.common.vec_env import VecNormalize

    # Policies, their parts and buffers build torch modules or arrays from spaces; the statistics, an
    # off-policy agent's train_freq and its action noise are data. SB3 >= 2.6's schedules are classes that
    # hold numbers, or another schedule (a function inside one is refused as any function is).
    schedules = tuple(
        getattr(utils, name) for name in ("FloatSchedule", "LinearSchedule", "ConstantSchedule") if hasattr(utils, name)
    )
    data = (RunningMeanStd, VecNormalize, TrainFreq, TrainFrequencyUnit, ActionNoise, *schedules)
    return issubclass(obj, (BaseModel, BaseFeaturesExtractor, th.nn.Module, BaseBuffer, *data))


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


def safe_json_to_data(original: Callable[..., dict[str, Any]], where: str) -> Callable[..., dict[str, Any]]:
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
                if key in REBUILT:
                    given[key] = None  # the model's _setup_model rebuilds it; the policy's weights are loaded after
                    continue
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


def check_zip_sizes(path: Any, limit: int | None = None) -> None:
    """Refuse a model zip whose members claim more than ``limit`` bytes uncompressed, before any is read.

    :param path: the ``.zip`` (a path; other file objects are left to SB3)
    :param limit: bytes (default: the budget of one file, :func:`sb3_behave.limits.max_read_bytes`)
    :raises UntrustedFileError: not a zip file
    :raises sb3_behave.limits.TooLargeError: too large
    """
    from sb3_behave.limits import check_zip

    if not isinstance(path, (str, Path)):
        return
    path = Path(path)
    if not path.is_file():
        path = Path(f"{path}.zip")  # SB3 adds the suffix itself
    if not path.is_file():
        return  # SB3 says what is missing
    try:
        check_zip(path, "its members", limit)
    except zipfile.BadZipFile:
        raise UntrustedFileError(f"{path}: not a zip file (an SB3 model is one)") from None


def literal_python(text: str, where: str) -> Any:
    """The value of Python text the RL Zoo would ``eval`` (``policy_kwargs``, ``normalize``...), without running any.

    Literals (numbers, strings, ``True``/``False``/``None``, lists, tuples, dicts), ``dict(key=...)``
    and the names of torch's activation functions and optimizers (``nn.ReLU``, ``th.nn.Tanh``,
    ``torch.optim.Adam``) are understood; anything else (a call, an attribute of another module, an
    import) is refused.

    :param text: the text
    :param where: the file and key, for messages
    :raises UntrustedFileError: the text is more than data
    """
    import ast

    def refuse(node: ast.AST) -> UntrustedFileError:
        return UntrustedFileError(
            f"{where}: Python text {text[:80]!r} is more than data ({ast.unparse(node)[:40]!r}), which the RL Zoo "
            "would run: pass --trust-code (trust_code=True) if you trust who made it"
        )

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {value(k): value(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -node.operand.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            if any(k.arg is None for k in node.keywords):
                raise refuse(node)
            return {k.arg: value(k.value) for k in node.keywords}
        if isinstance(node, ast.Attribute):
            return torch_class(node)
        raise refuse(node)

    def torch_class(node: ast.Attribute) -> Any:
        parts = []
        current: ast.AST = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise refuse(node)
        path = [current.id, *reversed(parts)]
        if path[0] == "nn":
            path = ["torch", "nn", *path[1:]]
        elif path[0] in ("th", "torch"):
            path = ["torch", *path[1:]]
        if len(path) != 3 or path[:2] not in (["torch", "nn"], ["torch", "optim"]):
            raise refuse(node)
        import torch

        found = getattr(getattr(torch, path[1]), path[2], None)
        module = getattr(found, "__module__", "")
        if not isinstance(found, type) or not module.startswith(("torch.nn.modules.activation", "torch.optim")):
            raise refuse(node)
        return found

    try:
        tree = ast.parse(text.strip(), mode="eval")
        return value(tree.body)
    except (SyntaxError, ValueError) as error:
        if isinstance(error, UntrustedFileError):
            raise
        raise UntrustedFileError(f"{where}: {text[:80]!r} is not Python the RL Zoo could read") from None
    except (RecursionError, MemoryError):
        raise UntrustedFileError(f"{where}: Python text nested too deeply: refused") from None


def _check_evaluated_text(data: Any, where: str) -> None:
    """Refuse text of :data:`EVALUATED_KEYS`, at any depth, that is more than data (:func:`literal_python`).

    Text that is data stays as it is: the zoo evaluates it as it always did, and it runs nothing.
    Messages name the mappings that hold it (``conf.yml: CartPole-v1: policy_kwargs``).
    """
    stack: list[tuple[Any, str]] = [(data, where)]
    seen = set()
    while stack:
        item, label = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        pairs: list[tuple[Any, Any]] = []
        if isinstance(item, dict):
            pairs = list(item.items())
        elif isinstance(item, (list, tuple)):  # the zoo's OrderedDict arrives as [key, value] pairs
            pairs = [tuple(value) for value in item if isinstance(value, (list, tuple)) and len(value) == 2]
            stack.extend((value, label) for value in item)
        for key, value in pairs:
            if isinstance(key, str) and key in EVALUATED_KEYS and isinstance(value, str):
                literal_python(value, f"{label}: {key}")
            else:
                stack.append((value, f"{label}: {key}" if isinstance(key, str) and isinstance(value, dict) else label))


def _expanded_nodes(node: Any, sizes: dict[int, int]) -> int:
    """How many values a YAML node holds with every alias expanded (what a reader that copies it builds)."""
    import yaml

    key = id(node)
    if key not in sizes:
        sizes[key] = 1  # a node that holds itself counts once
        if isinstance(node, yaml.SequenceNode):
            sizes[key] = 1 + sum(_expanded_nodes(child, sizes) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            sizes[key] = 1 + sum(_expanded_nodes(k, sizes) + _expanded_nodes(v, sizes) for k, v in node.value)
    return sizes[key]


def _stream_size(stream: Any) -> int | None:
    """The bytes left in an open file, without reading it (``None`` for other streams)."""
    import os

    try:
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (AttributeError, OSError, ValueError):
        return None


def zoo_yaml_loader(where: str = "a run folder's YAML") -> type:
    """A PyYAML loader for the files the RL Zoo writes: the safe loader, plus ``OrderedDict`` and ``tuple``.

    Every other ``!!python`` tag (an object to build, a function to call) is refused, and so is a
    file using more than :data:`MAX_YAML_ALIASES` aliases, expanding to more than
    :data:`MAX_YAML_NODES` values, or larger than :data:`sb3_behave.limits.MAX_YAML_BYTES`.

    :param where: the file, for messages
    """
    import collections

    import yaml

    from sb3_behave.limits import MAX_YAML_BYTES, TooLargeError, human

    default_where = where

    class Loader(yaml.SafeLoader):
        aliases = 0
        where = default_where

        def __init__(self, stream: Any) -> None:
            named = getattr(stream, "name", None)
            if isinstance(named, str):  # the file the zoo opened: messages name it
                self.where = named
            size = len(stream) if isinstance(stream, (str, bytes)) else _stream_size(stream)
            if size is not None and size > MAX_YAML_BYTES:
                limit = human(MAX_YAML_BYTES)
                raise TooLargeError(f"{self.where}: a YAML file of {human(size)}, over the {limit} one may have")
            super().__init__(stream)

        def construct_document(self, node: Any) -> Any:
            data = super().construct_document(node)
            _check_evaluated_text(data, self.where)
            return data

        def compose_document(self) -> Any:
            try:
                node = super().compose_document()
                expanded = _expanded_nodes(node, {}) if node is not None else 0
            except RecursionError:
                raise UntrustedFileError(f"{self.where}: YAML nested too deeply: refused") from None
            if expanded > MAX_YAML_NODES:
                raise UntrustedFileError(
                    f"{self.where}: its YAML aliases expand to more than {MAX_YAML_NODES:,} values (a billion laughs): refused"
                )
            return node

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise UntrustedFileError(f"{self.where}: more than {MAX_YAML_ALIASES} YAML aliases: refused")
            return super().compose_node(parent, index)

    def ordered_dict(loader: Any, node: Any) -> Any:
        (pairs,) = loader.construct_sequence(node, deep=True)
        return collections.OrderedDict((key, value) for key, value in pairs)

    def refuse(loader: Any, suffix: str, node: Any) -> Any:
        raise UntrustedFileError(
            f"{loader.where}: the YAML tag !!python/{suffix} asks to run code, which sb3-behave does not do for a file: "
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
        except pickle.UnpicklingError as error:  # torch's weights-only load met a .pth that holds more than tensors
            found = re.search(r"GLOBAL ([\w.]+)", str(error))
            what = f" ({found.group(1)})" if found else ""
            raise UntrustedFileError(
                f"{load_path}: a .pth member holds more than tensors{what}, which torch's weights-only load refuses: "
                "pass --trust-code (trust_code=True) if you trust who made it"
            ) from None
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
    "EVALUATED_KEYS",
    "MAX_YAML_ALIASES",
    "MAX_YAML_NODES",
    "SCHEDULES",
    "UntrustedFileError",
    "check_zip_sizes",
    "literal_python",
    "load_data_pickle",
    "no_code_from_files",
    "safe_json_to_data",
    "safe_vec_normalize_load",
    "trusting_code",
    "zoo_yaml_loader",
]
