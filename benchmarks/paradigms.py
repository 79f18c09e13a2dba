"""The ways to learn a behaviour, side by side on the same recordings: copy, learn offline from the
recorded rewards, learn online from the env's rewards, learn from preferences.

    python benchmarks/paradigms.py --seeds 0 1 2                                  # Flappy Bird, every way
    python benchmarks/paradigms.py --datasets poor --ways offline --seeds 0      # one cell
    python benchmarks/paradigms.py --env pendulum --seeds 0 1 2                   # the Box-action check

**Flappy Bird.** Recordings of 10 games each (seeds 100-109): the ``poor``, ``medium`` and ``strong``
demonstrators (``sb3-behave record-demos --skill``); ``mixed``, the three together (97% of its
frames are the strong player's: its games last up to 10,000 frames, the others' a few hundred);
and ``balanced``, the three with the strong player's games cut at 300 frames, so that each
demonstrator gives about as many frames. On each, and for each seed:

- **copy**: BC, with ``zoo_configs/bc.yml``'s Flappy Bird settings (25,000 gradient steps of 1,024, or of
  every transition of a smaller set);
- **offline**: offline RL from the recorded rewards, CQL with ``zoo_configs/cql.yml``'s (10,000
  gradient steps of 256; d3rlpy's DiscreteCQL); no env step;
- **ppo**: PPO alone, ``zoo_configs/ppo.yml``'s settings on 16 games (``FlappyBirdVecEnv``), ``--budget``
  env steps (1,000,000); it never sees the recordings, so one run per seed stands for every dataset;
- **warm**: the same PPO started from a clone of the recording (``BCWarmStartCallback`` as
  ``zoo_configs/ppo_bc_warm_start.yml`` has it), the same env steps;
- **preferences**: preference comparisons (``zoo_configs/preference_comparisons.yml``'s settings,
  1,000 answers given by the env's reward: imitation's synthetic gatherer), its PPO started from the
  clone with ``zoo_configs/gail_bc_warm_start.yml``'s recipe (critic warm-up, actor ramp),
  ``--preference-budget`` env steps (300,000; fewer: a step costs about 7 times PPO's), which each of
  its PPO phases rounds up to whole rollouts. From scratch it scores 0 pipes on Flappy Bird
  (``benchmarks/results/preference_queries/flappy``).

Each trained policy plays 20 evaluation games deterministically (seeds from 50,000, at most 10,000
frames, the env's time limit, as in the recordings): games on which no setting was chosen
(``cql.yml``'s were chosen on games from 12,345, ``evaluate_flappy_policy``'s default). The table
gives their mean pipes (mean and standard deviation over seeds) beside the demonstrator's own pipes
per recorded game, then the same for returns, then how far each policy departs from its recording
(the share of the recorded states where it acts otherwise), then env steps and training time.

**Pendulum-v1** (``--env pendulum``), the Box-action check: ``expert``, 10 episodes of a SAC agent
(SB3's SAC, 20,000 steps, learning rate 1e-3, as the RL Zoo trains it), and ``mixed``, those and 10
episodes of uniformly random actions. Ways: **copy** (BC, ``zoo_configs/bc.yml``) and **offline**
(IQL, ``zoo_configs/iql.yml``). Evaluation: mean return of 20 deterministic episodes (seeds from 50,000).

Each run is written to ``--out/[pendulum/]records/<dataset>_<way>_seed<k>.json`` (its model to
``models/``) as it ends, and a run already there is not run again (only evaluated again, from its
model, if the evaluation changed): the tables (``table.md``) and the figures (``paradigms.png``) are
made from every run found.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from common import (
    FLAPPY,
    evaluate_returns,
    machine,
    pendulum_sac_expert,
    print_and_save,
    write_atomically,
    zoo_config,
    zoo_entry,
    zoo_steps,
)

from sb3_behave.demos import load_demonstrations, load_episodes, record_demonstrations
from sb3_behave.registration import FLAPPY_BIRD_MAX_EPISODE_STEPS

PENDULUM = "Pendulum-v1"
SKILLS = ("poor", "medium", "strong")
#: The datasets of each env, and what the figure writes under each.
DATASETS = {
    "flappy": {
        "poor": "poor\n(10 games)",
        "medium": "medium\n(10 games)",
        "strong": "strong\n(10 games)",
        "mixed": "mixed\n(the three)",
        "balanced": "balanced\n(the three, equal frames)",
    },
    "pendulum": {"expert": "expert\n(10 SAC episodes)", "mixed": "mixed\n(+ 10 random episodes)"},
}
WAYS = {
    "copy": "BC (copy the actions)",
    "offline": "offline RL from the rewards",
    "ppo": "PPO alone (online RL, no demonstration)",
    "warm": "BC warm start + PPO (online RL)",
    "preferences": "BC warm start + preferences (1,000 answers)",
}
#: The ways each env runs, and the offline algorithm of each env.
ENV_WAYS = {"flappy": tuple(WAYS), "pendulum": ("copy", "offline")}
OFFLINE = {"flappy": "cql", "pendulum": "iql"}
ALGO = {"copy": "bc", "ppo": "ppo", "warm": "ppo", "preferences": "preference_comparisons"}
ONLINE = ("ppo", "warm", "preferences")
ENV_IDS = {"flappy": FLAPPY, "pendulum": PENDULUM}
#: Evaluation games (episodes), their seeds, and Flappy Bird's time limit: the env's own, as the recordings had.
EVAL_GAMES, EVAL_FRAMES, EVAL_SEED = 20, FLAPPY_BIRD_MAX_EPISODE_STEPS, 50_000
#: The strong player's games in the ``balanced`` set end at this frame (a time limit, not a crash).
BALANCED_FRAMES = 300
#: Answers of the preference comparisons.
PREFERENCE_ANSWERS = 1_000


def recordings(env: str, out: Path, episodes: int) -> dict[str, list[Path]]:
    """The demonstration folders of each dataset (recorded on first use)."""

    def record(folder: Path, *args: Any, **kwargs: Any) -> Path:
        if not list(folder.glob("episode-*.npz")):
            record_demonstrations(*args, folder=folder, episodes=episodes, progress_bar=False, **kwargs)
        return folder

    if env == "pendulum":
        expert = pendulum_sac_expert(out / "sac_expert.zip")
        folders = {
            "expert": record(out / "demos" / "expert", PENDULUM, expert=str(expert), algo="sac", seed=100),
            "random": record(out / "demos" / "random", PENDULUM, expert="random", seed=200),
        }
        return {"expert": [folders["expert"]], "mixed": [folders["expert"], folders["random"]]}
    folders = {skill: record(out / "demos" / skill, FLAPPY, skill=skill, seed=100) for skill in SKILLS}
    short = record(out / "demos" / "strong_short", FLAPPY, skill="strong", seed=100, max_episode_steps=BALANCED_FRAMES)
    return {
        **{skill: [folders[skill]] for skill in SKILLS},
        "mixed": [folders[skill] for skill in SKILLS],
        "balanced": [folders["poor"], folders["medium"], short],
    }


def demonstrator(env: str, folders: list[Path]) -> dict[str, float]:
    """Pipes (Flappy Bird: the score recorded with each game), return and frames per recorded game, and frames in all."""
    games = load_episodes([str(f) for f in folders], env=ENV_IDS[env])
    result = {
        "return": float(np.mean([np.sum(game.trajectory.rews) for game in games])),
        "frames": int(sum(len(game.trajectory.acts) for game in games)),
    }
    if env == "flappy":
        result["pipes"] = float(np.mean([game.metadata["score"] for game in games]))
    return result


def warm_start(way: str, demonstrations: list, seed: int) -> Any:
    """The BC warm start of ``warm`` (``ppo_bc_warm_start.yml``'s) or ``preferences`` (``gail_bc_warm_start.yml``'s recipe)."""
    from sb3_behave.callbacks import BCWarmStartCallback

    config = "ppo_bc_warm_start" if way == "warm" else "gail_bc_warm_start"
    (entry,) = zoo_entry(config, FLAPPY)["callback"]
    kwargs = dict(entry["sb3_behave.callbacks.BCWarmStartCallback"])
    kwargs.pop("demonstrations")
    return BCWarmStartCallback(demonstrations, seed=seed, **kwargs)


def train(env: str, way: str, folders: list[Path], seed: int, budget: int) -> Any:
    """Train one way on one dataset; returns the model."""
    import gymnasium as gym

    env_id = ENV_IDS[env]
    demonstrations = [str(f) for f in folders]
    if way in ("copy", "offline"):  # from the recording alone, as `sb3-behave train --algo bc|cql|iql` trains
        from sb3_behave.agents import algorithm_class

        algo = algo_of(env, way)
        settings = zoo_config(algo, env_id)
        if way == "copy":  # the poor set holds about 1,000 transitions
            transitions = sum(len(t.acts) for t in load_demonstrations(demonstrations, env=env_id))
            settings["batch_size"] = min(settings["batch_size"], transitions)
        model = algorithm_class(algo)(
            "MlpPolicy", gym.make(env_id), demonstrations=demonstrations, seed=seed, device="cpu", **settings
        )
        return model.learn(zoo_steps(algo, env_id))
    from stable_baselines3.common.vec_env import VecMonitor

    from sb3_behave.envs import FlappyBirdVecEnv

    config = "preference_comparisons" if way == "preferences" else "ppo"
    settings = zoo_config(config, FLAPPY)
    games = VecMonitor(FlappyBirdVecEnv(settings.pop("n_envs"), seed=seed))
    callback = None if way == "ppo" else warm_start(way, load_demonstrations(demonstrations, env=FLAPPY), seed)
    if way == "preferences":
        from sb3_behave.zoo import PreferenceComparisons

        settings["total_comparisons"] = PREFERENCE_ANSWERS
        model = PreferenceComparisons("MlpPolicy", games, seed=seed, device="cpu", **settings)
    else:
        from stable_baselines3 import PPO

        model = PPO("MlpPolicy", games, seed=seed, device="cpu", **settings)
    return model.learn(budget, callback=callback)


def evaluation(env: str, model: Any) -> dict:
    """``EVAL_GAMES`` deterministic games (episodes) from seed ``EVAL_SEED``: pipes and returns (Pendulum: returns)."""
    if env == "pendulum":
        returns = evaluate_returns(model, PENDULUM, EVAL_GAMES, EVAL_SEED)
        return {"return": float(np.mean(returns)), "returns": returns, "evaluation": evaluation_settings(env)}
    from sb3_behave.envs import evaluate_flappy_policy

    result = evaluate_flappy_policy(model, games=EVAL_GAMES, max_frames=EVAL_FRAMES, seed=EVAL_SEED)
    return {
        "pipes": result["score"],
        "scores": result["scores"],
        "return": result["return"],
        "returns": result["returns"],
        "evaluation": evaluation_settings(env),
    }


def algo_of(env: str, way: str) -> str:
    return OFFLINE[env] if way == "offline" else ALGO[way]


def saved_model(runs: Path, dataset: str, way: str, seed: int) -> Path:
    """Where a run's model is kept, to be evaluated again (``models/``, beside ``records/``; not committed)."""
    return runs.parent / "models" / f"{dataset}_{way}_seed{seed}.zip"


def load_saved(env: str, path: Path, way: str) -> Any:
    """A run's saved model, read as data."""
    import gymnasium as gym

    from sb3_behave.agents import load_agent_from_path

    return load_agent_from_path(path, gym.make(ENV_IDS[env]), algo=algo_of(env, way))[0]


def run(env: str, dataset: str, way: str, seed: int, folders: list[Path], runs: Path, budget: int) -> dict:
    """One run, or the one already written (evaluated again from its saved model if the evaluation changed)."""
    path = runs / f"{dataset}_{way}_seed{seed}.json"
    saved = saved_model(runs, dataset, way, seed)
    if path.is_file():
        record = json.loads(path.read_text())
        if record.get("evaluation") == evaluation_settings(env) or not saved.is_file():
            return record
        record.update(evaluation(env, load_saved(env, saved, way)))
        write_atomically(path, json.dumps(record, indent=1))
        print(f"  {dataset} {way} seed {seed}: evaluated again, {record.get('pipes', record['return']):.1f}", flush=True)
        return record
    th.manual_seed(seed)
    start = time.time()
    model = train(env, way, folders, seed, budget)
    seconds = time.time() - start
    env_steps = int(model.num_timesteps) if way in ONLINE else 0
    record = {
        "env": env,
        "dataset": dataset,
        "way": way,
        "algo": algo_of(env, way),
        "seed": seed,
        **evaluation(env, model),
        "env_steps": env_steps,
        "train_seconds": seconds,
    }
    saved.parent.mkdir(parents=True, exist_ok=True)
    model.save(saved)
    write_atomically(path, json.dumps(record, indent=1))
    print(f"  {dataset} {way} seed {seed}: {record.get('pipes', record['return']):.1f} ({seconds:.0f} s)", flush=True)
    return record


def disagreement(env: str, record: dict, folders: list[Path], runs: Path) -> float | None:
    """The share of the recording's states (Flappy Bird) on which the trained policy picks another action
    than the demonstrator did, or (Pendulum) the mean absolute difference of the actions; None without the model."""
    saved = saved_model(runs, record["dataset"], record["way"], record["seed"])
    if not saved.is_file() or not folders:
        return None
    model = load_saved(env, saved, record["way"])
    trajectories = load_demonstrations([str(f) for f in folders], env=ENV_IDS[env])
    obs = np.concatenate([t.obs[:-1] for t in trajectories])
    recorded = np.concatenate([t.acts for t in trajectories])
    chosen = model.predict(obs, deterministic=True)[0]
    if env == "flappy":
        return float(np.mean(chosen.reshape(-1) != recorded.reshape(-1)))
    return float(np.mean(np.abs(chosen.reshape(recorded.shape) - recorded)))


def evaluation_settings(env: str) -> dict:
    return {"games": EVAL_GAMES, "seed": EVAL_SEED, **({"max_frames": EVAL_FRAMES} if env == "flappy" else {})}


def cell(records: list[dict], dataset: str, way: str, metric: str) -> list[float]:
    """The values of ``metric`` of one way on one dataset; PPO alone, which never sees a dataset, counts for each."""
    return [r[metric] for r in records if r["way"] == way and (way == "ppo" or r["dataset"] == dataset) and metric in r]


def way_label(env: str, way: str) -> str:
    return f"{WAYS[way]} ({OFFLINE[env].upper()})" if way == "offline" else WAYS[way]


def table(env: str, records: list[dict], demonstrators: dict[str, dict[str, float]], metric: str) -> str:
    """One row per dataset, one column per way: mean ± standard deviation over seeds of ``metric`` (pipes or return)."""
    ways = [way for way in ENV_WAYS[env] if any(r["way"] == way for r in records)]
    if metric == "disagreement":  # against the recording: PPO alone has none, the demonstrator agrees with itself
        ways = [way for way in ways if way != "ppo"]
    lines = [
        "| dataset | demonstrator | " + " | ".join(way_label(env, w) for w in ways) + " |",
        "|---|---:|" + "---:|" * len(ways),
    ]
    percent = metric == "disagreement" and env == "flappy"
    for dataset in DATASETS[env]:
        cells = []
        for way in ways:
            values = [100 * v for v in cell(records, dataset, way, metric)] if percent else cell(records, dataset, way, metric)
            unit = "%" if percent else ""
            digits = 2 if metric == "disagreement" and not percent else 1  # Pendulum's torques: within [-2, 2]
            shown = f"{np.mean(values):.{digits}f}{unit} ± {np.std(values):.{digits}f}{unit} ({len(values)} seeds)"
            cells.append(shown if values else "not run")
        mine = 0.0 if metric == "disagreement" else demonstrators[dataset][metric]
        lines.append(f"| {dataset} | {mine:.1f}{'%' if percent else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def costs(env: str, records: list[dict]) -> str:
    """Per way: env steps and training time per run (mean over the runs and their range)."""
    lines = ["| way | env steps per run | training time per run (s): mean, range | runs |", "|---|---:|---:|---:|"]
    for way in ENV_WAYS[env]:
        mine = [r for r in records if r["way"] == way]
        if mine:
            seconds = [r["train_seconds"] for r in mine]
            lines.append(
                f"| {way_label(env, way)} | {np.mean([r['env_steps'] for r in mine]):,.0f} | "
                f"{np.mean(seconds):.0f}, {min(seconds):.0f} to {max(seconds):.0f} | {len(mine)} |"
            )
    return "\n".join(lines)


def figure(env: str, records: list[dict], demonstrators: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = "pipes" if env == "flappy" else "return"
    datasets = list(DATASETS[env])
    ways = [way for way in ENV_WAYS[env] if any(r["way"] == way for r in records)]
    bars = ["demonstrator", *ways]
    width = 0.84 / len(bars)
    x = np.arange(len(datasets))
    fig, ax = plt.subplots(figsize=(11, 4.8) if env == "flappy" else (7, 4.2))
    for i, bar in enumerate(bars):
        if bar == "demonstrator":
            means, errors = [demonstrators[d][metric] for d in datasets], None
            label = f"the demonstrator (its recorded {'games' if env == 'flappy' else 'episodes'})"
        else:
            values = [cell(records, d, bar, metric) for d in datasets]
            means = [np.mean(v) if v else np.nan for v in values]
            errors = [np.std(v) if v else 0.0 for v in values]
            label = way_label(env, bar)
            steps = [r["env_steps"] for r in records if r["way"] == bar]
            if bar in ONLINE and steps:
                label += f", {np.mean(steps) / 1e6:.2g}M env steps"
        shown = ax.bar(x + (i - (len(bars) - 1) / 2) * width, means, width, yerr=errors, capsize=2, label=label)
        ax.bar_label(shown, fmt="%.0f", fontsize=7, padding=2)
    ax.set_xticks(x, [DATASETS[env][d] for d in datasets])
    if env == "flappy":
        ax.set_ylabel(f"pipes per game ({EVAL_GAMES} new games)")
        ax.set_title("Flappy Bird, the same recordings: copy, learn offline from the recorded rewards, or online")
        ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(0, 6 * max([demonstrators[d][metric] for d in datasets] + [r[metric] for r in records]))
        ax.legend(loc="upper left", fontsize=7, ncols=2)
    else:
        ax.set_ylabel(f"return per episode ({EVAL_GAMES} new episodes; higher is better)")
        ax.set_title("Pendulum-v1: copy the actions, or learn offline from the rewards")
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(env: str, records: list[dict], demonstrators: dict[str, dict[str, float]]) -> str:
    frames = ", ".join(f"{d} {demonstrators[d]['frames']:,}" for d in DATASETS[env])
    seeds = f"seeds from {EVAL_SEED:,}"
    if env == "pendulum":
        what = f"Return per episode over {EVAL_GAMES} evaluation episodes ({seeds}), mean ± standard deviation over seeds"
        what += "; no way takes an env step"
        tables = [("return", "")]
        distance = "the mean absolute difference between its action and the demonstrator's on the recorded states"
    else:
        what = f"Pipes per game over {EVAL_GAMES} evaluation games ({seeds}, at most {EVAL_FRAMES:,} frames), "
        what += "mean ± standard deviation over seeds"
        returns = "Return per game (+0.1 per frame alive, +1 per pipe, -1 for a crash), the same games:"
        tables = [("pipes", ""), ("return", returns)]
        distance = (
            "the share of the recorded states on which it picks another action than the demonstrator did "
            "(BC's is what it failed to copy)"
        )
    ppo = " PPO alone never sees a dataset, so its runs fill each row." if env == "flappy" else ""
    lines = [
        f"Machine: {machine()}; `python benchmarks/paradigms.py --env {env}` (1 torch thread)",
        "",
        f"{what}. Frames in each dataset: {frames}.{ppo} Figure: `paradigms.png`.",
    ]
    for metric, title in [*tables, ("disagreement", f"How far each policy went from its recording: {distance}:")]:
        lines += ["", title] if title else []
        lines += ["", table(env, records, demonstrators, metric)]
    cost = "What each run cost" + (" (the BC warm start's time is inside the online ways' time):" if ppo else ":")
    lines += ["", cost, "", costs(env, records)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=list(DATASETS), default="flappy")
    parser.add_argument("--datasets", nargs="+", help="default: every dataset of the env")
    parser.add_argument("--ways", nargs="+", choices=list(WAYS), help="default: every way of the env")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=10, help="recorded games (episodes) per demonstrator")
    parser.add_argument("--budget", type=int, default=1_000_000, help="env steps of PPO, alone or warm-started")
    parser.add_argument("--preference-budget", type=int, default=300_000, help="env steps of the preference comparisons' PPO")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/paradigms"))
    args = parser.parse_args()
    datasets = args.datasets or list(DATASETS[args.env])
    ways = args.ways or list(ENV_WAYS[args.env])
    for name, chosen, known in (("--datasets", datasets, DATASETS[args.env]), ("--ways", ways, ENV_WAYS[args.env])):
        if set(chosen) - set(known):
            parser.error(f"{name} {' '.join(sorted(set(chosen) - set(known)))}: {args.env} has {', '.join(known)}")
    th.set_num_threads(1)
    out = args.out if args.env == "flappy" else args.out / args.env
    runs = out / "records"
    runs.mkdir(parents=True, exist_ok=True)
    folders = recordings(args.env, out, args.episodes)
    demonstrators = {dataset: demonstrator(args.env, folders[dataset]) for dataset in DATASETS[args.env]}
    for seed in args.seeds:
        if "ppo" in ways:  # PPO alone never sees a dataset: one run per seed
            run(args.env, "none", "ppo", seed, [], runs, args.budget)
        for dataset in datasets:
            for way in ways:
                if way != "ppo":
                    budget = args.preference_budget if way == "preferences" else args.budget
                    run(args.env, dataset, way, seed, folders[dataset], runs, budget)
    for path in sorted(runs.glob("*.json")):  # how far each policy went from its recording, measured once
        record = json.loads(path.read_text())
        if "disagreement" not in record and record["dataset"] in folders:
            record["disagreement"] = disagreement(args.env, record, folders[record["dataset"]], runs)
            if record["disagreement"] is not None:
                write_atomically(path, json.dumps(record, indent=1))
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    stale = [r for r in records if r.get("evaluation") != evaluation_settings(args.env)]
    if stale:  # evaluated on other games, with no saved model to evaluate again: left out of the table
        print(f"left out: {len(stale)} runs evaluated on other games ({', '.join(sorted({r['way'] for r in stale}))})")
        records = [r for r in records if r not in stale]
    figure(args.env, records, demonstrators, out / "paradigms.png")
    print_and_save(report(args.env, records, demonstrators), out / "table.md")


if __name__ == "__main__":
    main()
