"""PPO from scratch against PPO with BC warm start (and against the plain actor-only recipe).

    python benchmarks/bc_warm_start.py --env flappy --seeds 0 1 2
    python benchmarks/bc_warm_start.py --env mountaincar --demos 5 --seeds 0 1 2
    python benchmarks/bc_warm_start.py --env pendulum --seeds 0 1 2

Same PPO hyperparameters in every run; only the callback differs:

- scratch: plain PPO;
- warm: ``BCWarmStartCallback`` with its defaults (critic-only warm-up of 10,000 env steps, actor
  ramp over the next 30,000, no BC term, exploration floor, VecNormalize's observation statistics
  kept at the demonstrations');
- dapg: the callback's defaults in 0.1.0 (value head fitted on the demonstrations' returns,
  decaying BC term, exploration floor; no ramp, statistics not kept);
- plain: the usual recipe, BC of the actor only (no value fit, no BC term, no ramp, no
  exploration floor, statistics not kept).

It measures the env steps to reach the target (Flappy Bird: a mean evaluation score of 50
pipes; MountainCarContinuous-v0, whose reward is sparse: every evaluation episode reaches the
flag; Pendulum-v1: a mean evaluation return of -200), and, for the warm-started configs, the lowest
evaluation return over the first 20% of fine-tuning as a fraction of the return right after
the warm start. Each run's evaluations go to ``--out/<env>/<config>_seed<k>.json`` (a finished
run is read back, not run again); the tables are printed and written to ``--out/<env>/table.md``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch as th
from common import machine, pendulum_sac_expert

from sb3_behave.callbacks import BCWarmStartCallback
from sb3_behave.demos import load_demonstrations, record_demonstrations

FLAPPY = "sb3_behave/FlappyBird-v0"


# ------------------------------------------------------------------ Flappy Bird
def flappy_setup(out: Path, n_demos: int, max_episode_steps: int | None = None) -> dict:
    """``n_demos`` games of the strong preset (the steady expert), with the env's time limit or ``max_episode_steps``."""
    demos = out / "demos"
    if not list(demos.glob("episode-*.npz")):
        record_demonstrations(
            FLAPPY, demos, n_demos, skill="strong", seed=10_000, max_episode_steps=max_episode_steps, progress_bar=False
        )
    return {
        "demos": load_demonstrations(demos, env=FLAPPY),
        "target": 50.0,
        "target_name": "mean evaluation score >= 50 pipes",
        "bc_kwargs": {"bc_epochs": 20},
    }


def flappy_model(
    seed: int, n_envs: int = 16, n_steps: int = 256, max_episode_steps: int | None = None, ppo: dict | None = None
):
    """PPO on ``n_envs`` Flappy Bird games, ``n_steps`` per env per rollout, batch of 512 (or the rollout, if smaller).

    ``ppo``: more PPO hyperparameters (constants: the runs call ``learn`` once per evaluation, so a schedule
    over ``progress_remaining`` would restart at each call).
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from sb3_behave.envs import FlappyBirdVecEnv

    limit = {"max_episode_steps": max_episode_steps} if max_episode_steps is not None else {}
    env = VecMonitor(FlappyBirdVecEnv(n_envs, seed=seed, **limit))
    batch_size = min(512, n_envs * n_steps)
    return PPO(
        "MlpPolicy", env, n_steps=n_steps, batch_size=batch_size, n_epochs=4, seed=seed, device="cpu", verbose=0, **(ppo or {})
    )


def flappy_evaluate(model, games: int = 10) -> dict:
    """Deterministic play of ``games`` seeded games of at most 5,000 frames: mean score and return."""
    from sb3_behave.envs import evaluate_flappy_policy

    result = evaluate_flappy_policy(model, games=games, max_frames=5_000, seed=12_345)
    return {"score": result["score"], "return": result["return"]}


# ------------------------------------------------------------------ MountainCarContinuous-v0
MOUNTAIN_CAR = "MountainCarContinuous-v0"


def energy_pumping(obs: np.ndarray) -> np.ndarray:
    """A scripted MountainCarContinuous expert: full throttle in the direction the car is moving (it rocks to the flag)."""
    return np.array([1.0 if obs[1] >= 0 else -1.0], dtype=np.float32)


def mountain_car_setup(out: Path, n_demos: int) -> dict:
    import gymnasium as gym

    from sb3_behave.demos import play_episodes

    trajectories = play_episodes(gym.make(MOUNTAIN_CAR), energy_pumping, n_demos, seed=10_000)
    return {
        "demos": trajectories,
        "target": 1.0,
        "target_name": "every one of 10 evaluation episodes reaches the flag",
        "bc_kwargs": {"bc_epochs": 50},
        "expert_return": float(np.mean([t.rews.sum() for t in trajectories])),
    }


def mountain_car_model(seed: int):
    """SB3's default PPO (what ``PPO("MlpPolicy", env)`` gives) on 4 envs."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    return PPO("MlpPolicy", make_vec_env(MOUNTAIN_CAR, n_envs=4, seed=seed), seed=seed, device="cpu", verbose=0)


def mountain_car_evaluate(model, seed: int = 12_345, episodes: int = 10) -> dict:
    """Deterministic play of 10 seeded episodes: mean return, and the fraction that reach the flag."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    env = make_vec_env(MOUNTAIN_CAR, n_envs=1, seed=seed)
    returns, lengths = evaluate_policy(
        model, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True
    )
    limit = env.envs[0].spec.max_episode_steps
    return {"success": float(np.mean(np.asarray(lengths) < limit)), "return": float(np.mean(returns))}


# ------------------------------------------------------------------ Pendulum-v1
PENDULUM_PPO = dict(
    n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0, learning_rate=1e-3,
    clip_range=0.2, use_sde=True, sde_sample_freq=4, max_grad_norm=0.5,
)  # fmt: skip  # the RL Zoo's tuned PPO for Pendulum-v1 (with VecNormalize, 4 envs)


def pendulum_setup(out: Path, n_demos: int) -> dict:
    expert_file = pendulum_sac_expert(out / "sac_expert.zip")
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
    "mountaincar": (mountain_car_setup, mountain_car_model, mountain_car_evaluate, "success"),
    "pendulum": (pendulum_setup, pendulum_model, pendulum_evaluate, "return"),
}
#: Per env: the env-step budget of warm-started runs and of scratch runs, the steps between evaluations, and
#: between evaluations in the first 20% of the budget.
BUDGETS = {
    "flappy": (1_000_000, 6_000_000, 100_000, 25_000),
    "mountaincar": (100_000, 1_000_000, 20_000, 4_000),
    "pendulum": (100_000, 300_000, 16_384, 4_096),
}


#: What each config gives ``BCWarmStartCallback`` besides the demonstrations and the env's ``bc_kwargs``
#: (``scratch`` has no warm start).
CONFIGS: dict[str, dict | None] = {
    "warm": {},
    "dapg": {"fit_value": "returns", "actor_ramp_steps": 0, "bc_term_weight": 1.0, "freeze_obs_normalization": False},
    "plain": {
        "fit_value": None,
        "actor_ramp_steps": 0,
        "bc_term_weight": 0.0,
        "entropy_floor": None,
        "log_std_floor": None,
        "freeze_obs_normalization": False,
    },
    "scratch": None,
}


# ------------------------------------------------------------------ one run
def run(
    env_name: str,
    config: str,
    seed: int,
    setup: dict,
    budget: int,
    eval_every: int,
    early_every: int,
    out: Path,
    model_kwargs: dict | None = None,
    evaluate: Callable[[Any], dict] | None = None,
) -> dict:
    """One run: warm start (but for ``scratch``), then RL to ``budget`` env steps, evaluating as it goes.

    Written to ``out/<config>_seed<seed>.json``. ``model_kwargs`` go to the env's model builder
    (Flappy Bird: ``n_envs``, ``n_steps``, ``max_episode_steps``); ``evaluate`` replaces the env's evaluation.
    """
    _, make_model, env_evaluate, metric = ENVS[env_name]
    evaluate = evaluate or env_evaluate
    th.manual_seed(seed)
    model = make_model(seed, **(model_kwargs or {}))
    callback = None
    recipe = CONFIGS[config]
    if recipe is not None:
        callback = BCWarmStartCallback(setup["demos"], **dict(recipe, seed=seed, **setup["bc_kwargs"]))
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
        "model_kwargs": model_kwargs or {},
        "warm_start_stats": callback.stats if callback is not None else None,
    }
    (out / f"{config}_seed{seed}.json").write_text(json.dumps(record, indent=1))
    return record


def lowest_after_start(record: dict, until: float = float("inf"), metric: str = "return") -> float | None:
    """The lowest evaluation ``metric`` after the first evaluation, up to ``until`` env steps (None: no evaluation there)."""
    values = [e[metric] for e in record["evaluations"] if 0 < e["steps"] <= until]
    return min(values) if values else None


def retention(record: dict, metric: str = "return") -> float | None:
    """Lowest evaluation return in the first 20% of fine-tuning over the return right after warm start."""
    first = record["evaluations"][0][metric]
    low = lowest_after_start(record, 0.2 * record["budget"], metric)
    if low is None:
        return None
    if first > 0:
        return low / first
    return first / low if low < 0 else None  # negative returns (Pendulum): closer to 0 is better


def table(records: list[dict], setup: dict) -> str:
    lines = [
        f"Target: {setup['target_name']}. Steps are env steps of RL (the warm start adds "
        f"{sum(len(t) for t in setup['demos']):,} demonstration transitions and no env step).",
        "",
        "| config | seed | env steps to target | eval after warm start | lowest / warm-start eval, first 20% "
        "| last eval (env steps) | time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        reached = f"{r['steps_to_target']:,}" if r["steps_to_target"] is not None else f"not within {r['budget']:,}"
        first = r["evaluations"][0]
        warm = ", ".join(f"{k} {v:.1f}" for k, v in first.items() if k != "steps") if r["config"] != "scratch" else ""
        kept = retention(r) if r["config"] != "scratch" else None
        kept_text = f"{kept:.2f}" if kept is not None else ""
        last = r["evaluations"][-1]
        end = ", ".join(f"{k} {v:.1f}" for k, v in last.items() if k != "steps") + f" ({last['steps']:,})"
        lines.append(f"| {r['config']} | {r['seed']} | {reached} | {warm} | {kept_text} | {end} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), default="flappy")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--demos", type=int, default=10, help="expert episodes")
    parser.add_argument("--budget", type=int, default=None, help="env steps per warm-started run")
    parser.add_argument("--scratch-budget", type=int, default=None, help="env steps per scratch run")
    parser.add_argument(
        "--ppo",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="Flappy Bird only: more PPO hyperparameters, each VALUE a Python literal (learning_rate=1e-4)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_bc_warm_start"))
    args = parser.parse_args()
    ppo = {}
    for item in args.ppo:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            parser.error(f"--ppo {item!r}: expected KEY=VALUE")
        try:
            ppo[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parser.error(f"--ppo {item!r}: VALUE must be a Python literal")
    if ppo and args.env != "flappy":
        parser.error("--ppo: only --env flappy builds its PPO from these arguments")
    th.set_num_threads(1)
    out = args.out / args.env
    out.mkdir(parents=True, exist_ok=True)
    setup_fn, *_ = ENVS[args.env]
    setup = setup_fn(out, args.demos)
    defaults = BUDGETS[args.env]
    budget = args.budget or defaults[0]
    scratch_budget = args.scratch_budget or defaults[1]
    records = []
    for config in args.configs:
        for seed in args.seeds:
            done = out / f"{config}_seed{seed}.json"
            if done.exists():
                records.append(json.loads(done.read_text()))
                continue
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
                    {"ppo": ppo} if ppo else None,
                )
            )
    command = " ".join(["python benchmarks/bc_warm_start.py", *sys.argv[1:]])
    text = f"{machine()}\n\nCommand: {command}\n\n" + table(records, setup)
    if "expert_return" in setup:
        expert = {"pendulum": "SAC", "mountaincar": "energy pumping, scripted"}[args.env]
        text += f"\n\nExpert ({expert}) return over the demonstrations: {setup['expert_return']:.1f}"
    print(text)
    (out / "table.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
