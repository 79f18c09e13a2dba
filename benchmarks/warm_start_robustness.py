"""Does the BC warm start hold outside the setting it was tuned in? Flappy Bird, settings a user would try.

    python benchmarks/warm_start_robustness.py --seeds 0 1 2

Each setting changes one thing from the base (10 demonstration games of the strong preset, PPO on
16 envs x 256 steps, the env's 10,000-frame time limit); the last changes three at once. In each,
the configs of ``bc_warm_start.py`` fine-tune with PPO for ``--budget`` env steps, evaluated every
``--early-every`` steps over the first 20%: ``warm`` (``BCWarmStartCallback`` with its defaults: a
critic-only warm-up of 10,000 steps, an actor ramp over the next 30,000, no BC term), ``dapg``
(the defaults of 0.1.0: value head fitted on the demonstrations' returns and a decaying BC term)
and ``plain`` (BC of the actor only, the usual recipe). The measure is the lowest evaluation return over
the first 20% of fine-tuning as a fraction of the return right after the warm start (goal: at
least 0.8 in every setting and seed).
The time limit applies to the demonstrations and the training env alike; evaluation is always the
same ``--games`` seeded games of at most 5,000 frames.

Runs go to ``--out/<setting>/<config>_seed<k>.json`` (a finished run is read back, not run again);
the table is printed and written to ``--out/table.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import torch as th
from bc_warm_start import CONFIGS as ALL_CONFIGS
from bc_warm_start import flappy_evaluate, flappy_setup, lowest_after_start, retention, run
from common import machine

#: name: (demonstration games, PPO n_envs, PPO n_steps, episode time limit in frames; None: the env's 10,000)
SETTINGS = {
    "base": (10, 16, 256, None),
    "5 demos": (5, 16, 256, None),
    "1 demo": (1, 16, 256, None),
    "small rollouts (4 x 64)": (10, 4, 64, None),
    "large rollouts (8 x 2048)": (10, 8, 2048, None),
    "time limit 1,000": (10, 16, 256, 1_000),
    "1 demo, 4 x 128, limit 1,000": (1, 4, 128, 1_000),
}
GOAL = 0.8
CONFIGS = [name for name, recipe in ALL_CONFIGS.items() if recipe is not None]


def folder_name(setting: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in setting).strip("_")


def setting_setup(setting: str, folder: Path) -> dict:
    """The setting's demonstrations (recorded into ``folder`` the first time) and warm-start arguments."""
    n_demos, _, _, limit = SETTINGS[setting]
    return flappy_setup(folder, n_demos, max_episode_steps=limit)


def run_in_setting(
    setting: str,
    setup: dict,
    config: str,
    seed: int,
    extra: dict,
    budget: int,
    early_every: int,
    games: int,
    folder: Path,
) -> dict:
    """One run of ``config`` in ``setting`` (``setup``: :func:`setting_setup`), the callback given ``extra`` arguments more.

    Written to ``folder/<config>_seed<seed>.json``.
    """
    _, n_envs, n_steps, limit = SETTINGS[setting]
    folder.mkdir(parents=True, exist_ok=True)
    setup = dict(setup, bc_kwargs=dict(setup["bc_kwargs"], **extra))
    kwargs = {"n_envs": n_envs, "n_steps": n_steps, "max_episode_steps": limit}
    evaluate = functools.partial(flappy_evaluate, games=games)
    return run("flappy", config, seed, setup, budget, budget // 5, early_every, folder, kwargs, evaluate)


def run_setting(
    setting: str, configs: list[str], seeds: list[int], budget: int, early_every: int, games: int, out: Path
) -> list[dict]:
    folder = out / folder_name(setting)
    setup = setting_setup(setting, folder)
    records = []
    for config in configs:
        for seed in seeds:
            done = folder / f"{config}_seed{seed}.json"
            if done.exists():
                records.append(json.loads(done.read_text()))
                continue
            records.append(run_in_setting(setting, setup, config, seed, {}, budget, early_every, games, folder))
    for record in records:
        record["setting"] = setting
        record["demo_transitions"] = sum(len(t) for t in setup["demos"])
    return records


def lowest_overall(record: dict) -> float:
    """Lowest evaluation return over the whole run (after the warm start) over the return right after it."""
    return lowest_after_start(record) / record["evaluations"][0]["return"]


def table(records: list[dict], budget: int) -> str:
    lines = [
        "| setting | demo frames | config | pipes after warm start | lowest / warm-start return, first 20% "
        f"(per seed) | goal >= {GOAL} | lowest / warm-start return, whole run | pipes at the end ({budget:,} steps) |",
        "|---|---:|---|---:|---|---|---:|---:|",
    ]
    for setting in SETTINGS:
        for config in CONFIGS:
            rows = [r for r in records if r["setting"] == setting and r["config"] == config]
            if not rows:
                continue
            kept = [retention(r) for r in rows]
            start = np.mean([r["evaluations"][0]["score"] for r in rows])
            end = np.mean([r["evaluations"][-1]["score"] for r in rows])
            met = all(k is not None and k >= GOAL for k in kept)
            per_seed = ", ".join(f"{k:.2f}" if k is not None else "-" for k in kept)
            measured = [k for k in kept if k is not None]  # none when no evaluation fell in the first 20%
            lowest = f"{min(measured):.2f}" if measured else "-"
            lines.append(
                f"| {setting} | {rows[0]['demo_transitions']:,} | {config} | {start:.1f} | "
                f"{lowest} ({per_seed}) | {'met' if met else 'missed'} | "
                f"{min(lowest_overall(r) for r in rows):.2f} | {end:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS), metavar="SETTING")
    parser.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=100_000, help="env steps of fine-tuning per run")
    parser.add_argument("--games", type=int, default=32, help="evaluation games (of at most 5,000 frames)")
    parser.add_argument("--early-every", type=int, default=5_000, help="env steps between evaluations in the first 20%%")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_warm_start_robustness"))
    parser.add_argument("--table-only", action="store_true", help="run nothing: the table of every run in --out")
    args = parser.parse_args()
    th.set_num_threads(1)
    records = []
    if args.table_only:
        for setting in SETTINGS:
            demos = sum(len(t) for t in setting_setup(setting, args.out / folder_name(setting))["demos"])
            for done in sorted((args.out / folder_name(setting)).glob("*_seed*.json")):
                records.append(dict(json.loads(done.read_text()), setting=setting, demo_transitions=demos))
        command = f"python benchmarks/warm_start_robustness.py --table-only --out {args.out}"
    else:
        for setting in args.settings:
            records += run_setting(setting, args.configs, args.seeds, args.budget, args.early_every, args.games, args.out)
        command = (
            f"python benchmarks/warm_start_robustness.py --seeds {' '.join(map(str, args.seeds))} --configs "
            f"{' '.join(args.configs)} --budget {args.budget} --early-every {args.early_every} --games {args.games}"
        )
    text = f"{machine()}\n\nCommand: {command}\n\n" + table(records, args.budget)
    print(text)
    (args.out / "table.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
