"""Throughput benchmark of the Flappy Bird env against flappy-bird-gymnasium (``sb3-behave bench env``)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: The goals of the benchmark, as ratios or absolute steps per second.
GOALS = {
    ("features", "single"): "at least as fast as the peer (1x)",
    ("lidar", "single"): "at least 20x the peer",
    ("features", "vec"): "at least 5,000,000 steps/s (compiled core: the mark is 20,000,000)",
    ("lidar", "vec"): "at least 100x the peer's single env",
}


@dataclass
class Measurement:
    """Steps per second of one configuration (median of several timed runs)."""

    obs_type: str
    runner: str  # "peer", "single" or "vec"
    n_envs: int
    steps_per_second: float


def _actions(n: int, n_envs: int = 1, flap_probability: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, n_envs)) < flap_probability).astype(np.int64)


def _time_steps(step: Callable[[int], int], seconds: float) -> float:
    """Call ``step(i)`` (which returns how many env steps it made) for ``seconds``; steps/s."""
    done = 0
    i = 0
    start = time.perf_counter()
    while True:
        for _ in range(64):
            done += step(i)
            i += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def _single_env_runner(env, actions: np.ndarray) -> Callable[[int], int]:
    def step(i: int) -> int:
        _, _, terminated, truncated, _ = env.step(int(actions[i % len(actions), 0]))
        if terminated or truncated:
            env.reset()
        return 1

    return step


def measure_single(obs_type: str, seconds: float, peer: bool = False) -> float:
    """Steps per second of one env made with ``gym.make`` (ours, or flappy-bird-gymnasium's)."""
    import warnings

    import gymnasium as gym

    if peer:
        import flappy_bird_gymnasium  # noqa: F401  (registers FlappyBird-v0)

        env = gym.make("FlappyBird-v0", use_lidar=obs_type == "lidar")
    else:
        env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type)
    with warnings.catch_warnings():
        # The peer's lidar readings can leave its declared space; its checker says so each time.
        warnings.simplefilter("ignore", UserWarning)
        env.reset(seed=0)
        try:
            return _time_steps(_single_env_runner(env, _actions(4096)), seconds)
        finally:
            env.close()


def measure_vec(obs_type: str, n_envs: int, seconds: float) -> float:
    """Steps per second (summed over games) of :class:`~sb3_behave.envs.FlappyBirdVecEnv`."""
    from sb3_behave.envs import FlappyBirdVecEnv

    env = FlappyBirdVecEnv(n_envs, obs_type=obs_type, seed=0)
    env.reset()
    actions = _actions(64, n_envs)

    def step(i: int) -> int:
        env.step(actions[i % 64])
        return n_envs

    try:
        return _time_steps(step, seconds)
    finally:
        env.close()


def warm_up() -> float:
    """Seconds the first steps of this process take: numba compiles the core's kernels, or loads them
    from its disk cache (see :mod:`sb3_behave.envs.flappy_bird.jit`). Timings start after it."""
    import gymnasium as gym

    from sb3_behave.envs import FlappyBirdVecEnv
    from sb3_behave.envs.flappy_bird.jit import compile_kernels

    start = time.perf_counter()
    compile_kernels()  # one bird would run its first steps uncompiled: time the compiled core throughout
    for obs_type in ("features", "lidar"):
        env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type)
        env.reset(seed=0)
        env.step(1)
        env.close()
        venv = FlappyBirdVecEnv(2, obs_type=obs_type, seed=0)
        venv.reset()
        venv.step(np.ones(2, dtype=np.int64))
    return time.perf_counter() - start


def core_description(first_call_seconds: float) -> str:
    """How the Flappy Bird core runs: compiled by numba (which version) or not, and its first call's time.

    :param first_call_seconds: from :func:`warm_up`
    """
    from sb3_behave.envs.flappy_bird.jit import compiled

    if not compiled():
        return "Flappy Bird core: NOT compiled (numba is missing): plain Python"
    from importlib.metadata import version

    return (
        f"Flappy Bird core: compiled by numba {version('numba')}; the first steps of this process took "
        f"{first_call_seconds:.2f} s (compilation, or loading from numba's disk cache)"
    )


def peer_available() -> bool:
    """Whether flappy-bird-gymnasium (``pip install --no-deps flappy-bird-gymnasium==0.4.0``) is installed."""
    try:
        import flappy_bird_gymnasium  # noqa: F401
    except ImportError:
        return False
    return True


def run_env_benchmark(
    obs_types: tuple[str, ...] = ("features", "lidar"),
    n_envs: int = 1024,
    seconds: float = 2.0,
    repeats: int = 3,
    progress: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Measure the peer's single env, ours, and our VecEnv for each observation kind.

    :param obs_types: observation kinds to compare (``"features"``, ``"lidar"``)
    :param n_envs: games in the VecEnv
    :param seconds: length of one timed run
    :param repeats: timed runs per configuration; the median is kept
    :param progress: called with a short label before each configuration
    """
    results = []
    with_peer = peer_available()
    for obs_type in obs_types:
        runners: list[tuple[str, int, Callable[[], float]]] = []
        if with_peer:
            runners.append(("peer", 1, lambda o=obs_type: measure_single(o, seconds, peer=True)))
        runners.append(("single", 1, lambda o=obs_type: measure_single(o, seconds)))
        runners.append(("vec", n_envs, lambda o=obs_type: measure_vec(o, n_envs, seconds)))
        for runner, n, measure in runners:
            if progress is not None:
                progress(f"{obs_type} / {runner} (n_envs={n})")
            speed = statistics.median(measure() for _ in range(repeats))
            results.append(Measurement(obs_type, runner, n, speed))
    return results


def format_table(results: list[Measurement]) -> str:
    """A Markdown table: steps/s, the ratio to the peer's single env, and the goal, met or not."""
    peer = {m.obs_type: m.steps_per_second for m in results if m.runner == "peer"}
    lines = [
        "| observation | env | n_envs | steps/s | vs peer single env | goal | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    names = {"peer": "flappy-bird-gymnasium", "single": "sb3_behave/FlappyBird-v0", "vec": "FlappyBirdVecEnv"}
    for m in results:
        base = peer.get(m.obs_type)
        ratio = f"{m.steps_per_second / base:.1f}x" if base else "n/a"
        goal = GOALS.get((m.obs_type, m.runner), "")
        met = ""
        if goal:
            met = _goal_met(m, base)
        lines.append(
            f"| {m.obs_type} | {names[m.runner]} | {m.n_envs} | {m.steps_per_second:,.0f} | {ratio} | {goal} | {met} |"
        )
    return "\n".join(lines)


def _goal_met(m: Measurement, peer: float | None) -> str:
    if (m.obs_type, m.runner) == ("features", "vec"):
        return ", ".join(
            f"{mark // 1_000_000}M: {'yes' if m.steps_per_second >= mark else '**no**'}" for mark in (5_000_000, 20_000_000)
        )
    if peer is None:
        return "no peer"
    needed = {("features", "single"): 1.0, ("lidar", "single"): 20.0, ("lidar", "vec"): 100.0}[(m.obs_type, m.runner)]
    return "yes" if m.steps_per_second >= needed * peer else "**no**"
