"""The ways to learn a behaviour, side by side on the same Flappy Bird recordings: copy, or learn offline from rewards.

    python benchmarks/paradigms.py --seeds 0 1 2 --out benchmarks/results/paradigms
    python benchmarks/paradigms.py --datasets poor --ways offline --seeds 0   # one cell

Four recordings of 10 games each (recorded with seeds 100-109): the ``poor``, ``medium`` and
``strong`` demonstrators (``sb3-behave record-demos --skill``) and ``mixed``, the three together.
On each, and for each seed:

- **copy**: BC, with ``zoo_configs/bc.yml``'s Flappy Bird settings (25,000 gradient steps of 1,024, or of
  every transition of a smaller set);
- **offline**: offline RL from the recorded rewards, CQL with ``zoo_configs/cql.yml``'s (10,000
  gradient steps of 256; d3rlpy's DiscreteCQL).

Neither takes an env step. Each trained policy plays 20 evaluation games (seeds from 12,345, at most
10,000 frames, the env's time limit, as in the recordings), deterministically; the table gives their
mean pipes (mean and standard deviation over seeds) beside the demonstrator's own pipes per recorded
game, then the same for returns. Each run is written to ``--out/records/<dataset>_<way>_seed<k>.json``
(its model to ``--out/models/``) as it ends, and a run already there is not run again (only
evaluated again, from its model, if the evaluation changed): the table (``table.md``) and the
figure (``paradigms.png``) are made from every run found.
Learning online from rewards (PPO, with and without a BC warm start) and from preferences are
not in this script yet.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from common import FLAPPY, machine, print_and_save, write_atomically, zoo_config, zoo_steps

from sb3_behave.demos import load_demonstrations, load_episodes, record_demonstrations
from sb3_behave.registration import FLAPPY_BIRD_MAX_EPISODE_STEPS

SKILLS = ("poor", "medium", "strong")
DATASETS = (*SKILLS, "mixed")
WAYS = {"copy": "BC (copy the actions)", "offline": "CQL (offline RL from the rewards)"}
#: Evaluation games, their seeds, and their time limit: the env's own, as the demonstrators' recorded games had.
EVAL_GAMES, EVAL_FRAMES, EVAL_SEED = 20, FLAPPY_BIRD_MAX_EPISODE_STEPS, 12_345


def recordings(out: Path, episodes: int) -> dict[str, list[Path]]:
    """The demonstration folders of each dataset (recorded on first use)."""
    folders = {}
    for skill in SKILLS:
        folder = out / "demos" / skill
        if not list(folder.glob("episode-*.npz")):
            record_demonstrations(FLAPPY, folder, episodes, skill=skill, seed=100, progress_bar=False)
        folders[skill] = [folder]
    folders["mixed"] = [path for skill in SKILLS for path in folders[skill]]
    return folders


def demonstrator(folders: list[Path]) -> dict[str, float]:
    """Pipes (the score recorded with each game) and return per recorded game."""
    games = load_episodes([str(f) for f in folders], env=FLAPPY)
    return {
        "pipes": float(np.mean([game.metadata["score"] for game in games])),
        "return": float(np.mean([np.sum(game.trajectory.rews) for game in games])),
    }


def train(way: str, folders: list[Path], seed: int) -> Any:
    import gymnasium as gym

    demonstrations = [str(f) for f in folders]
    env = gym.make(FLAPPY)
    if way == "copy":
        from sb3_behave.zoo import BC

        settings = zoo_config("bc", FLAPPY)
        transitions = sum(len(t.acts) for t in load_demonstrations(demonstrations, env=FLAPPY))
        settings["batch_size"] = min(settings["batch_size"], transitions)  # the poor set holds about 1,000
        model = BC("MlpPolicy", env, demonstrations=demonstrations, seed=seed, device="cpu", **settings)
        return model.learn(zoo_steps("bc", FLAPPY))
    from sb3_behave.offline import CQL

    model = CQL("MlpPolicy", env, demonstrations=demonstrations, seed=seed, device="cpu", **zoo_config("cql", FLAPPY))
    return model.learn(zoo_steps("cql", FLAPPY))


def evaluation(model: Any) -> dict:
    from sb3_behave.envs import evaluate_flappy_policy

    result = evaluate_flappy_policy(model, games=EVAL_GAMES, max_frames=EVAL_FRAMES, seed=EVAL_SEED)
    return {
        "pipes": result["score"],
        "scores": result["scores"],
        "return": result["return"],
        "returns": result["returns"],
        "evaluation": {"games": EVAL_GAMES, "max_frames": EVAL_FRAMES, "seed": EVAL_SEED},
    }


def run(dataset: str, way: str, seed: int, folders: list[Path], runs: Path) -> dict:
    """One run, or the one already written (evaluated again from its saved model if the evaluation changed)."""
    path = runs / f"{dataset}_{way}_seed{seed}.json"
    saved = runs.parent / "models" / f"{dataset}_{way}_seed{seed}.zip"  # to evaluate again; not committed
    wanted = {"games": EVAL_GAMES, "max_frames": EVAL_FRAMES, "seed": EVAL_SEED}
    if path.is_file():
        record = json.loads(path.read_text())
        if record.get("evaluation") == wanted or not saved.is_file():
            return record
        import gymnasium as gym

        from sb3_behave.agents import load_agent_from_path

        model, _ = load_agent_from_path(saved, gym.make(FLAPPY), algo="bc" if way == "copy" else "cql")
        record.update(evaluation(model))
        write_atomically(path, json.dumps(record, indent=1))
        print(f"  {dataset} {way} seed {seed}: evaluated again, {record['pipes']:.1f} pipes", flush=True)
        return record
    th.manual_seed(seed)
    start = time.time()
    model = train(way, folders, seed)
    seconds = time.time() - start
    record = {"dataset": dataset, "way": way, "seed": seed, **evaluation(model), "env_steps": 0, "train_seconds": seconds}
    saved.parent.mkdir(parents=True, exist_ok=True)
    model.save(saved)
    write_atomically(path, json.dumps(record, indent=1))
    print(f"  {dataset} {way} seed {seed}: {record['pipes']:.1f} pipes ({seconds:.0f} s)", flush=True)
    return record


def table(records: list[dict], demonstrators: dict[str, dict[str, float]], metric: str = "pipes") -> str:
    """One row per dataset, one column per way: mean ± standard deviation over seeds of ``metric`` (pipes or return)."""
    ways = [way for way in WAYS if any(r["way"] == way for r in records)]
    lines = [
        "| dataset | demonstrator | " + " | ".join(WAYS[w] for w in ways) + " |",
        "|---|---:|" + "---:|" * len(ways),
    ]
    for dataset in DATASETS:
        cells = []
        for way in ways:
            values = [r[metric] for r in records if r["dataset"] == dataset and r["way"] == way and metric in r]
            cells.append(f"{np.mean(values):.1f} ± {np.std(values):.1f} ({len(values)} seeds)" if values else "not run")
        lines.append(f"| {dataset} | {demonstrators[dataset][metric]:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(records: list[dict], demonstrators: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ways = [way for way in WAYS if any(r["way"] == way for r in records)]
    bars = ["demonstrator", *ways]
    width = 0.8 / len(bars)
    x = np.arange(len(DATASETS))
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, bar in enumerate(bars):
        if bar == "demonstrator":
            means, errors, label = [demonstrators[d]["pipes"] for d in DATASETS], None, "the demonstrator (its recorded games)"
        else:
            values = [[r["pipes"] for r in records if r["dataset"] == d and r["way"] == bar] for d in DATASETS]
            means = [np.mean(v) if v else 0.0 for v in values]
            errors = [np.std(v) if v else 0.0 for v in values]
            label = WAYS[bar]
        shown = ax.bar(x + (i - (len(bars) - 1) / 2) * width, means, width, yerr=errors, capsize=3, label=label)
        ax.bar_label(shown, fmt="%.0f", fontsize=8, padding=2)
    ax.set_xticks(x, [f"{d}\n({'the three' if d == 'mixed' else '10 games'})" for d in DATASETS])
    ax.set_ylabel(f"pipes per game ({EVAL_GAMES} new games)")
    ax.set_title("Flappy Bird, the same recordings: copy the actions, or learn from the recorded rewards")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(0, 4 * max([demonstrators[d]["pipes"] for d in DATASETS] + [r["pipes"] for r in records]))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--ways", nargs="+", choices=list(WAYS), default=list(WAYS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=10, help="recorded games per demonstrator")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/paradigms"))
    args = parser.parse_args()
    th.set_num_threads(1)
    runs = args.out / "records"
    runs.mkdir(parents=True, exist_ok=True)
    folders = recordings(args.out, args.episodes)
    demonstrators = {dataset: demonstrator(folders[dataset]) for dataset in DATASETS}
    for seed in args.seeds:
        for dataset in args.datasets:
            for way in args.ways:
                run(dataset, way, seed, folders[dataset], runs)
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    figure(records, demonstrators, args.out / "paradigms.png")
    report = "\n".join(
        [
            f"Machine: {machine()}; `python benchmarks/paradigms.py` (1 torch thread)",
            "",
            f"Pipes per game over {EVAL_GAMES} evaluation games (seeds from {EVAL_SEED}, at most {EVAL_FRAMES:,} frames), "
            "mean ± standard deviation over seeds; no way takes an env step. Figure: `paradigms.png`.",
            "",
            table(records, demonstrators),
            "",
            "Return per game (+0.1 per frame alive, +1 per pipe, -1 for a crash), the same games:",
            "",
            table(records, demonstrators, "return"),
        ]
    )
    print_and_save(report, args.out / "table.md")


if __name__ == "__main__":
    main()
