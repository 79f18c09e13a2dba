"""What the numba-compiled Flappy Bird core costs and where a VecEnv step's time goes.

    python benchmarks/compiled_core.py --out benchmarks/results/compiled_core.md

Measures, on this machine and stack:

- the first steps of a process with an empty numba cache (compilation) and with a warm one;
- the installed size of numba and llvmlite;
- the peak memory of a process that plays 1,000 steps of one bird as it comes (the kernels run
  as Python, numba is not imported: see ``sb3_behave/envs/flappy_bird/jit.py``) and compiled;
- a single env's steps per second compiled and uncompiled (``NUMBA_DISABLE_JIT=1``: the same
  Python loop), each in a fresh process;
- one step of ``FlappyBirdVecEnv(1024)`` against its parts: the physics kernel, the features
  kernel, and the list of 1024 new ``info`` dicts that SB3's VecEnv interface returns (best of
  15 runs of 200 calls each).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from itertools import repeat
from pathlib import Path
from typing import Callable

from common import print_and_save

FIRST_STEPS = """
import time
start = time.perf_counter()
import gymnasium as gym
import sb3_behave
ready = time.perf_counter()
for obs_type in ("features", "lidar"):
    env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type)
    env.reset(seed=0)
    env.step(1)
print(time.perf_counter() - ready)
"""

SINGLE_ENV = """
import time
import gymnasium as gym
import sb3_behave
from sb3_behave.envs.flappy_bird.jit import compile_kernels
compile_kernels()  # uncompiled: NUMBA_DISABLE_JIT=1
for obs_type, steps in (("features", 20_000), ("lidar", 2_000)):
    env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type)
    env.reset(seed=0)
    env.step(0)
    start = time.perf_counter()
    for i in range(steps):
        _, _, terminated, truncated, _ = env.step(int(i % 10 == 0))
        if terminated or truncated:
            env.reset()
    print(obs_type, steps / (time.perf_counter() - start))
"""


PEAK_MEMORY = """
import resource, sys
import gymnasium as gym
import sb3_behave
from sb3_behave.envs.flappy_bird.jit import compile_kernels, compiled
if sys.argv[1] == "compiled":
    compile_kernels()
env = gym.make("sb3_behave/FlappyBird-v0")
env.reset(seed=0)
for i in range(1_000):
    if env.step(int(i % 10 == 0))[2]:
        env.reset()
print(compiled(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _python(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return done.stdout


def first_steps() -> tuple[float, float]:
    """Seconds of the first gym.make + reset + step (features, then lidar): empty cache, then warm."""
    with tempfile.TemporaryDirectory() as cache:
        cold = float(_python(FIRST_STEPS, NUMBA_CACHE_DIR=cache))
        warm = float(_python(FIRST_STEPS, NUMBA_CACHE_DIR=cache))
    return cold, warm


def peak_megabytes(how: str) -> float:
    """Peak resident memory (MB) of a process that plays 1,000 steps of one bird, ``as it comes`` or ``compiled``."""
    done = subprocess.run([sys.executable, "-c", PEAK_MEMORY, how], capture_output=True, text=True, check=True)
    is_compiled, megabytes = done.stdout.split()
    assert (is_compiled == "True") == (how == "compiled"), done.stdout
    return float(megabytes)


def installed_megabytes(package: str) -> float:
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def single_env_speeds(disable_jit: bool) -> dict[str, float]:
    out = _python(SINGLE_ENV, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines()}


def best_microseconds(call: Callable[[int], object], calls: int = 200, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for i in range(calls):
            call(i)
        times.append((time.perf_counter() - start) / calls)
    return min(times) * 1e6


def vec_env_parts(n_envs: int = 1024) -> dict[str, float]:
    import numpy as np

    from sb3_behave.envs import FlappyBirdVecEnv
    from sb3_behave.envs.flappy_bird import observations

    env = FlappyBirdVecEnv(n_envs, seed=0)
    env.reset()
    actions = (np.random.default_rng(0).random((64, n_envs)) < 0.1).astype(np.int64)
    for i in range(200):
        env.step(actions[i % 64])
    flap = actions[0] == 1
    core = env.core
    return {
        "step": best_microseconds(lambda i: env.step(actions[i % 64])),
        "physics kernel (core.step)": best_microseconds(lambda i: core.step(flap, "alive", None, 10_000)),
        "features kernel": best_microseconds(lambda i: observations.features(core)),
        f"[{{}} for _ in range({n_envs})]": best_microseconds(lambda i: [{} for _ in repeat(None, n_envs)]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the report (Markdown) here")
    args = parser.parse_args()
    from importlib.metadata import version

    from sb3_behave.envs.flappy_bird.jit import HOT_CALLS
    from sb3_behave.stack import machine_description

    cold, warm = first_steps()
    compiled, uncompiled = single_env_speeds(False), single_env_speeds(True)
    as_it_comes, compiled_memory = peak_megabytes("as it comes"), peak_megabytes("compiled")
    parts = vec_env_parts()
    lines = [
        f"Machine: {machine_description()}",
        "",
        f"- First gym.make + reset + step, features then lidar: {cold:.2f} s with an empty numba cache "
        f"(compilation), {warm:.2f} s with a warm one.",
        f"- Installed: numba {version('numba')} {installed_megabytes('numba'):.0f} MB, "
        f"llvmlite {version('llvmlite')} {installed_megabytes('llvmlite'):.0f} MB.",
        f"- Peak memory of a process playing 1,000 steps of one bird (features): {as_it_comes:.0f} MB as it comes "
        f"(uncompiled for its first {HOT_CALLS:,} steps, numba not imported), {compiled_memory:.0f} MB compiled.",
        "- Single env (`gym.make`, a flap every 10th step), steps/s: "
        + ", ".join(
            f"{kind} {compiled[kind]:,.0f} compiled, {uncompiled[kind]:,.0f} uncompiled "
            f"({compiled[kind] / uncompiled[kind]:.0f}x)"
            for kind in ("features", "lidar")
        )
        + ".",
        "- FlappyBirdVecEnv(1024), features, best of 15 runs of 200 calls (µs per call; steps/s = 1024 / time):",
    ]
    for name, micros in parts.items():
        lines.append(f"  - {name}: {micros:.1f} µs ({1024 / micros:.1f}M steps/s)")
    print_and_save("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
