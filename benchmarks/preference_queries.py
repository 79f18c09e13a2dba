"""Return against the number of preference queries: deep RL from (synthetic) preferences, 3 seeds.

    python benchmarks/preference_queries.py --env cartpole --queries 25 100 400 --seeds 0 1 2
    python benchmarks/preference_queries.py --env flappy --queries 100 400 --seeds 0 1 2

Each run is what a user types: ``sb3-behave train --algo preference_comparisons --env <env> -conf
zoo_configs/preference_comparisons.yml --seed <k> -params total_comparisons:<queries>``. The
preferences come from the env's reward (imitation's ``SyntheticGatherer``, the config's default),
so a query costs nothing here; with ``preference_gatherer: person`` each one is a person's answer.
The policy never sees the env's reward: only the reward model learned from the answers.

``--env cartpole`` trains on seals/CartPole-v0: CartPole-v1's cart and pole with a fixed horizon of
500 steps and a reward of 1 only while the pole is up (CartPole-v1 rewards every step, so two
fragments of the same length always tie, and synthetic preferences there are coin flips).

The final model is evaluated on fresh seeded episodes: CartPole, mean return of 20 deterministic
episodes (steps with the pole up; the best possible is 500); Flappy Bird (features), mean score
(pipes) of 10 deterministic games of at most 10,000 frames. PPO on the env's own reward, with the same
generator settings and budget, is the reference row (``--reference``, on by default).

Results go to ``--results/<env>/<stack>/results.json`` and ``table.md``; runs to ``--out``. A
(queries, seed) already in ``results.json`` is kept, not run again: run the script again after a
crash, or with more ``--queries`` or ``--seeds``, and the table grows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from common import FLAPPY, ROOT, evaluate, machine, run_sb3_behave, write_atomically, zoo_config, zoo_steps

#: ``cartpole`` is seals' fixed-horizon CartPole: CartPole-v1 gives +1 on every step, so equal-length
#: fragments always tie and synthetic preferences there are coin flips (zoo_configs/preference_comparisons.yml).
ENVS = {"cartpole": "seals/CartPole-v0", "flappy": FLAPPY}
ALGO = "preference_comparisons"
#: The PPO keys of a preference_comparisons entry (its generator's), for the reference run on the env's reward.
NOT_PPO = {
    "total_comparisons",
    "num_iterations",
    "fragment_length",
    "transition_oversampling",
    "initial_comparison_frac",
    "initial_epoch_multiplier",
    "comparison_queue_size",
    "query_schedule",
    "exploration_frac",
    "reward_net_kwargs",
    "reward_learning_rate",
    "reward_epochs",
    "reward_batch_size",
    "preference_gatherer",
    "gatherer_kwargs",
    "preferences",
    "allow_variable_horizon",
    "gen_algo",
}


def train_and_evaluate(env_id: str, seed: int, queries: int | None, out: Path, n_timesteps: int | None) -> tuple[float, float]:
    """Train one run (``queries`` None: the PPO reference on the env's reward) and evaluate its final model.

    :return: (value, seconds of training)
    """
    from sb3_behave.zoo import load_agent

    name = "ppo_reference" if queries is None else f"queries{queries}"
    folder = out / "logs" / f"{name}_seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    budget = [] if n_timesteps is None else ["-n", str(n_timesteps)]
    if queries is None:
        conf = out / "ppo_reference.yml"
        entry = {k: v for k, v in zoo_config(ALGO, env_id).items() if k not in NOT_PPO}
        entry.update(policy="MlpPolicy", n_timesteps=zoo_steps(ALGO, env_id))
        import yaml

        conf.write_text(yaml.safe_dump({env_id: entry}))
        algo, args = "ppo", ["-conf", str(conf)]
    else:
        algo, args = ALGO, ["-conf", str(ROOT / "zoo_configs" / f"{ALGO}.yml"), "-params", f"total_comparisons:{queries}"]
    command = ["train", "--algo", algo, "--env", env_id, *args, "--seed", str(seed), "--eval-freq", "-1", "-f", str(folder)]
    seconds = run_sb3_behave([*command, *budget], out, out / f"{name}_seed{seed}.log")
    model = load_agent(algo, env_id, folder=folder, exp_id=1, hub=False)
    return evaluate(model, env_id, episodes=10 if env_id == FLAPPY else 20, max_frames=10_000), seconds


def untrained(env_id: str, seed: int) -> float:
    """The floor: a fresh PPO policy of this seed, not trained at all, played deterministically."""
    from stable_baselines3 import PPO

    return evaluate(PPO("MlpPolicy", env_id, seed=seed), env_id, episodes=10 if env_id == FLAPPY else 20, max_frames=10_000)


def table(env_id: str, results: dict) -> str:
    unit = "score (pipes)" if env_id == FLAPPY else "return"
    steps = results["n_timesteps"] or zoo_steps(ALGO, env_id)
    lines = [
        f"Env: `{env_id}`. `sb3-behave train --algo {ALGO} -conf zoo_configs/{ALGO}.yml -params total_comparisons:N`, "
        f"{steps:,} env steps per run, preferences from the env's reward (synthetic). Final model, deterministic.",
        "",
        f"Command: `{results.get('command', 'python benchmarks/preference_queries.py')}`.",
        "",
        f"Machine and stack: {results['machine']}.",
        "",
        f"| preference queries | {unit}: mean ± std over seeds | per seed | training time per run |",
        "|---|---:|---|---:|",
    ]
    order = {"untrained": -1, "ppo_reference": 10**9}
    labels = {"untrained": "a fresh, untrained policy (floor)", "ppo_reference": "PPO on the env's reward (reference)"}
    for key in sorted(results["runs"], key=lambda k: order.get(k, int(k) if k.isdigit() else 0)):
        runs = results["runs"][key]
        values = np.array([r["value"] for r in runs])
        label = labels.get(key, key)
        per_seed = ", ".join(f"{v:.1f}" for v in values)
        seconds = np.mean([r["seconds"] for r in runs])
        lines.append(f"| {label} | {values.mean():.1f} ± {values.std():.1f} | {per_seed} | {seconds:.0f} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), required=True)
    parser.add_argument("--queries", nargs="+", type=int, default=[25, 100, 400], help="total_comparisons of each row")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--no-reference", dest="reference", action="store_false", help="skip the PPO reference row")
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/preference_queries"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "preference_queries")
    parser.add_argument("--n-timesteps", type=int, default=None, help="cut every run's budget: a quick check, not a result")
    args = parser.parse_args()

    from sb3_behave.stack import stack_name
    from sb3_behave.zoo.commands import import_env_namespace

    env_id = ENVS[args.env]
    import_env_namespace(env_id)  # seals/CartPole-v0: registered by seals
    out = args.out.resolve() / args.env / stack_name()
    out.mkdir(parents=True, exist_ok=True)
    results_file = args.results / args.env / stack_name() / "results.json"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results = json.loads(results_file.read_text()) if results_file.exists() else {"runs": {}}
    if results.get("n_timesteps") != args.n_timesteps and results["runs"]:
        sys.exit(
            f"preference_queries.py: error: {results_file} holds runs of --n-timesteps {results.get('n_timesteps')}, "
            f"not {args.n_timesteps}: give another --results, or remove it"
        )
    results.update(machine=machine(), n_timesteps=args.n_timesteps, command=" ".join(["python", *sys.argv]))
    floor = {r["seed"]: r for r in results["runs"].get("untrained", [])}
    for seed in args.seeds:
        if seed not in floor:
            floor[seed] = {"seed": seed, "value": untrained(env_id, seed), "seconds": 0.0}
    results["runs"]["untrained"] = [floor[k] for k in sorted(floor)]
    rows: list[int | None] = [*args.queries, *([None] if args.reference else [])]
    for queries in rows:
        key = "ppo_reference" if queries is None else str(queries)
        done = {r["seed"]: r for r in results["runs"].get(key, [])}
        for seed in args.seeds:
            if seed in done:  # a finished run is kept (the file is written after each run: a crash loses one run)
                print(f"{key} seed {seed}: {done[seed]['value']:.1f} (recorded earlier)", flush=True)
                continue
            value, seconds = train_and_evaluate(env_id, seed, queries, out, args.n_timesteps)
            done[seed] = {"seed": seed, "value": value, "seconds": round(seconds, 1)}
            results["runs"][key] = [done[k] for k in sorted(done)]
            print(f"{key} seed {seed}: {value:.1f} ({seconds:.0f} s)", flush=True)
            write_atomically(results_file, json.dumps(results, indent=2))
    text = table(env_id, results)
    write_atomically(results_file.parent / "table.md", text)
    print(text)


if __name__ == "__main__":
    main()
