"""``sb3-behave train --vec-env flappy``: the RL Zoo trains on :class:`~sb3_behave.envs.FlappyBirdVecEnv`.

The zoo builds its training and evaluation envs with ``make_vec_env`` (one gymnasium env per
game, stepped in a Python loop by ``DummyVecEnv`` or in processes by ``SubprocVecEnv``). With
``--vec-env flappy`` it gets a :class:`~sb3_behave.envs.FlappyBirdVecEnv` instead: all games in
one compiled step, with the same seeds (game ``i`` plays like env ``i`` of ``make_vec_env``), the
same ``env_kwargs`` and a ``VecMonitor`` writing the zoo's monitor file. Everything else the zoo
adds (``VecNormalize``, frame stacking, ``vec_env_wrapper``, callbacks) is added as usual.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from sb3_behave.registration import FLAPPY_BIRD_ID

#: The ``--vec-env`` values sb3-behave adds to the zoo's (``dummy``, ``subproc``).
NATIVE_VEC_ENVS = ("flappy",)


def flappy_vec_env(
    env_id: str,
    n_envs: int,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    monitor_dir: str | None = None,
    wrapper_class: Any = None,
    monitor_kwargs: dict[str, Any] | None = None,
) -> Any:
    """What ``make_vec_env`` would give the zoo: one :class:`~sb3_behave.envs.FlappyBirdVecEnv` in a ``VecMonitor``.

    :param env_id: the zoo's ``--env``; only ``sb3_behave/FlappyBird-v0``
    :param n_envs: number of games
    :param seed: seed of game 0 (game ``i``: ``seed + i``)
    :param env_kwargs: keyword arguments of the env (``obs_type``, ``reward_mode``, ``score_limit``, ...)
    :param monitor_dir: folder of the monitor file (``None``: none written)
    :param wrapper_class: the config's ``env_wrapper``: refused, as it wraps one gymnasium env
    :param monitor_kwargs: keyword arguments of the ``VecMonitor``
    :raises ValueError: another env, an ``env_wrapper``, or ``env_kwargs`` the vec env does not take
    """
    from stable_baselines3.common.vec_env import VecMonitor

    from sb3_behave.envs import FlappyBirdVecEnv

    check_native_vec_env("flappy", env_id)
    if wrapper_class is not None:
        raise ValueError(
            "--vec-env flappy: the config's env_wrapper wraps one gymnasium env, and FlappyBirdVecEnv steps "
            "all games at once: use vec_env_wrapper (a time limit: env_kwargs: {max_episode_steps: N}), or --vec-env dummy"
        )
    kwargs = dict(env_kwargs or {})
    try:
        env = FlappyBirdVecEnv(n_envs, seed=seed, **kwargs)
    except TypeError as error:
        raise ValueError(f"--vec-env flappy: env_kwargs {kwargs}: FlappyBirdVecEnv does not take them ({error})") from None
    filename = os.path.join(monitor_dir, "flappy") if monitor_dir is not None else None
    return VecMonitor(env, filename=filename, **(monitor_kwargs or {}))


def take_vec_env(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without ``--vec-env NAME`` when NAME is one of :data:`NATIVE_VEC_ENVS`, and that name (else ``None``)."""
    for i, arg in enumerate(argv):
        name, sep, value = arg.partition("=")
        if name != "--vec-env":
            continue
        value = value if sep else (argv[i + 1] if i + 1 < len(argv) else "")
        if value in NATIVE_VEC_ENVS:
            return argv[:i] + argv[i + (1 if sep else 2) :], value
    return argv, None


def check_native_vec_env(name: str, env_id: str) -> None:
    """Refuse a ``--vec-env`` name sb3-behave does not add, or an env its vec env does not play.

    :param name: the ``--vec-env`` value
    :param env_id: the ``--env`` of the command
    :raises ValueError: one line naming the value at fault
    """
    if name not in NATIVE_VEC_ENVS:
        raise ValueError(f"--vec-env {name}: sb3-behave adds {', '.join(NATIVE_VEC_ENVS)} to the zoo's dummy and subproc")
    if env_id != FLAPPY_BIRD_ID:
        raise ValueError(f"--vec-env {name}: FlappyBirdVecEnv plays {FLAPPY_BIRD_ID} only, not --env {env_id}")


@contextmanager
def training_on_native_vec_env(name: str) -> Iterator[None]:
    """While the zoo's train runs, its ExperimentManager makes its envs with :func:`flappy_vec_env`.

    Check the command first with :func:`check_native_vec_env`.

    :param name: one of :data:`NATIVE_VEC_ENVS`
    """
    import rl_zoo3.exp_manager
    import rl_zoo3.train

    base = rl_zoo3.train.ExperimentManager  # maybe already replaced (a shared Optuna study): build on it

    class NativeVecEnvExperimentManager(base):  # type: ignore[misc,valid-type]
        def create_envs(self, n_envs: int, eval_env: bool = False, no_log: bool = False) -> Any:
            zoo_make_vec_env = rl_zoo3.exp_manager.make_vec_env
            env_id = self.env_name.gym_id

            def make_vec_env(env: Any, n_envs: int = 1, seed: int | None = None, **kwargs: Any) -> Any:
                kwargs = {k: kwargs.get(k) for k in ("env_kwargs", "monitor_dir", "wrapper_class", "monitor_kwargs")}
                return flappy_vec_env(env_id, n_envs, seed, **kwargs)

            rl_zoo3.exp_manager.make_vec_env = make_vec_env
            try:
                return super().create_envs(n_envs, eval_env=eval_env, no_log=no_log)
            finally:
                rl_zoo3.exp_manager.make_vec_env = zoo_make_vec_env

    rl_zoo3.train.ExperimentManager = NativeVecEnvExperimentManager
    try:
        yield
    finally:
        rl_zoo3.train.ExperimentManager = base
