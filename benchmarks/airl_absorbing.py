"""AIRL on CartPole-v1 with and without fixed-length episodes (an absorbing state after the pole falls).

    python benchmarks/airl_absorbing.py --seeds 0 1 2

Both rows are ``sb3-behave train --algo airl --env CartPole-v1 --seed k`` with the same
hyperparameters, from the same PPO expert and demonstrations as ``benchmarks/imitation_zoo.py``
(``--out`` may be that benchmark's folder: the expert and the runs already there are reused):

- ``zoo_configs/airl.yml``: episodes end when the pole falls;
- ``zoo_configs/airl_absorbing.yml``: the same entry with ``env_wrapper:
  sb3_behave.envs.wrappers.AbsorbingHorizon`` (every episode lasts 500 steps).

Each final model plays 20 deterministic episodes of plain CartPole-v1. Results:
``--results/table.md`` and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from common import ROOT, machine
from imitation_zoo import prepare, took, train_and_evaluate

CONFIGS = ("zoo_configs/airl.yml", "zoo_configs/airl_absorbing.yml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/imitation_zoo/cartpole/current"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "airl_absorbing")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = args.out.resolve()
    setup = prepare("cartpole", out)
    expert = setup["expert_value"]
    rows = []
    for config in CONFIGS:
        values = []
        for seed in args.seeds:
            value, seconds = train_and_evaluate("airl", "CartPole-v1", seed, out, config=config)
            print(f"{config} seed {seed}: {value:.1f} {took(seconds)}", flush=True)
            values.append(value)
        rows.append({"config": config, "seeds": args.seeds, "values": values})
    lines = [
        f"Command: `python benchmarks/airl_absorbing.py --seeds {' '.join(map(str, args.seeds))}`  ",
        f"Machine: {machine()}  ",
        f"Expert: {setup['expert']}, return {expert:.1f}. Demonstrations: {setup['demos']}. 300,000 env steps per run.",
        "",
        "| config | return: mean ± std over seeds | per seed | % of expert | goal (≥ 90%) |",
        "|---|---:|---|---:|---|",
    ]
    for row in rows:
        values = np.array(row["values"])
        share = 100 * values.mean() / expert
        lines.append(
            f"| `{row['config']}` | {values.mean():.1f} ± {values.std():.1f} | {', '.join(f'{v:.1f}' for v in values)} "
            f"| {share:.0f}% | {'met' if share >= 90 else '**missed**'} |"
        )
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "results.json").write_text(json.dumps({"expert": expert, "rows": rows}, indent=2))
    (args.results / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
