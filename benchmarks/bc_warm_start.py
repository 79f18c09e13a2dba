"""PPO from scratch against PPO with BC warm start (and against the plain actor-only recipe).

    python benchmarks/bc_warm_start.py --env flappy --seeds 0 1 2
    python benchmarks/bc_warm_start.py --env pendulum --seeds 0 1 2

Same PPO hyperparameters in every run; only the callback differs:

- scratch: plain PPO;
- warm: ``BCWarmStartCallback`` with its defaults (value head fitted on the demonstrations'
  returns, decaying BC term, exploration floor);
- plain: the usual recipe, BC of the actor only (``fit_value=None, bc_term_weight=0`` and no
  exploration floor).

It measures the env steps to reach the target (Flappy Bird: a mean evaluation score of 50
pipes; Pendulum-v1: a mean evaluation return of -200), and, for warm and plain, the lowest
evaluation return over the first 20% of fine-tuning as a fraction of the return right after
the warm start. Each run's evaluations go to ``--out/<env>/<config>_seed<k>.json``; the tables
are printed and written to ``--out/<env>/table.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch as th

from sb3_behave.callbacks import BCWarmStartCallback
from sb3_behave.demos import load_demonstrations, record_demonstrations

FLAPPY = "sb3_behave/FlappyBird-v0"


# ------------------------------------------------------------------ Flappy Bird
def flappy_setup(out: Path, n_demos: int) -> dict:
    demos = out / "demos"
    if not list(demos.glob("episode-*.npz")):
        record_demonstrations(FLAPPY, demos, n_demos, skill="strong", seed=10_000, progress_bar=False)
    return {
        "demos": load_demonstrations(demos, env=FLAPPY),
        "target": 50.0,
        "target_name": "mean evaluation score >= 50 pipes",
        "bc_kwargs": {"bc_epochs": 20},
    }


def flappy_model(seed: int):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from sb3_behave.envs import FlappyBirdVecEnv

    env = VecMonitor(FlappyBirdVecEnv(16, seed=seed))
    return PPO("MlpPolicy", env, n_steps=256, batch_size=512, n_epochs=4, seed=seed, device="cpu", verbose=0)


def flappy_evaluate(model) -> dict:
    """Deterministic play of 10 seeded games of at most 5,000 frames: mean score and return."""
    from sb3_behave.envs import evaluate_flappy_policy

    result = evaluate_flappy_policy(model, games=10, max_frames=5_000, seed=12_345)
    return {"score": result["score"], "return": result["return"]}


# ------------------------------------------------------------------ Pendulum-v1
PENDULUM_PPO = dict(
    n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0, learning_rate=1e-3,
    clip_range=0.2, use_sde=True, sde_sample_freq=4, max_grad_norm=0.5,
)  # fmt: skip  # the RL Zoo's tuned PPO for Pendulum-v1 (with VecNormalize, 4 envs)


def pendulum_setup(out: Path, n_demos: int) -> dict:
    from stable_baselines3 import SAC

    expert_file = out / "sac_expert.zip"
    if not expert_file.exists():  # the RL Zoo's SAC for Pendulum-v1: 20,000 steps, lr 1e-3
        expert = SAC("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, seed=0, device="cpu", verbose=0)
        expert.learn(20_000, progress_bar=False)
        expert.save(expert_file)
    demos = out / "demos"
    if not list(demos.glob("episode-*.npz")):
        record_demonstrations(
            "Pendulum-v1", demos, n_demos, expert=str(expert_file), algo="sac", seed=10_000, progress_bar=False
        )
    trajectories = load_demonstrations(demos, env="Pendulum-v1")
    expert_return = float(np.mean([t.rews.sum() for t in trajectories]))
    return {
        "demos": trajectories,
        "target": -200.0,
        "target_name": "mean evaluation return >= -200",
        "bc_kwargs": {"bc_epochs": 50},
        "expert_return": expert_return,
    }


def pendulum_model(seed: int):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=4, seed=seed))
    return PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **PENDULUM_PPO)


def pendulum_evaluate(model, seed: int = 12_345, episodes: int = 10) -> dict:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=1, seed=seed), training=False, norm_reward=False)
    env.obs_rms = model.get_vec_normalize_env().obs_rms.copy()
    returns, _ = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True)
    return {"return": float(np.mean(returns))}


ENVS = {
    "flappy": (flappy_setup, flappy_model, flappy_evaluate, "score"),
    "pendulum": (pendulum_setup, pendulum_model, pendulum_evaluate, "return"),
}


# ------------------------------------------------------------------ one run
def run(env_name: str, config: str, seed: int, setup: dict, budget: int, eval_every: int, early_every: int, out: Path) -> dict:
    _, make_model, evaluate, metric = ENVS[env_name]
    th.manual_seed(seed)
    model = make_model(seed)
    callback = None
    if config != "scratch":
        kwargs = dict(setup["bc_kwargs"], seed=seed)
        if config == "plain":
            kwargs.update(fit_value=None, bc_term_weight=0.0, entropy_floor=None, log_std_floor=None)
        callback = BCWarmStartCallback(setup["demos"], **kwargs)
    start = time.time()
    if callback is not None:
        model.learn(0, callback=callback, reset_num_timesteps=False)  # the warm start alone: no env step
    evaluations: list[dict] = []
    steps_to_target = None
    while True:
        result = dict(evaluate(model), steps=int(model.num_timesteps))
        evaluations.append(result)
        print(f"  {env_name} {config} seed {seed}: {result}  ({time.time() - start:.0f} s)", flush=True)
        if steps_to_target is None and result[metric] >= setup["target"]:
            steps_to_target = int(model.num_timesteps)
        if model.num_timesteps >= budget or (config == "scratch" and steps_to_target is not None):
            break
        step = early_every if model.num_timesteps < 0.2 * budget else eval_every
        model.learn(step, callback=callback, reset_num_timesteps=False)
    record = {
        "env": env_name,
        "config": config,
        "seed": seed,
        "steps_to_target": steps_to_target,
        "budget": budget,
        "evaluations": evaluations,
        "seconds": time.time() - start,
        "warm_start_stats": callback.stats if callback is not None else None,
    }
    (out / f"{config}_seed{seed}.json").write_text(json.dumps(record, indent=1))
    return record


def retention(record: dict, metric: str = "return") -> float | None:
    """Lowest evaluation return in the first 20% of fine-tuning over the return right after warm start."""
    evaluations = record["evaluations"]
    first = evaluations[0][metric]
    early = [e[metric] for e in evaluations if 0 < e["steps"] <= 0.2 * record["budget"]]
    if not early:
        return None
    low = min(early)
    if first > 0:
        return low / first
    return first / low if low < 0 else None  # negative returns (Pendulum): closer to 0 is better


def table(records: list[dict], setup: dict) -> str:
    lines = [
        f"Target: {setup['target_name']}. Steps are env steps of RL (the warm start adds "
        f"{sum(len(t) for t in setup['demos']):,} demonstration transitions and no env step).",
        "",
        "| config | seed | env steps to target | eval after warm start | lowest / warm-start eval, first 20% | time (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        reached = f"{r['steps_to_target']:,}" if r["steps_to_target"] is not None else f"not within {r['budget']:,}"
        first = r["evaluations"][0]
        warm = ", ".join(f"{k} {v:.1f}" for k, v in first.items() if k != "steps") if r["config"] != "scratch" else ""
        kept = retention(r) if r["config"] != "scratch" else None
        kept_text = f"{kept:.2f}" if kept is not None else ""
        lines.append(f"| {r['config']} | {r['seed']} | {reached} | {warm} | {kept_text} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), default="flappy")
    parser.add_argument("--configs", nargs="+", default=["warm", "plain", "scratch"], choices=["warm", "plain", "scratch"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--demos", type=int, default=10, help="expert episodes")
    parser.add_argument("--budget", type=int, default=None, help="env steps per warm/plain run")
    parser.add_argument("--scratch-budget", type=int, default=None, help="env steps per scratch run")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_bc_warm_start"))
    args = parser.parse_args()
    th.set_num_threads(1)
    out = args.out / args.env
    out.mkdir(parents=True, exist_ok=True)
    setup_fn, *_ = ENVS[args.env]
    setup = setup_fn(out, args.demos)
    defaults = {"flappy": (1_000_000, 6_000_000, 100_000, 25_000), "pendulum": (100_000, 300_000, 16_384, 4_096)}[args.env]
    budget = args.budget or defaults[0]
    scratch_budget = args.scratch_budget or defaults[1]
    records = []
    for config in args.configs:
        for seed in args.seeds:
            records.append(
                run(
                    args.env,
                    config,
                    seed,
                    setup,
                    scratch_budget if config == "scratch" else budget,
                    defaults[2],
                    defaults[3],
                    out,
                )
            )
    text = table(records, setup)
    if "expert_return" in setup:
        text += f"\n\nExpert (SAC) return over the demonstrations: {setup['expert_return']:.1f}"
    print(text)
    (out / "table.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
