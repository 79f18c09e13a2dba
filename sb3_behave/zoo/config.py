"""A zoo hyperparameter file checked before the zoo reads it: one line naming the file, entry, key and what was expected.

The zoo itself passes every key it does not use to the algorithm's constructor, so a misspelt key
ends in a ``TypeError`` traceback, and ``learning_rate: fast`` in "not enough values to unpack".
"""

from __future__ import annotations

import difflib
import inspect
import re
from pathlib import Path

from sb3_behave.checks import is_number, is_whole_number

#: Keys the zoo reads itself (rl_zoo3's ExperimentManager); every other key goes to the algorithm.
ZOO_KEYS = frozenset(
    {
        "n_envs",
        "n_timesteps",
        "normalize",
        "env_kwargs",
        "monitor_kwargs",
        "frame_stack",
        "env_wrapper",
        "vec_env_wrapper",
        "callback",
        "noise_type",
        "noise_std",
    }
)
#: Keys the zoo turns into schedules: a number, or ``lin_<number>`` for a linear decay.
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf", "delta_std")
_LINEAR = re.compile(r"lin_[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def check_config_entry(path: str | Path, algo: str, env_id: str, trust_code: bool = False, read_data: bool = True) -> None:
    """Check the entry of ``env_id`` in the zoo hyperparameter file ``path`` for the algorithm ``algo``.

    Unknown keys (for algorithms whose constructor lists its keywords), schedules that are neither a
    number nor ``lin_<number>``, and numbers given as text are refused; the demonstrations and
    answers it names are read (:func:`check_data`). Only the env's own entry is
    checked; an unknown algorithm, a missing entry (the zoo then takes ``atari`` or ``default``) and
    a Python ``-conf`` are left to the zoo.

    :param path: the ``-conf`` file
    :param algo: the zoo name of the algorithm (``ppo``, ``bc``, ...), registered in ``rl_zoo3.utils.ALGOS``
    :param env_id: the env the zoo will train on
    :param trust_code: read ``!!python`` YAML tags and Python text the zoo evaluates (``policy_kwargs``...)
        with the zoo's own YAML loader, which runs the code they may hold
    :param read_data: read the demonstrations and answers the entry names (:func:`check_data`)
    :raises ValueError: naming the file, the entry, the key, its value and what was expected
    """
    import yaml
    from rl_zoo3.utils import ALGOS

    from sb3_behave.limits import check_text_size
    from sb3_behave.untrusted import zoo_yaml_loader

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"-conf {path}: no such file")
    check_text_size(path, what="zoo config")
    try:
        with open(path, encoding="utf-8") as file:  # the tags the zoo writes, no others, few aliases (unless trusted)
            data = yaml.load(file, Loader=yaml.UnsafeLoader if trust_code else zoo_yaml_loader(str(path)))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a text file ({error.reason} at byte {error.start})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of env ids to hyperparameters, got a {type(data).__name__}")
    if env_id not in data or algo not in ALGOS:
        return  # the zoo picks an "atari" or "default" entry, or says what is missing, itself
    name, entry = env_id, data[env_id]
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: {name}: expected a mapping of hyperparameters, got a {type(entry).__name__}")
    where = f"{path}: {name}"
    parameters = inspect.signature(ALGOS[algo].__init__).parameters
    defaults = {k: p.default for k, p in parameters.items() if k not in ("self", "env")}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for key, value in entry.items():
        if not takes_any and key not in defaults and key not in ZOO_KEYS:
            known = sorted((set(defaults) | ZOO_KEYS) - {"_init_setup_model"})
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f": {algo} takes {', '.join(known)}"
            raise ValueError(f"{where}: unknown hyperparameter {key!r} for {algo}{hint}")
        if not isinstance(value, str):
            continue
        default = defaults.get(key)
        if key in SCHEDULE_KEYS and not _LINEAR.fullmatch(value):
            expected = "a number, or 'lin_<number>' for a linear schedule"
        elif key not in SCHEDULE_KEYS and is_number(default):
            expected = f"a number like {default!r}"
        else:
            continue
        raise ValueError(f"{where}: {key} is {value!r}: expected {expected}{_text_number_hint(value)}")
    _check_values(where, entry, env_id)
    _check_policy_kwargs(where, entry, ALGOS[algo])
    for key in ("callback", "env_wrapper", "vec_env_wrapper"):
        if key in entry:
            _check_importable(where, key, entry[key])
    if read_data:
        check_data(where, entry)


#: Counts that must be whole numbers of at least 1, and fractions that must lie in [0, 1].
_COUNTS = ("batch_size", "n_steps", "n_epochs", "n_envs", "frame_stack")
_FRACTIONS = ("gamma", "gae_lambda", "tau")


def _check_values(where: str, entry: dict, env_id: str) -> None:
    """Numbers out of their range, which the algorithm would take and fail on (or train on) later."""
    import math

    from sb3_behave.registration import check_env_kwargs

    for key, value in entry.items():
        number = is_number(value)
        if key in _COUNTS and not is_whole_number(value):
            raise ValueError(f"{where}: {key} is {value!r}: expected a whole number >= 1")
        if key in _FRACTIONS and number and not 0 <= value <= 1:
            raise ValueError(f"{where}: {key} is {value!r}: expected a number in [0, 1]")
        if key in SCHEDULE_KEYS and number and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{where}: {key} is {value!r}: expected a finite number > 0")
        if key == "n_timesteps" and not (number and math.isfinite(value) and value >= 0):
            raise ValueError(f"{where}: n_timesteps is {value!r}: expected a number of steps >= 0 (1e6 as !!float 1e6)")
        if key == "env_kwargs":
            if not isinstance(value, dict):
                raise ValueError(f"{where}: env_kwargs is {value!r}: expected a mapping of env kwargs")
            try:
                check_env_kwargs(env_id, value)
            except ValueError as error:
                raise ValueError(f"{where}: env_kwargs: {error}") from None


def _check_policy_kwargs(where: str, entry: dict, algorithm: type) -> None:
    """``policy_kwargs`` must be a mapping of what the policy class takes."""
    value = entry.get("policy_kwargs")
    if value is None or isinstance(value, str):  # text: data only (the YAML loader checked it), evaluated by the zoo
        return
    if not isinstance(value, dict):
        raise ValueError(f"{where}: policy_kwargs is {value!r}: expected a mapping such as {{net_arch: [64, 64]}}")
    try:
        policy = algorithm.policy_aliases.get(entry.get("policy", "MlpPolicy"))  # type: ignore[attr-defined]
    except AttributeError:
        return
    if policy is None:
        return
    parameters = inspect.signature(policy.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    known = sorted(k for k in parameters if k not in ("self", "observation_space", "action_space", "lr_schedule"))
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f": {policy.__name__} takes {', '.join(known)}"
            raise ValueError(f"{where}: policy_kwargs: unknown key {key!r} for {policy.__name__}{hint}")


def _check_importable(where: str, key: str, value: object) -> None:
    """``callback:``, ``env_wrapper:`` and ``vec_env_wrapper:`` name classes by ``module.Class``, as the zoo imports them."""
    import importlib

    items = value if isinstance(value, list) else [value]
    for item in items:
        name = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else item
        if not isinstance(name, str) or "." not in name:
            raise ValueError(f"{where}: {key} is {item!r}: expected 'module.Class' (or {{module.Class: {{kwargs}}}})")
        module_name, _, class_name = name.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ValueError(f"{where}: {key} {name!r}: cannot import {module_name} ({error})") from None
        if not hasattr(module, class_name):
            public = [n for n in dir(module) if not n.startswith("_")]
            close = difflib.get_close_matches(class_name, public, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{where}: {key} {name!r}: {module_name} has no {class_name}{hint}")


def check_data(where: str, entry: dict) -> None:
    """Read the demonstrations and answers an entry names, before the zoo makes a run folder for it.

    They are read as the algorithm will read them (formats, sizes against the memory budget, one
    env across the files); the algorithm checks them against its env when it starts.

    :param where: the file and entry, for messages
    :param entry: the hyperparameters
    :raises ValueError: naming the key and what is wrong with the data
    """
    from sb3_behave.demos import DemonstrationError, load_episodes
    from sb3_behave.preferences.storage import PreferenceError, load_preferences

    demonstrations = entry.get("demonstrations")
    if isinstance(demonstrations, (str, list)) and demonstrations:
        try:
            load_episodes(demonstrations)
        except DemonstrationError as error:
            raise ValueError(f"{where}: demonstrations: {error}") from None
    preferences = entry.get("preferences")
    if isinstance(preferences, str):
        try:
            load_preferences(preferences)
        except PreferenceError as error:
            raise ValueError(f"{where}: preferences: {error}") from None


def _text_number_hint(text: str) -> str:
    try:
        float(text)
    except ValueError:
        return ""
    return " (YAML reads 1e-3 as text: write 1.0e-3, or drop the quotes)"


__all__ = ["SCHEDULE_KEYS", "ZOO_KEYS", "check_config_entry", "check_data"]
