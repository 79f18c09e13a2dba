"""What the benchmark scripts share: the machine line, the zoo configs, the ``sb3-behave`` runner, evaluation.

The scripts import it as ``from common import ...`` (Python puts a script's own folder on the path).
Everything here is built on the library: SB3's ``evaluate_policy``, ``sb3_behave.demos.play_episodes``,
``sb3_behave.envs.evaluate_flappy_policy`` and ``sb3_behave.agents``; nothing is written twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import sb3_behave  # noqa: F401  (registers the Flappy Bird env)

ROOT = Path(__file__).resolve().parent.parent
FLAPPY = "sb3_behave/FlappyBird-v0"
#: Keys of a zoo config entry that the benchmarks give the algorithm themselves (``n_envs`` stays: it makes the env).
NOT_HYPERPARAMETERS = ("n_timesteps", "demonstrations", "policy")


def machine() -> str:
    """The date, the machine and the dependency stack, for the head of a results table."""
    from sb3_behave.stack import machine_description

    return f"{time.strftime('%Y-%m-%d')}, {machine_description()}"


def zoo_entry(algo: str, env_id: str) -> dict[str, Any]:
    """The entry of ``zoo_configs/<algo>.yml`` for ``env_id``, as written (empty when there is none).

    The configs write ``policy_kwargs`` as YAML mappings, so nothing is evaluated.
    """
    import yaml

    return dict(yaml.safe_load((ROOT / "zoo_configs" / f"{algo}.yml").read_text()).get(env_id, {}))


def zoo_config(algo: str, env_id: str) -> dict[str, Any]:
    """The hyperparameters of ``zoo_configs/<algo>.yml`` for ``env_id`` (empty: the algorithm's defaults),
    with ``lin_<number>`` made the zoo's linear schedule, as the zoo makes it."""
    from rl_zoo3.utils import linear_schedule

    entry = zoo_entry(algo, env_id)
    for key in NOT_HYPERPARAMETERS:
        entry.pop(key, None)
    for key, value in entry.items():
        if isinstance(value, str) and value.startswith("lin_"):
            entry[key] = linear_schedule(float(value[4:]))
    return entry


def pendulum_sac_expert(path: Path) -> Path:
    """A SAC expert for Pendulum-v1 at ``path`` (trained on first use): the RL Zoo's settings, 20,000 steps,
    learning rate 1e-3, seed 0 (``zoo_configs/sac_experts.yml``'s entry)."""
    if not path.is_file():
        from stable_baselines3 import SAC

        expert = SAC("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, seed=0, device="cpu", verbose=0)
        expert.learn(20_000, progress_bar=False)
        expert.save(path)
    return path


def zoo_steps(algo: str, env_id: str) -> int:
    """``n_timesteps`` of ``zoo_configs/<algo>.yml`` for ``env_id``."""
    return int(float(zoo_entry(algo, env_id)["n_timesteps"]))


#: Run by ``python -c`` before the command it is given: on Linux, ask the kernel to kill this process
#: when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, kept across ``exec``), then become the
#: command. So a benchmark worker killed with kill -9 leaves no child training on into its run folder.
DIE_WITH_PARENT = """
import ctypes, os, signal, sys
parent = int(sys.argv[1])
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the prctl
        sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


def run_dying_with_parent(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    """Run ``command`` in ``cwd``, its output going to ``log``, as a process that dies with this one
    (even when this one is killed with kill -9; on Linux); raises ``CalledProcessError`` when it fails."""
    launcher = [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid())]
    with log.open("w") as out:
        status = subprocess.run([*launcher, *command], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if status != 0:
        raise subprocess.CalledProcessError(status, command)


def run_sb3_behave(args: list[str], cwd: Path, log: Path) -> float:
    """Run ``sb3-behave ARGS`` in ``cwd`` on one thread, its output going to ``log``; returns the seconds it took.

    The run dies with this process (:func:`run_dying_with_parent`).
    """
    start = time.time()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy"}
    run_dying_with_parent([sys.executable, "-m", "sb3_behave.cli", *args], cwd, env, log)
    return time.time() - start


def print_and_save(report: str, out: Path | None) -> None:
    """Print ``report``, and write it to ``out`` too when given (a results file)."""
    print(report)
    if out is not None:
        write_atomically(out, report + "\n")
        print(f"written to {out}")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: concurrent writers never
    leave a half-written file (the last one wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class Predictor:
    """An ``obs -> action`` callable (see :mod:`sb3_behave.agents`) with SB3's ``predict``, for batched evaluators."""

    def __init__(self, act: Any) -> None:
        self.act = act

    def predict(self, obs: np.ndarray, state: Any = None, episode_start: Any = None, deterministic: bool = True) -> Any:
        return np.stack([np.asarray(self.act(o)) for o in obs]), state


def random_agent(env_id: str, seed: int = 0) -> Predictor:
    """Uniformly random actions (:func:`sb3_behave.agents.random_policy`), for the random floor of a score."""
    from sb3_behave.agents import random_policy

    return Predictor(random_policy(gym.make(env_id), seed))


def evaluate(policy: Any, env_id: str, episodes: int = 10, max_frames: int = 2_000, seed: int | None = None) -> float:
    """Mean return over ``episodes`` seeded episodes, or, on Flappy Bird, mean score (pipes).

    :param policy: an SB3 model or anything with ``predict`` (deterministic play; SB3's
        ``evaluate_policy`` seeds the first episode only), or an ``obs -> action`` callable (played
        with :func:`sb3_behave.demos.play_episodes`: episode ``k`` is reset with ``seed + k``)
    :param env_id: the env
    :param episodes: episodes (games; Flappy Bird's game ``k`` has seed ``seed + k``)
    :param max_frames: Flappy Bird: the time limit of each game
    :param seed: seed of the first episode (default: 12,345 on Flappy Bird, as
        ``evaluate_flappy_policy``; 10,000 elsewhere)
    """
    if env_id == FLAPPY:
        from sb3_behave.envs import evaluate_flappy_policy

        seed = 12_345 if seed is None else seed
        policy = policy if hasattr(policy, "predict") else Predictor(policy)
        return float(evaluate_flappy_policy(policy, games=episodes, max_frames=max_frames, seed=seed)["score"])
    seed = 10_000 if seed is None else seed
    if not hasattr(policy, "predict"):
        from sb3_behave.demos import play_episodes

        return float(np.mean([np.sum(t.rews) for t in play_episodes(gym.make(env_id), policy, episodes, seed=seed)]))
    return float(np.mean(evaluate_returns(policy, env_id, episodes, seed)))


def evaluate_returns(policy: Any, env_id: str, episodes: int, seed: int) -> list[float]:
    """The return of each of ``episodes`` deterministic episodes of ``policy`` (anything with ``predict``),
    with SB3's ``evaluate_policy`` (which seeds the first episode with ``seed``)."""
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = DummyVecEnv([lambda: Monitor(gym.make(env_id))])
    env.seed(seed)
    returns, _ = evaluate_policy(policy, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True)
    return [float(r) for r in returns]
