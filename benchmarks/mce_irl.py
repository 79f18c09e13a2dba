"""MCE IRL on toy-text envs: how close does the policy of the recovered reward come to the expert?

    OMP_NUM_THREADS=1 python benchmarks/mce_irl.py --seeds 0 1 2

For each env (FrozenLake-v1 4x4 deterministic and slippery, CliffWalking), and each seed (which
changes the demonstrations sampled and the reward's initialization), ``sb3_behave.irl.run_mce_irl``
with the settings of ``sb3-behave irl``'s defaults: 100 expert trajectories of the env's time limit
(100 steps on FrozenLake; 100 on CliffWalking, which has none), discount 0.99, an expert soft-optimal
for 1000 * reward / max|reward|, 500 iterations of Adam at 0.1 on a reward per state.

Returns are exact expected undiscounted returns under the TRUE reward (from the state distributions,
no sampling): the expert, the policy soft-optimal for the recovered reward, and the uniformly random
policy; "fraction" is (learned - random) / (expert - random). Writes ``--out``/results.md and .json,
and the heat map of seed 0 for each env (``<env>.png``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch as th
from common import machine, print_and_save

from sb3_behave.irl import MCEIRLConfig, run_mce_irl, save_reward_plot, tabular_model

CLIFF = "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"
#: (name, env id, env kwargs)
ENVS = (
    ("FrozenLake 4x4 deterministic", "FrozenLake-v1", {"is_slippery": False}),
    ("FrozenLake 4x4 slippery", "FrozenLake-v1", {"is_slippery": True}),
    ("CliffWalking", CLIFF, {}),
)


def mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def markdown(rows: list[dict], command: str, demos: int) -> str:
    lines = [
        "# MCE IRL on toy-text envs",
        "",
        f"`{command}`",
        "",
        f"Machine: {machine()}; one torch thread.",
        "",
        f"{demos} expert demonstrations per seed; exact expected returns under the true reward "
        "(learned: the policy soft-optimal for the recovered reward); fraction = (learned - random) / (expert - random).",
        "",
        "A random walk falls off the cliff again and again, so on CliffWalking any sensible policy has a fraction "
        "near 1: compare the learned and expert returns there (each step costs -1).",
        "",
        "| env | expert | learned (mean ± std) | random | fraction (mean ± std) "
        "| learned per seed | fraction per seed | seconds per seed |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        runs = row["runs"]
        learned = [r["learned_return"] for r in runs]
        fractions = [r["fraction_of_expert"] for r in runs]
        lines.append(
            f"| {row['name']} (`{row['env_id']}`) | {row['expert_return']:.3f} | {mean_std(learned)} "
            f"| {row['random_return']:.3f} "
            f"| {mean_std(fractions)} | {', '.join(f'{x:.3f}' for x in learned)} | {', '.join(f'{x:.3f}' for x in fractions)} "
            f"| {', '.join(str(r['seconds']) for r in runs)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--demos", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mce_irl"))
    args = parser.parse_args()
    th.set_num_threads(1)
    command = "OMP_NUM_THREADS=1 python benchmarks/mce_irl.py --seeds " + " ".join(map(str, args.seeds))
    if args.demos != 100 or args.iterations != 500:
        command += f" --demos {args.demos} --iterations {args.iterations}"

    rows = []
    for name, env_id, kwargs in ENVS:
        model = tabular_model(env_id, **kwargs)
        runs = []
        for seed in args.seeds:
            result = run_mce_irl(model, MCEIRLConfig(demos=args.demos, iterations=args.iterations, seed=seed))
            print(f"{name}, seed {seed}:\n{result.report()}", flush=True)
            summary = result.to_dict()
            runs.append(
                {key: summary[key] for key in ("learned_return", "fraction_of_expert", "iterations", "demo_return", "seconds")}
            )
            runs[-1]["seed"] = seed
            if seed == args.seeds[0]:
                slug = env_id.split("-")[0] + ("_slippery" if kwargs.get("is_slippery") else "")
                save_reward_plot(model, result.reward, args.out / f"{slug}.png", title=f"{name}, seed {seed}")
        rows.append(
            {
                "name": name,
                "env_id": env_id,
                "env_kwargs": kwargs,
                "horizon": model.horizon,
                "expert_return": result.expert_return,
                "random_return": result.random_return,
                "runs": runs,
            }
        )
    report = markdown(rows, command, args.demos)
    print_and_save(report, args.out / "results.md")
    (args.out / "results.json").write_text(
        json.dumps({"command": command, "machine": machine(), "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
