"""ValueDICE from ONE expert trajectory: env steps to 90% of the expert, against GAIL; offline against BC.

    python benchmarks/valuedice_one_trajectory.py --env cartpole --seeds 0 1 2
    python benchmarks/valuedice_one_trajectory.py --env flappy --seeds 0 1 2

For each seed, on the same single expert trajectory (CartPole-v1: the zoo-trained PPO expert of
benchmarks/imitation_zoo.py, 500 steps; Flappy Bird: one game of the scripted expert, 10,000 frames):

- ValueDICE online, the settings of zoo_configs/valuedice.yml, evaluated every ``--eval-every``
  env steps (deterministic, 10 episodes; Flappy Bird: 10 games of at most 2,000 frames, scored
  against the expert on the same games);
- GAIL (sb3_behave.zoo.GAIL, the settings of zoo_configs/gail.yml), evaluated the same way;
- ValueDICE offline and BC (sb3_behave.zoo.BC), the same number of gradient steps, final evaluation.

"Steps to 90%" is the first evaluation at or above 90% of the expert's value. Results go to
``--results/<env>.json`` and a Markdown table to ``--results/<env>.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import yaml
from stable_baselines3.common.callbacks import BaseCallback

ROOT = Path(__file__).resolve().parent.parent
FLAPPY = "sb3_behave/FlappyBird-v0"
ENVS = {"cartpole": "CartPole-v1", "flappy": FLAPPY}


def config(algo: str, env_id: str) -> dict:
    entry = dict(yaml.safe_load((ROOT / "zoo_configs" / f"{algo}.yml").read_text())[env_id])
    for key in ("n_timesteps", "demonstrations", "policy"):
        entry.pop(key, None)
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = eval(entry["policy_kwargs"])  # the zoo's convention for this key
    return entry


def make_evaluator(env_id: str):
    """``policy -> value``: mean return (CartPole) or mean score over 10 games of 2,000 frames (Flappy Bird)."""
    if env_id == FLAPPY:
        from sb3_behave.envs import evaluate_flappy_policy

        return lambda policy: float(evaluate_flappy_policy(policy, games=10, max_frames=2000)["score"])
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv

    def value(policy) -> float:
        env = DummyVecEnv([lambda: gym.make(env_id)])
        env.seed(10_000)
        return float(evaluate_policy(policy, env, n_eval_episodes=10, deterministic=True)[0])

    return value


class Curve(BaseCallback):
    """Evaluate every ``every`` timesteps; stop once ``target`` is reached (``stop_at_target``)."""

    def __init__(self, evaluate, every: int, target: float, stop_at_target: bool = True):
        super().__init__()
        self.evaluate, self.every, self.target, self.stop_at_target = evaluate, every, target, stop_at_target
        self.points: list[tuple[int, float]] = []
        self._next = every

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.every
        value = self.evaluate(self.model)
        self.points.append((self.num_timesteps, value))
        return not (self.stop_at_target and value >= self.target)

    def steps_to_target(self) -> int | None:
        return next((step for step, value in self.points if value >= self.target), None)


def one_trajectory(env_key: str, out: Path) -> tuple[Path, float, str]:
    """Record (once) the single expert trajectory; return its folder, the expert's value and a description."""
    from sb3_behave.demos import record_demonstrations

    env_id = ENVS[env_key]
    folder = out / f"{env_key}_1"
    if env_key == "cartpole":
        expert = out.parent / "imitation_zoo" / "cartpole" / "logs" / "ppo" / "CartPole-v1_1"
        if not expert.is_dir():
            raise SystemExit(f"{expert}: run benchmarks/imitation_zoo.py --env cartpole first (it trains the expert)")
        if not folder.is_dir():
            record_demonstrations(env_id, folder, 1, expert=str(expert), seed=100, progress_bar=False)
        from sb3_behave.zoo import load_agent

        value = make_evaluator(env_id)(load_agent("ppo", env_id, folder=expert.parent.parent, exp_id=1, hub=False))
        return folder, value, "1 episode (500 steps) of the zoo-trained PPO expert"
    if not folder.is_dir():
        record_demonstrations(env_id, folder, 1, skill="strong", seed=100, progress_bar=False)
    from sb3_behave.envs import FlappyBirdExpert

    return folder, make_evaluator(env_id)(FlappyBirdExpert()), "1 game (10,000 frames) of the scripted expert"


def run_seed(env_key: str, demos: Path, target: float, seed: int, args: argparse.Namespace) -> dict:
    from sb3_behave.valuedice import ValueDICE
    from sb3_behave.zoo import BC, GAIL

    env_id = ENVS[env_key]
    evaluate = make_evaluator(env_id)
    result: dict = {"seed": seed}

    start = time.time()
    curve = Curve(evaluate, args.eval_every, target)
    model = ValueDICE("MlpPolicy", env_id, str(demos), seed=seed, **config("valuedice", env_id))
    model.learn(args.valuedice_steps, callback=curve)
    seconds = round(time.time() - start)
    result["valuedice"] = {"steps_to_90": curve.steps_to_target(), "curve": curve.points, "seconds": seconds}

    start = time.time()
    curve = Curve(evaluate, args.gail_eval_every, target)
    gail = config("gail", env_id)
    n_envs = gail.pop("n_envs", 1)
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    GAIL("MlpPolicy", venv, demonstrations=str(demos), seed=seed, **{**gail, "demo_batch_size": args.gail_demo_batch}).learn(
        args.gail_steps, callback=curve
    )
    result["gail"] = {"steps_to_90": curve.steps_to_target(), "curve": curve.points, "seconds": round(time.time() - start)}

    offline = ValueDICE("MlpPolicy", env_id, str(demos), offline=True, seed=seed, **config("valuedice", env_id))
    offline.learn(args.offline_steps)
    result["valuedice_offline"] = evaluate(offline)
    bc = BC("MlpPolicy", env_id, demonstrations=str(demos), seed=seed, **config("bc", env_id))
    bc.learn(args.offline_steps)
    result["bc"] = evaluate(bc)
    return result


def table(results: dict, args: argparse.Namespace) -> str:
    def steps(value: int | None, budget: int) -> str:
        return f"{value:,}" if value is not None else f"not within {budget:,}"

    lines = [
        f"Env: `{results['env']}`. Demonstrations: {results['demos']}. Expert value: {results['expert']:.1f}; "
        f"target (90%): {results['target']:.1f}.",
        "",
        "| seed | ValueDICE env steps to 90% | GAIL env steps to 90% | ratio | ValueDICE offline | BC | "
        f"(offline: {args.offline_steps:,} gradient steps) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in results["runs"]:
        vd, gail = run["valuedice"]["steps_to_90"], run["gail"]["steps_to_90"]
        ratio = f"{gail / vd:.0f}x" if vd and gail else "n/a"
        lines.append(
            f"| {run['seed']} | {steps(vd, args.valuedice_steps)} | {steps(gail, args.gail_steps)} | {ratio} | "
            f"{run['valuedice_offline']:.1f} | {run['bc']:.1f} | |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--valuedice-steps", type=int, default=None, help="default: 5,000 (CartPole), 50,000 (Flappy)")
    parser.add_argument("--eval-every", type=int, default=None, help="default: 500 (CartPole), 5,000 (Flappy)")
    parser.add_argument("--gail-steps", type=int, default=300_000)
    parser.add_argument("--gail-eval-every", type=int, default=None, help="default: one GAIL round")
    parser.add_argument("--gail-demo-batch", type=int, default=500, help="a single 500-step trajectory is the cap")
    parser.add_argument("--offline-steps", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/valuedice"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "valuedice_one_trajectory")
    args = parser.parse_args()
    cartpole = args.env == "cartpole"
    args.valuedice_steps = args.valuedice_steps or (5_000 if cartpole else 50_000)
    args.eval_every = args.eval_every or (500 if cartpole else 5_000)
    args.gail_eval_every = args.gail_eval_every or (4096 if cartpole else 16_384)

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    demos, expert, description = one_trajectory(args.env, out)
    results = {"env": ENVS[args.env], "demos": description, "expert": expert, "target": 0.9 * expert, "runs": []}
    for seed in args.seeds:
        run = run_seed(args.env, demos, 0.9 * expert, seed, args)
        print(json.dumps({k: v for k, v in run.items() if k not in ("valuedice", "gail")}), run["valuedice"]["steps_to_90"],
              run["gail"]["steps_to_90"], flush=True)
        results["runs"].append(run)
        args.results.mkdir(parents=True, exist_ok=True)
        (args.results / f"{args.env}.json").write_text(json.dumps(results, indent=2))
    text = table(results, args)
    (args.results / f"{args.env}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
