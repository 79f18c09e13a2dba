"""A zoo hyperparameter file checked before the zoo reads it: one line naming the file, entry, key and what was expected.

The zoo itself passes every key it does not use to the algorithm's constructor, so a misspelt key
ends in a ``TypeError`` traceback, and ``learning_rate: fast`` in "not enough values to unpack".
"""

from __future__ import annotations

import difflib
import inspect
import re
from pathlib import Path

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


def check_config_entry(path: str | Path, algo: str, env_id: str, trust_code: bool = False) -> None:
    """Check the entry of ``env_id`` in the zoo hyperparameter file ``path`` for the algorithm ``algo``.

    Unknown keys (for algorithms whose constructor lists its keywords), schedules that are neither a
    number nor ``lin_<number>``, and numbers given as text are refused. Only the env's own entry is
    checked; an unknown algorithm, a missing entry (the zoo then takes ``atari`` or ``default``) and
    a Python ``-conf`` are left to the zoo.

    :param path: the ``-conf`` file
    :param algo: the zoo name of the algorithm (``ppo``, ``bc``, ...), registered in ``rl_zoo3.utils.ALGOS``
    :param env_id: the env the zoo will train on
    :param trust_code: allow ``policy_kwargs`` written as Python text (the zoo evaluates it: the file runs code)
    :raises ValueError: naming the file, the entry, the key, its value and what was expected
    """
    import yaml
    from rl_zoo3.utils import ALGOS

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"-conf {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text())
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
        if key == "policy_kwargs" and isinstance(value, str) and not trust_code:
            raise ValueError(
                f"{where}: policy_kwargs is Python text ({value[:60]!r}), which the zoo would run: write it as YAML "
                "(policy_kwargs: {net_arch: [64, 64]}), or pass --trust-code if the file is yours"
            )
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
        elif key not in SCHEDULE_KEYS and isinstance(default, (int, float)) and not isinstance(default, bool):
            expected = f"a number like {default!r}"
        else:
            continue
        raise ValueError(f"{where}: {key} is {value!r}: expected {expected}{_text_number_hint(value)}")


def _text_number_hint(text: str) -> str:
    try:
        float(text)
    except ValueError:
        return ""
    return " (YAML reads 1e-3 as text: write 1.0e-3, or drop the quotes)"


__all__ = ["SCHEDULE_KEYS", "ZOO_KEYS", "check_config_entry"]
