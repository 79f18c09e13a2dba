"""Trajectories pinned bit for bit: the simulation core may get faster, never different.

``tests/data/flappy_trajectories.json`` holds the SHA-256 of every observation, reward, end flag,
score and terminal observation of a few seeded runs, recorded with the numpy core of sb3-behave
0.x before the compiled core replaced it (2026-11-30). They cover the single env (features,
lidar, rgb; crashes, score limits, time limits, resets without a seed) and the VecEnv (auto-reset,
terminal observations, the expert's long games, so that many blocks of pipe heights are drawn).

Re-record only for an intended change of the game: ``python tests/test_flappy_trajectories.py``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from sb3_behave.envs import FlappyBirdExpert, FlappyBirdVecEnv

PINNED = Path(__file__).parent / "data" / "flappy_trajectories.json"

#: name -> (runner, keyword arguments of the env, steps, seed, flap probability; None: the expert)
CASES = {
    "single-features": ("single", {"obs_type": "features"}, 3000, 3, 0.1),
    "single-features-score-limit": ("single", {"reward_mode": "score", "score_limit": 3}, 3000, 4, None),
    "single-lidar": ("single", {"obs_type": "lidar", "max_episode_steps": 200}, 1500, 5, 0.12),
    "single-rgb": ("single", {"obs_type": "rgb", "image_size": (32, 24)}, 600, 6, 0.1),
    "vec-features": ("vec", {"n_envs": 16, "max_episode_steps": 150}, 2000, 7, 0.12),
    "vec-features-expert": ("vec", {"n_envs": 8, "reward_mode": "score", "score_limit": 40}, 3000, 8, None),
    "vec-lidar": ("vec", {"n_envs": 8}, 800, 9, 0.1),
}


def _update(digest: Any, *arrays: object) -> None:
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())


def run_single(kwargs: dict, steps: int, seed: int, flap: float | None) -> str:
    env = gym.make("sb3_behave/FlappyBird-v0", **kwargs)
    expert = FlappyBirdExpert()
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256()
    obs, _ = env.reset(seed=seed)
    _update(digest, obs)
    for _ in range(steps):
        if flap is None:
            action = int(expert.act(env.unwrapped.features()[None])[0])
        else:
            action = int(rng.random() < flap)
        obs, reward, terminated, truncated, info = env.step(action)
        _update(digest, obs, np.float64(reward), np.array([terminated, truncated]), np.int64(info["score"]))
        if terminated or truncated:
            obs, _ = env.reset()  # no seed: the env's generator goes on
            _update(digest, obs)
    env.close()
    return digest.hexdigest()


def run_vec(kwargs: dict, steps: int, seed: int, flap: float | None) -> str:
    venv = FlappyBirdVecEnv(seed=seed, **kwargs)
    expert = FlappyBirdExpert()
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256()
    obs = venv.reset()
    _update(digest, obs)
    for _ in range(steps):
        if flap is None:
            actions = expert.act(obs)
        else:
            actions = (rng.random(venv.num_envs) < flap).astype(np.int64)
        obs, rewards, dones, infos = venv.step(actions)
        _update(digest, obs, rewards, dones, venv.scores)
        for i in np.flatnonzero(dones):
            info = infos[i]
            _update(digest, np.int64(i), info["terminal_observation"], np.int64(info["score"]))
            _update(digest, np.array(info["TimeLimit.truncated"]))
    venv.close()
    return digest.hexdigest()


def digest_of(name: str) -> str:
    runner, kwargs, steps, seed, flap = CASES[name]
    return (run_single if runner == "single" else run_vec)(kwargs, steps, seed, flap)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectories_are_bit_identical_to_the_recorded_ones(name):
    pinned = json.loads(PINNED.read_text())
    assert digest_of(name) == pinned[name], f"{name}: the trajectory changed (see this file's docstring)"


def test_the_kernels_are_compiled():
    from sb3_behave.envs.flappy_bird import core, jit, observations

    assert jit.NUMBA_INSTALLED and jit.compile_kernels() and jit.compiled()
    for function in (core._step_birds, core._reset_birds, observations._fill_features, observations._fill_lidar):
        assert type(function.compiled).__name__ == "CPUDispatcher", f"{function} is not compiled by numba"
        assert function._run is function.compiled


WHEN_COMPILED = """
import sys
import numpy as np
import gymnasium as gym
import sb3_behave
from sb3_behave.envs import FlappyBirdVecEnv
from sb3_behave.envs.flappy_bird import jit
jit.HOT_CALLS = 300
case = sys.argv[1]
if case == "vec":
    FlappyBirdVecEnv(2, seed=0).reset()
else:
    env = gym.make("sb3_behave/FlappyBird-v0", obs_type=case)
    env.reset(seed=0)
    for step in range(int(sys.argv[2])):
        if env.step(step % 9 == 0)[2]:
            env.reset()
print(jit.compiled(), "numba" in sys.modules)
"""


@pytest.mark.parametrize(
    "case, steps, expected",
    [("features", 250, "False False"), ("features", 350, "True True"), ("lidar", 1, "True True"), ("vec", 0, "True True")],
)
def test_kernels_compile_when_it_pays(case, steps, expected):
    """One bird with features runs as Python, without importing numba (130 MB), until it has run
    HOT_CALLS steps; lidar and many birds compile at once."""
    done = subprocess.run([sys.executable, "-c", WHEN_COMPILED, case, str(steps)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == expected


def test_each_compiled_kernel_equals_its_python_source_now():
    """numba's disk cache is invalidated only when a kernel's own file changes: a game constant
    changed in core.py could leave a cached observation kernel with the old value. Each kernel is
    run compiled and as its Python source (which reads the modules as they are now) on random states."""
    from sb3_behave.envs.flappy_bird import core as C
    from sb3_behave.envs.flappy_bird import observations as O

    rng = np.random.default_rng(0)
    n = 64
    stale = "compiled != source: a stale numba cache? delete sb3_behave/envs/flappy_bird/__pycache__ (see jit.py)"

    def state():
        game = C.FlappyBirdCore(n)
        for i in range(n):
            game.set_rng(i, np.random.default_rng(i))
        game.reset()
        front = rng.uniform(-60, 300, n)
        game.pipe_x[:] = np.stack([front, front + 144, np.where(rng.random(n) < 0.5, front + 288, np.inf)], axis=1)
        game.gap_y[:] = rng.integers(80, 222, (n, 3))
        game.player_y[:] = rng.uniform(-60, 390, n)
        game.vel_y[:] = rng.integers(-9, 11, n)
        game.rot[:] = rng.integers(-90, 46, n)
        game._gap_next[:] = rng.integers(0, 65, n)
        return game

    for _ in range(5):
        game = state()
        arrays = (game.player_y, game.vel_y, game.rot, game.pipe_x, game.gap_y, game.score, game.frame)
        arrays += (game._gaps, game._gap_next)
        compiled, source = [a.copy() for a in arrays], [a.copy() for a in arrays]
        flap = rng.random(n) < 0.3
        outputs = [[np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n), np.zeros(n, np.int64)] for _ in "ab"]
        refills = [
            kernel(flap, *run, 0.1, 7, 10_000, *out)
            for run, kernel, out in ((compiled, C._step_birds, outputs[0]), (source, C._step_birds.py_func, outputs[1]))
        ]
        assert refills[0] == refills[1], stale
        for a, b in zip(compiled + outputs[0], source + outputs[1]):
            np.testing.assert_array_equal(a, b, err_msg=stale)
        index = np.flatnonzero(rng.random(n) < 0.5)
        for run in (compiled, source):  # FlappyBirdCore.reset draws a new block first when fewer than 2 are left
            run[-1][index] = np.minimum(run[-1][index], C._GAP_BLOCK - 2)
        C._reset_birds(index, *compiled)
        C._reset_birds.py_func(index, *source)
        for a, b in zip(compiled, source):
            np.testing.assert_array_equal(a, b, err_msg=stale)
        game = state()
        features_args = (game.player_y, game.vel_y, game.rot, game.pipe_x, game.gap_y)
        cases = [
            (O._fill_features, features_args, (n, O.N_FEATURES), np.float32, (True,)),  # the observation
            (O._fill_features, features_args, (n, O.N_FEATURES), np.float64, (False,)),  # raw_features
            (O._fill_lidar, (game.player_y, game.pipe_x, game.gap_y), (n, O.N_RAYS), np.float32, ()),
        ]
        for fill, args, shape, dtype, extra in cases:
            a, b = np.empty(shape, dtype), np.empty(shape, dtype)
            fill(*args, a, *extra)
            fill.py_func(*args, b, *extra)
            np.testing.assert_array_equal(a, b, err_msg=stale)


def test_without_numba_the_same_python_code_gives_the_same_trajectories():
    """The fallback runs the kernels' own Python source: slower, bit for bit the same."""
    script = f"""
import sys
sys.modules["numba"] = None  # numba cannot be imported
sys.path.insert(0, {str(Path(__file__).parent)!r})
import json
from test_flappy_trajectories import PINNED, digest_of
from sb3_behave.envs.flappy_bird import jit
assert not jit.NUMBA_INSTALLED and not jit.compile_kernels()
pinned = json.loads(PINNED.read_text())
for name in ("single-features", "single-lidar", "vec-features"):
    assert digest_of(name) == pinned[name], name
print("same")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "same", done.stderr[-2000:]


if __name__ == "__main__":
    PINNED.write_text(json.dumps({name: digest_of(name) for name in sorted(CASES)}, indent=2) + "\n")
    print(f"wrote {PINNED}")
