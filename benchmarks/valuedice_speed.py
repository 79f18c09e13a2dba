"""The cost of one ValueDICE update against one SB3 SAC update of the same size, measured side by side.

    python benchmarks/valuedice_speed.py
    python benchmarks/valuedice_speed.py --threads 1 2 --repeats 200

Both with batch 256 and 256x256 networks (ValueDICE's defaults, SAC's ``net_arch=[256, 256]``), on
Pendulum-v1 (Box actions, the only kind SAC takes), after 1,000 env steps of random play fill their
replay buffers; ValueDICE learns from one random 500-step trajectory. Also measured: ValueDICE with
Discrete actions (Flappy Bird, 2 actions: nu is evaluated at every action of every next state), and
ValueDICE's update in the slower form it had before (one backward pass per network). The two
algorithms alternate in blocks of ``--repeats // 5`` updates, so load on the machine hits both alike.

Results: ``--results/valuedice_speed.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch as th
from common import FLAPPY, ROOT, machine, write_atomically


def random_trajectory(env_id: str, steps: int = 500):
    from imitation.data.types import Trajectory

    env = gym.make(env_id)
    env.action_space.seed(0)
    obs, acts = [env.reset(seed=0)[0]], []
    for _ in range(steps):
        action = env.action_space.sample()
        observation, _, terminated, truncated, _ = env.step(action)
        obs.append(observation)
        acts.append(action)
        if terminated or truncated:
            break
    return Trajectory(obs=np.array(obs), acts=np.array(acts), infos=None, terminal=bool(terminated))


def valuedice_update(env_id: str, two_passes: bool = False):
    """A function running one ValueDICE update (batch 256, 256x256), its buffer filled by 1,000 random steps."""
    from sb3_behave.valuedice import ValueDICE

    model = ValueDICE("MlpPolicy", env_id, [random_trajectory(env_id)], learning_starts=1_000, seed=0, device="cpu")
    model.learn(1_000)  # random actions only: fills the buffer, no update
    model.policy.set_training_mode(True)
    fraction = model.replay_absorbing_fraction()
    if two_passes:
        return lambda: two_pass_update(model, fraction)
    return lambda: model.update(256, fraction)


def two_pass_update(model, fraction: float) -> None:
    """The update as it was before: the same losses, one backward pass for nu and another for the actor."""
    losses = model.losses(256, fraction)
    model.nu.optimizer.zero_grad()
    model.actor.optimizer.zero_grad()
    losses["nu_loss"].backward(inputs=list(model.nu.parameters()), retain_graph=True)
    losses["actor_loss"].backward(inputs=list(model.actor.parameters()))
    model.nu.optimizer.step()
    model.actor.optimizer.step()


def sac_update():
    """A function running one SB3 SAC update (batch 256, 256x256), its buffer filled by 1,000 random steps."""
    from stable_baselines3 import SAC

    model = SAC("MlpPolicy", "Pendulum-v1", learning_starts=1_000, batch_size=256, seed=0, device="cpu")
    model.learn(1_000)
    return lambda: model.train(gradient_steps=1, batch_size=256)


def measure(functions: dict, repeats: int) -> dict[str, float]:
    """Milliseconds per call of each function: the median over 5 blocks, the functions interleaved block by block."""
    blocks: dict[str, list[float]] = {name: [] for name in functions}
    size = max(1, repeats // 5)
    for function in functions.values():
        function()  # warm-up
    for _ in range(5):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(size):
                function()
            blocks[name].append((time.perf_counter() - start) / size * 1e3)
    return {name: float(np.median(times)) for name, times in blocks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads, one measurement each")
    parser.add_argument("--repeats", type=int, default=200, help="updates timed per function and thread count")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    rows = []
    for threads in args.threads:
        th.set_num_threads(threads)
        functions = {
            "SAC (Pendulum, Box)": sac_update(),
            "ValueDICE (Pendulum, Box)": valuedice_update("Pendulum-v1"),
            "ValueDICE (Flappy Bird, Discrete)": valuedice_update(FLAPPY),
            "ValueDICE, two backward passes (Pendulum, Box)": valuedice_update("Pendulum-v1", two_passes=True),
        }
        times = measure(functions, args.repeats)
        sac = times["SAC (Pendulum, Box)"]
        for name, ms in times.items():
            rows.append({"threads": threads, "update": name, "ms": round(ms, 2), "x_sac": round(ms / sac, 2)})
            print(f"{threads} thread(s): {name}: {ms:.2f} ms ({ms / sac:.2f}x SAC)", flush=True)
    lines = [
        "# ValueDICE update cost against SAC's",
        "",
        f"`python benchmarks/valuedice_speed.py --threads {' '.join(map(str, args.threads))} --repeats {args.repeats}`",
        "",
        f"Machine: {machine()}. Batch 256, 256x256 networks; median of 5 interleaved blocks.",
        "",
        "| torch threads | update | ms per update | x SAC's |",
        "|---:|---|---:|---:|",
        *(f"| {r['threads']} | {r['update']} | {r['ms']:.2f} | {r['x_sac']:.2f} |" for r in rows),
        "",
    ]
    args.results.mkdir(parents=True, exist_ok=True)
    write_atomically(args.results / "valuedice_speed.md", "\n".join(lines))
    write_atomically(args.results / "valuedice_speed.json", json.dumps({"machine": machine(), "rows": rows}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
