"""ValueDICE from ONE expert trajectory: env steps to 90% of the expert, against GAIL; offline against BC.

    python benchmarks/valuedice_one_trajectory.py --env cartpole --seeds 0 1 2
    python benchmarks/valuedice_one_trajectory.py --env pendulum --seeds 0 1 2
    python benchmarks/valuedice_one_trajectory.py --env flappy --seeds 0 1 2
    python benchmarks/valuedice_one_trajectory.py --env hopper --seeds 0 --gail-steps 0 --offline-steps 0 --full-curve
                                                   # Hopper-v4 needs the `mujoco` extra

The single expert trajectory: CartPole-v1, the zoo-trained PPO expert of benchmarks/imitation_zoo.py
(500 steps); Pendulum-v1 and Hopper-v4, a SAC expert this script trains first if it is missing
(``sb3-behave train --algo sac -conf zoo_configs/sac_experts.yml --seed 0``); Flappy Bird, one game
of the scripted expert (10,000 frames). For each seed, on that trajectory:

- ValueDICE online, the settings of zoo_configs/valuedice.yml, evaluated every ``--eval-every``
  env steps (deterministic, 10 episodes; Flappy Bird: 10 games of at most 2,000 frames, scored
  against the expert on the same games);
- GAIL (sb3_behave.zoo.GAIL, the settings of zoo_configs/gail.yml), evaluated the same way
  (``--gail-steps 0`` skips it);
- ValueDICE offline and BC (sb3_behave.zoo.BC), the same number of gradient steps, final evaluation
  (``--offline-steps 0`` skips them).

"Steps to 90%" is the first evaluation at or above 90% of the way from random actions to the
expert (``random + 0.9 * (expert - random)``: Pendulum's returns are negative). Results go to
``--results/<env>.json`` and a Markdown table to ``--results/<env>.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import FLAPPY, ROOT, evaluate, machine, random_agent, run_sb3_behave, zoo_config
from stable_baselines3.common.callbacks import BaseCallback

ENVS = {"cartpole": "CartPole-v1", "pendulum": "Pendulum-v1", "flappy": FLAPPY, "hopper": "Hopper-v4"}
SAC_EXPERTS = ROOT / "zoo_configs" / "sac_experts.yml"
# Per env: ValueDICE env steps, evaluation period, GAIL evaluation period (one GAIL round).
DEFAULTS = {
    "cartpole": (5_000, 500, 4_096),
    "pendulum": (50_000, 2_000, 4_096),
    "flappy": (50_000, 5_000, 16_384),
    "hopper": (100_000, 5_000, 16_384),
}


def make_evaluator(env_id: str):
    """``policy -> value``: mean return of 10 episodes, or mean score of 10 games of 2,000 frames (Flappy Bird)."""
    return lambda policy: evaluate(policy, env_id, episodes=10, max_frames=2_000)


class Curve(BaseCallback):
    """Evaluate every ``every`` timesteps; stop once ``target`` is reached (``stop_at_target``)."""

    def __init__(self, evaluate, every: int, target: float, stop_at_target: bool = True, on_point=lambda: None):
        super().__init__()
        self.evaluate, self.every, self.target, self.stop_at_target = evaluate, every, target, stop_at_target
        self.on_point = on_point  # called after each evaluation
        self.points: list[tuple[int, float]] = []
        self._next = every

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.every
        value = self.evaluate(self.model)
        self.points.append((self.num_timesteps, value))
        self.on_point()
        print(f"  {type(self.model).__name__} step {self.num_timesteps:,}: {value:.1f} (target {self.target:.1f})", flush=True)
        return not (self.stop_at_target and value >= self.target)

    def steps_to_target(self) -> int | None:
        return next((step for step, value in self.points if value >= self.target), None)


def sac_expert(env_id: str, out: Path) -> Path:
    """The run folder of the SAC expert for ``env_id``, trained first (seed 0) if it is missing."""
    logs = out.parent / "experts" / "logs"
    run = logs / "sac" / f"{env_id}_1"
    if not (run / f"{env_id}.zip").is_file():
        if run.exists():
            raise SystemExit(f"{run}: an unfinished SAC expert run is in the way; delete it and run again")
        log = logs.parent / f"{env_id}.log"
        logs.mkdir(parents=True, exist_ok=True)
        print(f"training the SAC expert for {env_id} (log: {log})", flush=True)
        run_sb3_behave(
            [
                "train",
                "--algo",
                "sac",
                "--env",
                env_id,
                "-conf",
                str(SAC_EXPERTS),
                "--seed",
                "0",
                "-f",
                str(logs),
                "--eval-freq",
                "-1",
            ],
            out,
            log,
        )
    return run


def one_trajectory(env_key: str, out: Path) -> tuple[Path, float, str]:
    """Record (once) the single expert trajectory; return its folder, the expert's value and a description."""
    from sb3_behave.demos import load_episodes, record_demonstrations
    from sb3_behave.zoo import load_agent

    env_id = ENVS[env_key]
    folder = out / f"{env_key}_1"
    if env_key in ("pendulum", "hopper"):
        expert = sac_expert(env_id, out)
        if not folder.is_dir():
            record_demonstrations(env_id, folder, 1, expert=str(expert), algo="sac", seed=100, progress_bar=False)
        episode = load_episodes(folder)[0]
        value = make_evaluator(env_id)(load_agent("sac", env_id, folder=expert.parent.parent, exp_id=1, hub=False))
        steps = len(episode.trajectory.acts)
        return folder, value, f"1 episode ({steps} steps, return {sum(episode.trajectory.rews):.1f}) of a SAC expert"
    if env_key == "cartpole":
        from sb3_behave.stack import stack_name

        expert = out.parent / "imitation_zoo" / "cartpole" / stack_name() / "logs" / "ppo" / "CartPole-v1_1"
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


def demo_steps(demos: Path) -> int:
    from sb3_behave.demos import load_episodes

    return sum(len(episode.trajectory.acts) for episode in load_episodes(demos))


def run_seed(env_key: str, demos: Path, target: float, result: dict, args: argparse.Namespace, save) -> None:
    """Fill ``result`` for seed ``result["seed"]``, calling ``save()`` after every evaluation (nothing lost on a crash)."""
    from sb3_behave.valuedice import ValueDICE
    from sb3_behave.zoo import BC, GAIL

    env_id, seed = ENVS[env_key], result["seed"]
    evaluate = make_evaluator(env_id)

    def learn(name: str, model, steps: int, every: int) -> None:
        start = time.time()
        curve = Curve(evaluate, every, target, stop_at_target=not args.full_curve, on_point=save)
        result[name] = {"steps_to_90": None, "curve": curve.points, "seconds": None}  # the curve fills in place
        model.learn(steps, callback=curve)
        result[name].update(steps_to_90=curve.steps_to_target(), seconds=round(time.time() - start))
        save()

    model = ValueDICE("MlpPolicy", env_id, str(demos), seed=seed, **zoo_config("valuedice", env_id))
    learn("valuedice", model, args.valuedice_steps, args.eval_every)
    if args.gail_steps:
        from stable_baselines3.common.env_util import make_vec_env

        gail = zoo_config("gail", env_id)
        venv = make_vec_env(env_id, n_envs=gail.pop("n_envs", 1), seed=seed)
        gail["demo_batch_size"] = args.gail_demo_batch
        learn(
            "gail",
            GAIL("MlpPolicy", venv, demonstrations=str(demos), seed=seed, **gail),
            args.gail_steps,
            args.gail_eval_every,
        )
    if args.offline_steps:
        offline = ValueDICE("MlpPolicy", env_id, str(demos), offline=True, seed=seed, **zoo_config("valuedice", env_id))
        offline.learn(args.offline_steps)
        result["valuedice_offline"] = evaluate(offline)
        bc = BC("MlpPolicy", env_id, demonstrations=str(demos), seed=seed, **zoo_config("bc", env_id))
        bc.learn(args.offline_steps)
        result["bc"] = evaluate(bc)
        if args.bc_l2:  # the baseline of "Rethinking ValueDICE": BC with weight decay
            config = {**zoo_config("bc", env_id), "l2_weight": args.bc_l2}
            bc = BC("MlpPolicy", env_id, demonstrations=str(demos), seed=seed, **config)
            bc.learn(args.offline_steps)
            result["bc_l2"] = evaluate(bc)
        save()


def table(results: dict) -> str:
    """The Markdown table of ``results`` (one row per seed)."""
    budget = results["budget"]

    def steps(run: dict, algo: str) -> str:
        if algo not in run:
            return "not run"
        value, curve = run[algo]["steps_to_90"], run[algo]["curve"]
        if value is None and run[algo]["seconds"] is None:  # still running, or stopped by a crash
            return f"unfinished (last evaluation at {curve[-1][0] if curve else 0:,})"
        return f"{value:,}" if value is not None else f"not within {budget[algo]:,}"

    def ratio(run: dict) -> str:
        vd = run.get("valuedice", {}).get("steps_to_90")
        if vd is None or "gail" not in run:
            return "n/a"
        gail = run["gail"]["steps_to_90"]
        return f"{gail / vd:.0f}x" if gail is not None else f"> {budget['gail'] / vd:.0f}x"

    def offline(run: dict, key: str) -> str:
        return f"{run[key]:.1f}" if key in run else "not run"

    lines = [
        f"Env: `{results['env']}`. Demonstrations: {results['demos']}. Expert value: {results['expert']:.1f}, "
        f"random actions: {results['random']:.1f}; target (90% of the way): {results['target']:.1f}.",
        "",
        f"Command: `{results['command']}`. Machine: {results['machine']}.",
        "",
        "| seed | ValueDICE env steps to 90% | best / last ValueDICE value | GAIL env steps to 90% | ratio | "
        f"ValueDICE offline ({budget['offline']:,} steps) | BC ({budget['offline']:,} steps) | "
        f"BC with weight decay (l2 {results.get('bc_l2', 0):g}) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        values = [value for _, value in run.get("valuedice", {}).get("curve", [])] or [float("nan")]
        lines.append(
            f"| {run['seed']} | {steps(run, 'valuedice')} | {max(values):.1f} / {values[-1]:.1f} | "
            f"{steps(run, 'gail')} | {ratio(run)} | {offline(run, 'valuedice_offline')} | {offline(run, 'bc')} | "
            f"{offline(run, 'bc_l2')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--valuedice-steps",
        type=int,
        default=None,
        help="env steps (default: 5,000 CartPole, 50,000 Pendulum and Flappy, 100,000 Hopper)",
    )
    parser.add_argument(
        "--eval-every", type=int, default=None, help="default: 500 (CartPole), 2,000 (Pendulum), 5,000 (Flappy, Hopper)"
    )
    parser.add_argument("--gail-steps", type=int, default=300_000, help="0 skips GAIL")
    parser.add_argument("--gail-eval-every", type=int, default=None, help="default: one GAIL round")
    parser.add_argument(
        "--gail-demo-batch", type=int, default=500, help="GAIL's demo batch, capped at the trajectory's length"
    )
    parser.add_argument("--offline-steps", type=int, default=5_000, help="0 skips offline ValueDICE and BC")
    parser.add_argument("--bc-l2", type=float, default=1e-3, help="BC's L2 weight for the weight-decay baseline (0 skips it)")
    parser.add_argument("--full-curve", action="store_true", help="train to the end instead of stopping at the target")
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/valuedice"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "valuedice_one_trajectory")
    args = parser.parse_args()
    valuedice_steps, eval_every, gail_eval_every = DEFAULTS[args.env]
    args.valuedice_steps = args.valuedice_steps or valuedice_steps
    args.eval_every = args.eval_every or eval_every
    args.gail_eval_every = args.gail_eval_every or gail_eval_every

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    demos, expert, description = one_trajectory(args.env, out)
    random = make_evaluator(ENVS[args.env])(random_agent(ENVS[args.env]))
    target = random + 0.9 * (expert - random)  # 90% of the way from random to expert (Pendulum's returns are < 0)
    results = {
        "env": ENVS[args.env],
        "demos": description,
        "expert": expert,
        "random": random,
        "target": target,
        "command": "python benchmarks/valuedice_one_trajectory.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "full_curve": args.full_curve,
        "budget": {"valuedice": args.valuedice_steps, "gail": args.gail_steps, "offline": args.offline_steps},
        "bc_l2": args.bc_l2,
        "runs": [],
    }
    args.results.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        (args.results / f"{args.env}.json").write_text(json.dumps(results, indent=2))
        (args.results / f"{args.env}.md").write_text(table(results))

    args.gail_demo_batch = min(args.gail_demo_batch, demo_steps(demos))  # GAIL samples without replacement
    for seed in args.seeds:
        run = {"seed": seed}
        results["runs"].append(run)
        run_seed(args.env, demos, target, run, args, save)
        print(json.dumps({key: value["steps_to_90"] if isinstance(value, dict) else value for key, value in run.items()}))
    print(table(results))


if __name__ == "__main__":
    main()
