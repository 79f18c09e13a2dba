"""What made BC work on Flappy Bird: the demonstrator, the fitting, or both (one seed per cell).

    python benchmarks/flappy_bc_ablation.py --out benchmark_runs/flappy_bc_ablation

Two demonstrators, 10 games each (``record-demos --skill strong`` / ``--skill precise``, seeds
100..109, 100,000 frames), times two BC configurations of imitation's trainer (``sb3_behave.zoo.BC``):

- *before*: the Flappy Bird entry of ``zoo_configs/bc.yml`` before issue 13 (20,000 gradient
  steps, constant learning rate 1e-3, raw features);
- *after*: the entry of issue 13 (100,000 gradient steps of 256, ``lin_1e-3``, ``standardize_observations``,
  a 256x256 policy; the entry now reaches the same errors in a quarter of the time: ``bc_speed.py``).

Each clone plays 20 deterministic games of 10,000 frames (seeds 12,345..; the score is a share of
its own demonstrator's score on the same games), and its mistakes are counted against its
demonstrator on 16 games the demonstrator plays (seeds 999..., 5,000 frames each: the expert's own
states, none of them in the training set) and on its training set:

- errors per frame: frames where the clone's action differs from the demonstrator's;
- missed flaps: the share of the demonstrator's flaps the clone does not make.

Results: ``--results/table.md`` and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from common import FLAPPY, ROOT, machine

from sb3_behave.agents import SCRIPTED_EXPERTS, SKILL_PRESETS

CONFIGS = {
    "before": {"n_timesteps": 20_000, "learning_rate": 1e-3, "standardize_observations": False},
    "after": {"n_timesteps": 100_000, "learning_rate": "lin", "standardize_observations": True},
}
#: The demonstrators compared (their --skill presets) and the scripted expert style each records.
STYLES = {skill: SCRIPTED_EXPERTS[SKILL_PRESETS[skill].expert] for skill in ("strong", "precise")}


def demonstrations(skill: str, out: Path) -> Path:
    from sb3_behave.demos import record_demonstrations

    folder = out / "demos" / skill
    if not folder.is_dir():
        record_demonstrations(FLAPPY, folder, episodes=10, skill=skill, seed=100, progress_bar=False)
    return folder


def train(skill: str, config: str, folder: Path, out: Path, seed: int) -> tuple[object, float]:
    from sb3_behave.zoo import BC

    path = out / "models" / f"bc_{skill}_{config}_seed{seed}.zip"
    if path.is_file():
        return BC.load(path), float("nan")
    settings = CONFIGS[config]
    rate = settings["learning_rate"]
    model = BC(
        "MlpPolicy",
        FLAPPY,
        demonstrations=str(folder),
        batch_size=256,
        learning_rate=(lambda progress: 1e-3 * progress) if rate == "lin" else rate,
        ent_weight=0.0,
        standardize_observations=settings["standardize_observations"],
        policy_kwargs={"net_arch": [256, 256]},
        seed=seed,
    )
    start = time.perf_counter()
    model.learn(settings["n_timesteps"])
    seconds = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model, seconds


def mistakes(model: object, expert: object, obs: np.ndarray, labels: np.ndarray | None = None) -> dict:
    labels = expert.act(obs) if labels is None else labels
    actions = np.concatenate([model.predict(obs[i : i + 20_000], deterministic=True)[0] for i in range(0, len(obs), 20_000)])
    return {
        "errors_per_frame": float((actions != labels).mean()),
        "missed_flaps": float(((labels == 1) & (actions == 0)).sum() / max(labels.sum(), 1)),
    }


def expert_states(expert: object, games: int = 16, frames: int = 5_000) -> np.ndarray:
    from sb3_behave.envs import FlappyBirdVecEnv

    env = FlappyBirdVecEnv(games, seed=999, max_episode_steps=10_000)
    obs, seen = env.reset(), []
    for _ in range(frames):
        seen.append(obs)
        obs, *_ = env.step(expert.act(obs))
    env.close()
    return np.concatenate(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/flappy_bc_ablation"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "flappy_bc_ablation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from sb3_behave.demos import load_demonstrations
    from sb3_behave.envs import FlappyBirdExpert, evaluate_flappy_policy

    rows = []
    for skill, style in STYLES.items():
        expert = FlappyBirdExpert.from_style(style)
        folder = demonstrations(skill, args.out)
        trajectories = load_demonstrations(folder, env=FLAPPY)
        train_obs = np.concatenate([t.obs[:-1] for t in trajectories])
        train_acts = np.concatenate([t.acts for t in trajectories])
        held_out = expert_states(expert)
        expert_score = evaluate_flappy_policy(expert, games=20, max_frames=10_000)["score"]
        for config in CONFIGS:
            model, seconds = train(skill, config, folder, args.out, args.seed)
            score = evaluate_flappy_policy(model, games=20, max_frames=10_000)["score"]
            row = {
                "demonstrator": f"{skill} ({style})",
                "config": config,
                "seed": args.seed,
                "score": score,
                "expert_score": expert_score,
                "share": 100 * score / expert_score,
                "held_out": mistakes(model, expert, held_out),
                "training_set": mistakes(model, expert, train_obs, train_acts),
                "seconds": round(seconds, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        f"Command: `python benchmarks/flappy_bc_ablation.py --seed {args.seed}`  ",
        f"Machine: {machine()}",
        "",
        "| demonstrator | BC config | pipes (20 games) | share of its demonstrator | errors per frame, expert's states"
        " | missed flaps, expert's states | errors per frame, training set |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['demonstrator']} | {r['config']} | {r['score']:.1f} | {r['share']:.0f}% "
            f"| {r['held_out']['errors_per_frame']:.1e} | {100 * r['held_out']['missed_flaps']:.1f}% "
            f"| {r['training_set']['errors_per_frame']:.1e} |"
        )
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "results.json").write_text(json.dumps(rows, indent=2))
    (args.results / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
