"""ValueDICE smoke benchmark: does a short CPU run learn, for Discrete and for Box actions?

    OMP_NUM_THREADS=1 python benchmarks/valuedice_smoke.py --seeds 0 1 2

Demonstrations come from scripted controllers, built in memory (seeded, no files):

- CartPole-v1 (Discrete): push the cart the way the pole is falling,
  ``action = int(theta + 0.5 * theta_dot > 0)``; every episode lasts the full 500 steps
  (time-limit truncations, so the demonstrations hold no absorbing state).
- Pendulum-v1 (Box), two controllers: a smooth one, ``u = clip(-1.5 sin(theta) - 0.2 theta_dot)``,
  which does not swing up, and a swing-up one (energy pumping with full torque, then a PD
  controller near the top; about -130 return), whose actions switch sign abruptly.

Runs (64x64 networks, actor lr 1e-4, nu lr 1e-3, batch 64, other settings at their defaults,
unless said otherwise):

- ``cartpole_offline``: offline ValueDICE, 3 demonstrations, evaluated after 500/1000/2000/4000 gradient steps;
- ``cartpole_offline_actor_lr_1e-3``: the same with the actor as fast as nu (lr 1e-3);
- ``cartpole_online``: online, 3 demonstrations, 500 random steps first, evaluated after 1000/2000/3000 env steps;
- ``cartpole_paper_defaults``: online with the paper's settings (256x256, actor lr 1e-5, batch 256);
- ``pendulum_smooth``: offline, 5 demonstrations of the smooth controller; correlation of the
  policy's actions with the demonstrated ones, on the demonstrated states, after 1000 gradient steps;
- ``pendulum_swingup``: offline, 10 demonstrations of the swing-up controller, evaluated after
  2000/5000/10000 gradient steps; ``pendulum_swingup_bc`` is behavioural cloning as a reference point
  (the zoo's BC adapter, imitation's BC, on a 64x64 policy: 1000 gradient steps of batch 64).

Evaluation (``benchmarks/common.py``): mean return of the deterministic policy over 10 episodes,
reset with seeds 10000..10009. The results go to ``--out`` as JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch as th
from common import evaluate, machine
from imitation.data.types import Trajectory

from sb3_behave.demos import play_episodes
from sb3_behave.valuedice import ValueDICE
from sb3_behave.zoo import BC

SMALL = dict(net_arch=[64, 64])
FAST = dict(learning_rate=1e-4, batch_size=64, policy_kwargs=SMALL)


def cartpole_expert(obs: np.ndarray) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


def pendulum_smooth(obs: np.ndarray) -> np.ndarray:
    return np.array([np.clip(-1.5 * obs[1] - 0.2 * obs[2], -2.0, 2.0)], dtype=np.float32)


def pendulum_swingup(obs: np.ndarray) -> np.ndarray:
    cos, sin, theta_dot = (float(x) for x in obs)
    if cos > 0.8:  # near the top: PD control of the angle
        torque = -10.0 * np.arctan2(sin, cos) - 2.0 * theta_dot
    else:  # pump energy towards that of the upright pendulum at rest
        energy = 0.5 * theta_dot**2 + 15.0 * (cos - 1.0)
        push = -0.5 * energy * theta_dot
        torque = 2.0 * np.sign(push) if abs(push) > 0.1 else 2.0 * np.sign(theta_dot + 1e-3)
    return np.array([np.clip(torque, -2.0, 2.0)], dtype=np.float32)


def play(env_id: str, expert, episodes: int, seed: int = 0) -> list[Trajectory]:
    """The controller's episodes, in memory (reset with seeds ``seed``, ``seed + 1``, ...)."""
    return play_episodes(gym.make(env_id), expert, episodes, seed=seed)


def model_actor(model):
    return lambda obs: model.predict(obs, deterministic=True)[0]


def staged(model: ValueDICE, env_id: str, checkpoints: list[int]) -> tuple[dict[str, float], float]:
    """Learn up to each checkpoint (env steps online, gradient steps offline) and evaluate there."""
    returns, seconds = {}, 0.0
    for checkpoint in checkpoints:
        start = time.perf_counter()
        model.learn(checkpoint - model.num_timesteps, reset_num_timesteps=model.num_timesteps == 0)
        seconds += time.perf_counter() - start
        returns[str(checkpoint)] = round(evaluate(model_actor(model), env_id), 1)
    return returns, round(seconds, 1)


def bc_reference(demos: list[Trajectory], seed: int) -> float:
    """Behavioural cloning (the zoo's BC adapter, imitation's BC) of a 64x64 policy, 1000 gradient steps of batch 64."""
    model = BC("MlpPolicy", "Pendulum-v1", demonstrations=demos, batch_size=64, policy_kwargs=SMALL, seed=seed)
    model.learn(1000)
    return round(evaluate(model_actor(model), "Pendulum-v1"), 1)


def markdown(results: dict) -> str:
    """The results as Markdown tables."""
    lines = [
        "# ValueDICE smoke benchmark",
        "",
        f"`{results['machine']['command']}`",
        "",
        f"Machine: {results['machine']['description']}; one torch thread.",
        "Timings are for training only, on a machine shared with other jobs.",
        "",
        "Demonstrators and random play (mean return, 10 episodes):",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in results["demonstrators"].items()]
    lines += ["", "| run | seed | mean return at checkpoint (steps: return) | train seconds |", "|---|---|---|---:|"]
    for name, per_seed in results.items():
        for seed, entry in per_seed.items() if isinstance(per_seed, dict) else ():
            if isinstance(entry, dict) and "returns" in entry:
                checkpoints = ", ".join(f"{k}: {v}" for k, v in entry["returns"].items())
                lines.append(f"| {name} | {seed} | {checkpoints} | {entry['train_seconds']} |")
    lines += ["", "| run | seed | result |", "|---|---|---|"]
    for seed, entry in results["pendulum_smooth"].items():
        lines.append(f"| pendulum_smooth | {seed} | action correlation {entry['action_correlation']} |")
    for seed, entry in results["pendulum_swingup_bc"].items():
        lines.append(f"| pendulum_swingup_bc | {seed} | return {entry['return']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/valuedice_smoke"))
    args = parser.parse_args()
    th.set_num_threads(1)
    np.random.seed(0)  # the random players

    cartpole = play("CartPole-v1", cartpole_expert, 3)
    smooth = play("Pendulum-v1", pendulum_smooth, 5)
    swingup = play("Pendulum-v1", pendulum_swingup, 10, seed=100)
    results: dict[str, dict] = {
        "demonstrators": {
            "cartpole_scripted": evaluate(cartpole_expert, "CartPole-v1"),
            "pendulum_swingup": round(evaluate(pendulum_swingup, "Pendulum-v1"), 1),
            "random_cartpole": round(evaluate(lambda obs: np.random.randint(2), "CartPole-v1"), 1),
            "random_pendulum": round(evaluate(lambda obs: np.random.uniform(-2, 2, 1), "Pendulum-v1"), 1),
        }
    }
    runs = {
        "cartpole_offline": lambda s: staged(
            ValueDICE("MlpPolicy", "CartPole-v1", cartpole, offline=True, **FAST, seed=s),
            "CartPole-v1",
            [500, 1000, 2000, 4000],
        ),
        "cartpole_offline_actor_lr_1e-3": lambda s: staged(
            ValueDICE("MlpPolicy", "CartPole-v1", cartpole, offline=True, **{**FAST, "learning_rate": 1e-3}, seed=s),
            "CartPole-v1",
            [500, 1000, 2000, 4000],
        ),
        "cartpole_online": lambda s: staged(
            ValueDICE("MlpPolicy", "CartPole-v1", cartpole, learning_starts=500, **FAST, seed=s),
            "CartPole-v1",
            [1000, 2000, 3000],
        ),
        "cartpole_paper_defaults": lambda s: staged(
            ValueDICE("MlpPolicy", "CartPole-v1", cartpole, learning_starts=500, seed=s), "CartPole-v1", [1000, 2000, 3000]
        ),
        "pendulum_swingup": lambda s: staged(
            ValueDICE("MlpPolicy", "Pendulum-v1", swingup, offline=True, **FAST, seed=s), "Pendulum-v1", [2000, 5000, 10000]
        ),
    }
    for name, run in runs.items():
        seeds = args.seeds if name.startswith(("cartpole_offline", "cartpole_online")) else args.seeds[:1]
        results[name] = {}
        for seed in seeds:
            returns, seconds = run(seed)
            results[name][f"seed{seed}"] = {"returns": returns, "train_seconds": seconds}
            print(name, seed, returns, f"{seconds}s", flush=True)

    results["pendulum_smooth"] = {}
    for seed in args.seeds:
        model = ValueDICE("MlpPolicy", "Pendulum-v1", smooth, offline=True, **FAST, seed=seed)
        model.learn(1000)
        actions, _ = model.predict(np.concatenate([t.obs[:-1] for t in smooth]), deterministic=True)
        correlation = np.corrcoef(actions[:, 0], np.concatenate([t.acts for t in smooth])[:, 0])[0, 1]
        results["pendulum_smooth"][f"seed{seed}"] = {"action_correlation": round(float(correlation), 3)}
        print("pendulum_smooth", seed, round(float(correlation), 3), flush=True)
    results["pendulum_swingup_bc"] = {f"seed{args.seeds[0]}": {"return": bc_reference(swingup, args.seeds[0])}}
    print("pendulum_swingup_bc", results["pendulum_swingup_bc"], flush=True)

    results["machine"] = {
        "description": machine(),
        "cpu_threads": 1,
        "command": "OMP_NUM_THREADS=1 python benchmarks/valuedice_smoke.py --seeds " + " ".join(map(str, args.seeds)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
