"""The founding experiment: IL and RL loss landscapes of random PPO policies on poor and strong Flappy Bird play.

    python benchmarks/landscape_experiment.py --out docs/landscape

1. Records a poor and a strong demonstration set twice, with ``reward_mode="alive"`` and with
   ``reward_mode="score"``, from the same seeds: the same observations and actions (checked), only
   the rewards differ.
2. For each of ``--inits`` random initializations of PPO's ``MlpPolicy`` and each kind of slice
   (``filter``, ``weights``, ``gradients``), evaluates on the same grid, in one batched pass per set,
   the IL loss (cross-entropy; MSE of the probabilities as a check) and the RL loss under every
   reward design x discount x baseline of the sensitivity table.
3. Writes ``OUT/results.md`` (the tables), ``OUT/results.json`` (every number) and, for each
   ``--figures SLICE:SPAN``, three figures of the first initialization: poor play with score
   rewards, strong play with score rewards, poor play with the alive bonus
   (``OUT/poor_score_weights.png``, ...).

The documented configuration (the headline table) is: score-only rewards, gamma 0.99, no
baseline, no return normalization, IL cross-entropy.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from common import machine

from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.landscape import (
    DemoSet,
    LandscapeConfig,
    PolicyActor,
    actor_gradients,
    agreement,
    compute_landscape,
    fresh_policy,
    imitation_objective,
    reinforce_objective,
    reinforce_weights,
)
from sb3_behave.outputs import save_figure

ENV_ID = "sb3_behave/FlappyBird-v0"
REWARDS = ("alive", "score")
GAMMAS = (0.9, 0.99)
#: Weightings of the RL loss: (baseline, normalize returns).
WEIGHTINGS = {"none": ("none", False), "mean": ("mean", False), "time": ("time", False), "normalize": ("none", True)}
HEADLINE = ("score", 0.99, "none")
GOALS = {"poor": (-0.5, "at most"), "strong": (0.5, "at least")}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/landscape"), help="tables, JSON and figures")
    parser.add_argument("--demos", type=Path, default=Path("runs/landscape_experiment/demos"), help="demonstration folders")
    parser.add_argument("--inits", type=int, default=5, help="random initializations of the policy")
    parser.add_argument("--grid", type=int, default=41, help="points per axis")
    parser.add_argument("--span", type=float, default=1.0, help="the grid covers [-span, span]")
    parser.add_argument("--directions", nargs="+", default=["filter", "weights", "gradients"])
    parser.add_argument("--poor-episodes", type=int, default=30)
    parser.add_argument("--strong-episodes", type=int, default=3)
    parser.add_argument("--max-episode-steps", type=int, default=1000, help="time limit of the strong episodes")
    parser.add_argument(
        "--figures", nargs="*", default=["weights:3", "filter:1"], help="SLICE:SPAN of the figures (none: no figures)"
    )
    return parser.parse_args()


def record(args: argparse.Namespace) -> dict[tuple[str, str], DemoSet]:
    """Poor and strong sets under both reward designs: ``{(skill, reward_mode): DemoSet}``."""
    sets = {}
    for mode in REWARDS:
        env = gym.make(ENV_ID, reward_mode=mode)
        for skill, episodes, seed in (("poor", args.poor_episodes, 0), ("strong", args.strong_episodes, 1000)):
            folder = args.demos / mode / skill
            if folder.exists():
                shutil.rmtree(folder)  # a demo folder collects episodes: record this experiment's afresh
            record_demonstrations(
                ENV_ID,
                folder,
                episodes,
                skill=skill,
                seed=seed,
                env_kwargs={"reward_mode": mode},
                max_episode_steps=args.max_episode_steps,
                progress_bar=False,
            )
            sets[skill, mode] = DemoSet.from_trajectories(skill, load_demonstrations(folder, env=env), source=str(folder))
    for skill in ("poor", "strong"):
        a, b = sets[skill, "alive"], sets[skill, "score"]
        assert np.array_equal(a.obs, b.obs) and np.array_equal(a.acts, b.acts), f"{skill}: reward modes changed the play"
    return sets


def variants() -> list[tuple[str, float, str]]:
    return list(itertools.product(REWARDS, GAMMAS, WEIGHTINGS))


def rl_name(reward: str, gamma: float, weighting: str) -> str:
    return f"rl/{reward}/{gamma:g}/{weighting}"


def run(args: argparse.Namespace, sets: dict) -> list[dict]:
    """Every metric of every (init, directions, set, variant)."""
    rows = []
    env = gym.make(ENV_ID)
    for init in range(args.inits):
        actor = PolicyActor(fresh_policy(env, "ppo", seed=init))
        for kind in args.directions:
            for skill in ("poor", "strong"):
                demos = sets[skill, "score"]  # observations and actions (the same in both reward modes)
                # Evaluated in the same pass as the headline "il" and "rl": IL MSE, and every RL variant.
                extra = [replace(imitation_objective(demos, actor.kind, "mse"), name="il/mse")]
                for reward, gamma, weighting in variants():
                    baseline, normalize = WEIGHTINGS[weighting]
                    name = rl_name(reward, gamma, weighting)
                    extra.append(reinforce_objective(sets[skill, reward], gamma, baseline, normalize, name))
                # The gradient slice is made from the headline objectives (score rewards, gamma 0.99, no baseline).
                config = LandscapeConfig(directions=kind, grid=args.grid, span=args.span, seed=init, gamma=HEADLINE[1])
                landscape = compute_landscape(actor, demos, config, extra_objectives=extra)
                gradients = actor_gradients(actor, demos, extra)
                s, il_gradient = landscape.surfaces, landscape.gradients["il"]
                for objective in extra:
                    surface, gradient = s.values[objective.name], gradients[objective.name]
                    metrics = agreement(s.values["il"], surface, s.alphas, s.betas, il_gradient, gradient)
                    rows.append({"init": init, "directions": kind, "set": skill, "variant": objective.name, **metrics})
        print(f"init {init} done", flush=True)
    return rows


def stats(values: list) -> tuple[float, float, float, float, int] | None:
    """mean, std, min, max, count of the defined values (None: every value undefined)."""
    defined = [v for v in values if v is not None]
    if not defined:
        return None
    return float(np.mean(defined)), float(np.std(defined)), float(np.min(defined)), float(np.max(defined)), len(defined)


def fmt(values: list, spread: bool = True) -> str:
    s = stats(values)
    if s is None:
        return "undefined (flat RL surface)"
    mean, std, lo, hi, n = s
    text = f"{mean:+.2f} ± {std:.2f}"
    if spread:
        text += f" [{lo:+.2f}, {hi:+.2f}]"
    if n < len(values):
        text += f" ({len(values) - n} undefined)"
    return text


def select(rows: list[dict], **keys) -> list[dict]:
    return [r for r in rows if all(r[k] == v for k, v in keys.items())]


def headline_table(rows: list[dict], directions: list[str]) -> str:
    name = rl_name(*HEADLINE)
    lines = [
        "| slice | set | Pearson | Spearman | gradient cosine | minima distance | goal (every init) | met |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for kind in directions:
        for skill in ("poor", "strong"):
            r = select(rows, directions=kind, set=skill, variant=name)
            bound, word = GOALS[skill]
            pearson = [x["pearson"] for x in r]
            ok = all(p is not None and (p <= bound if skill == "poor" else p >= bound) for p in pearson)
            spearman, cosine = fmt([x["spearman"] for x in r]), fmt([x["gradient_cosine"] for x in r], False)
            distance = fmt([x["minima_distance"] for x in r], False).replace("+", "")
            lines.append(
                f"| {kind} | {skill} | {fmt(pearson)} | {spearman} | {cosine} | {distance} | "
                f"Pearson {word} {bound:+.1f} | {'yes' if ok else '**no**'} |"
            )
    return "\n".join(lines)


def sensitivity_table(rows: list[dict], sets: dict, kind: str) -> str:
    """Pearson of the IL and RL surfaces for each reward design x discount x baseline (normalization: see below)."""
    lines = [
        "| rewards | gamma | RL weights w_t | share of w_t < 0 (poor / strong) | Pearson, poor | Pearson, strong | "
        "inverted on poor | alike on strong |",
        "|---|---:|---|---:|---:|---:|---|---|",
    ]
    for reward, gamma, weighting in variants():
        if weighting == "normalize":
            continue  # the same correlations as the mean baseline (normalization_note checks it)
        baseline, normalize = WEIGHTINGS[weighting]
        shares = []
        for skill in ("poor", "strong"):
            w = reinforce_weights(sets[skill, reward], gamma, baseline, normalize)
            shares.append(f"{np.mean(w < 0):.2f}")
        name = rl_name(reward, gamma, weighting)
        poor = [x["pearson"] for x in select(rows, directions=kind, set="poor", variant=name)]
        strong = [x["pearson"] for x in select(rows, directions=kind, set="strong", variant=name)]
        sp, ss = stats(poor), stats(strong)
        inverted = "n/a" if sp is None else ("yes" if sp[3] <= -0.5 else ("mostly" if sp[0] <= -0.5 else "no"))
        alike = "n/a" if ss is None else ("yes" if ss[2] >= 0.5 else ("mostly" if ss[0] >= 0.5 else "no"))
        label = {"none": "G_t", "mean": "G_t - mean", "time": "G_t - mean at step t"}[weighting]
        bold = "**" if (reward, gamma, weighting) == HEADLINE else ""
        lines.append(
            f"| {bold}{reward}{bold} | {bold}{gamma:g}{bold} | {bold}{label}{bold} | {' / '.join(shares)} | "
            f"{fmt(poor, False)} | {fmt(strong, False)} | {inverted} | {alike} |"
        )
    return "\n".join(lines)


def normalization_note(rows: list[dict]) -> str:
    """Standardized returns are the mean baseline divided by a positive number: check the correlations agree."""
    worst = 0.0
    for reward, gamma in itertools.product(REWARDS, GAMMAS):
        for r in select(rows, variant=rl_name(reward, gamma, "normalize")):
            twin = select(
                rows, init=r["init"], directions=r["directions"], set=r["set"], variant=rl_name(reward, gamma, "mean")
            )
            if r["pearson"] is not None and twin[0]["pearson"] is not None:
                worst = max(worst, abs(r["pearson"] - twin[0]["pearson"]))
    return (
        "Return normalization (w_t = (G_t - mean) / std) is the mean baseline divided by a positive constant, so "
        f"its correlations are those of the mean baseline (largest difference measured: {worst:.1e})."
    )


def draw_figures(args: argparse.Namespace, sets: dict, spec: str) -> list[Path]:
    """Figures of the first initialization on one slice (``"weights:3"``: the weights slice, span 3).

    ``OUT/<set>_<rewards>_<slice>.png`` for poor play with score rewards (inverted), strong play with
    score rewards (alike) and poor play with the alive bonus (the effect gone).
    """
    kind, _, span = spec.partition(":")
    actor = PolicyActor(fresh_policy(gym.make(ENV_ID), "ppo", seed=0))
    paths = []
    for skill, reward in (("poor", "score"), ("strong", "score"), ("poor", "alive")):
        config = LandscapeConfig(directions=kind, grid=args.grid, span=float(span or args.span), seed=0, gamma=HEADLINE[1])
        landscape = compute_landscape(actor, sets[skill, reward], config)
        landscape.name = f"{skill} play, {reward} rewards"
        landscape.labels["rl"] = f"REINFORCE, {reward} rewards, gamma {HEADLINE[1]:g}"
        path = args.out / f"{skill}_{reward}_{kind}.png"
        save_figure(landscape.figure(), path)
        paths.append(path)
    return paths


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    args = parse_args()
    start = time.perf_counter()
    sets = record(args)
    rows = run(args, sets)
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    demo_lines = [
        "| set | episodes | transitions | frames per episode | crashed | mean return, alive | mean return, score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for skill in ("poor", "strong"):
        a, s = sets[skill, "alive"], sets[skill, "score"]
        lengths = np.bincount(a.episode)
        demo_lines.append(
            f"| {skill} | {a.info['episodes']} | {a.info['transitions']} | {lengths.min()} to {lengths.max()} | "
            f"{a.info['terminated']} | "
            f"{a.info['mean_return']:.2f} | {s.info['mean_return']:.2f} |"
        )
    il_mse = "\n".join(
        f"- {kind}, {skill}: Pearson of IL cross-entropy and IL MSE: "
        f"{fmt([x['pearson'] for x in select(rows, directions=kind, set=skill, variant='il/mse')], False)}"
        for kind in args.directions
        for skill in ("poor", "strong")
    )
    command = "python benchmarks/landscape_experiment.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in vars(args).items()
    )
    text = [
        "# Landscape experiment: results",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()} ({torch.get_num_threads()} torch thread(s)); {elapsed:.0f} s in all.",
        "",
        f"Grid {args.grid}x{args.grid} over [-{args.span:g}, {args.span:g}]^2; {args.inits} random initializations "
        "of PPO's MlpPolicy (seeds 0..); values are mean ± std over initializations [min, max].",
        "",
        "## Demonstrations",
        "",
        *demo_lines,
        "",
        "## Headline: score-only rewards, gamma 0.99, no baseline, IL cross-entropy",
        "",
        headline_table(rows, args.directions),
        "",
        il_mse,
        "",
    ]
    for kind in args.directions:
        text += [
            f"## Sensitivity: {kind} slice (Pearson of the IL and RL surfaces)",
            "",
            sensitivity_table(rows, sets, kind),
            "",
        ]
    text += [normalization_note(rows), ""]
    (args.out / "results.md").write_text("\n".join(text))
    (args.out / "results.json").write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1)
    )
    print("\n".join(text))
    for spec in args.figures:
        for path in draw_figures(args, sets, spec):
            print(f"figure: {path}")
    print(f"tables: {args.out / 'results.md'}; every number: {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
