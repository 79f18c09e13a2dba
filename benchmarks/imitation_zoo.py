"""imitation's algorithms trained by the RL Zoo (``sb3-behave train``) from zoo_configs/, 3 seeds each.

    python benchmarks/imitation_zoo.py --env cartpole --seeds 0 1 2
    python benchmarks/imitation_zoo.py --env cartpole --algos airl_bc_warm_start airl_bc_warm_start_clone
    python benchmarks/imitation_zoo.py --env flappy --seeds 0 1 2 --algos bc dagger gail airl valuedice \
        gail_bc_warm_start gail_bc_warm_start_clone --budget gail=2000000 --budget airl=2000000
    python benchmarks/imitation_zoo.py --env pendulum --algos bc sqil gail --budget gail=200000

Each run is exactly what a user types: ``sb3-behave train --algo <algo> --env <env> -conf
zoo_configs/<algo>.yml --seed <k>`` (run from ``--out``, so the configs' relative demonstration
paths resolve there), with ``--vec-env flappy`` on Flappy Bird (the same training, to the bit, as
the zoo's ``DummyVecEnv``, and faster). The final model is then evaluated on fresh seeded episodes:

- CartPole-v1: mean return of 20 deterministic episodes. The expert is PPO trained by
  ``zoo_configs/ppo.yml`` (seed 0); the demonstrations are 10 of its episodes.
- sb3_behave/FlappyBird-v0 (features): mean score (pipes) of 20 deterministic whole games
  (10,000 frames). The expert is the steady scripted one (``--skill strong``); the
  demonstrations are 10 of its games.
- Pendulum-v1: mean return of 20 deterministic episodes. The expert is SAC trained by
  ``zoo_configs/sac_experts.yml`` (seed 0); the demonstrations are 10 of its episodes. Returns
  are negative, so the share of the expert is ``(return - random) / (expert - random)``, with
  the mean return of uniformly random actions as ``random``.

``--budget ALGO=N`` cuts one algorithm's budget (the zoo's ``-n``); the table's budget column
says what each row ran. A row can also be another config of an algorithm (``VARIANTS``):
``gail_bc_warm_start`` (Flappy Bird) and ``airl_bc_warm_start`` (CartPole-v1) train from
``zoo_configs/<row>.yml``, whose generator starts from a behavioural clone, and
``<row>_clone`` is that clone alone (the same command with ``-n 1``: the warm start runs, no
round does), so the table shows what GAIL or AIRL added.

``--demo-seed K`` records the demonstrations from seed ``K`` (the table's: 100) and ``--eval-seed
M`` evaluates on episodes from seed ``M``: the runs and results then go to folders of their own,
``<env>_demos<K>_eval<M>``, so that a row can be checked on demonstrations and evaluation games
its config was never tuned on. ``--dart SIGMA`` records them with DART noise (``record-demos
--dart``: the env plays another action than the expert's with probability ``SIGMA``, the expert's
action is recorded), in ``..._dart<SIGMA>`` folders.

Results go to ``--results/<env>/<stack>/results.json`` and a Markdown table to
``--results/<env>/<stack>/table.md``, where ``<stack>`` is the installed dependency stack
(``current`` or ``pinned``, see ``python -m sb3_behave.stack``); runs go to ``--out/<env>/<stack>``.

On many machines (docs/guide/many_machines.md), give every worker the
same ``--storage`` and ``--study-name``: each (algorithm, seed) is then a trial of that Optuna study,
queued once; every worker takes the next pending one until none is left, a killed worker's cell is
run again by another, and the table is made from the study's results (``--table-only`` makes it
without running anything)::

    python benchmarks/imitation_zoo.py --env cartpole --seeds 0 1 2 \
        --storage postgresql://USER:PASSWORD@HOST:5432/DB --study-name imitation-cartpole
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from common import FLAPPY, ROOT, evaluate, random_agent, run_sb3_behave, write_atomically, zoo_steps

ENVS = {"cartpole": "CartPole-v1", "flappy": FLAPPY, "pendulum": "Pendulum-v1"}
ALGOS = ("bc", "dagger", "gail", "airl", "sqil", "density", "valuedice")
#: Rows that train an algorithm from another of its configs (``zoo_configs/<row>.yml``): the row's name
#: -> its algorithm. They start the generator from a behavioural clone (``BCWarmStartCallback``);
#: preference comparisons has no row of its own (its answers come from the env's reward, not from demonstrations).
VARIANTS = {
    "gail_bc_warm_start": "gail",
    "airl_bc_warm_start": "airl",
    "preference_comparisons_bc_warm_start": "preference_comparisons",
    "density_bc_warm_start": "density",
}
#: ``<variant>_clone``: the variant's clone alone, the same run with ``-n 1`` (stopped before the first round).
CLONE = "_clone"
ROWS = (*ALGOS, *(row for variant in VARIANTS for row in (variant, variant + CLONE)))
#: The goals, as a share (%) of the expert: CartPole-v1's four first algorithms, and on Flappy Bird
#: those of the issue "Every learner in the table flies the bird" (GAIL from scratch within 5M env
#: steps; AIRL from scratch or from a clone; density, preference comparisons and SQIL as well).
GOALS = {
    "cartpole": {"bc": 90, "dagger": 90, "gail": 90, "airl": 90, "airl_bc_warm_start": 90},
    "flappy": {
        "bc": 80,
        "dagger": 90,
        "gail": 50,
        "airl": 50,
        "density": 25,
        "gail_bc_warm_start": 90,
        "airl_bc_warm_start": 50,
        "preference_comparisons_bc_warm_start": 50,
        "density_bc_warm_start": 25,
        "sqil": 50,
    },
}


#: The seed of the first recorded demonstration episode (the table's demonstrations).
DEMO_SEED = 100


def prepare(
    env_key: str,
    out: Path,
    n_timesteps: int | None = None,
    demo_seed: int = DEMO_SEED,
    eval_seed: int | None = None,
    dart: float | None = None,
) -> dict:
    """The expert, its demonstrations (in the configs' paths) and the expert's evaluation.

    Workers that share ``out`` prepare it one at a time (a lock file), so the second one reuses it.

    :param demo_seed: the seed of the first demonstration episode (``record-demos --seed``)
    :param eval_seed: the seed of the first evaluation episode (None: :func:`common.evaluate`'s default)
    :param dart: record the demonstrations with DART noise of this level (``record-demos --dart``)
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "prepare.lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        return _prepare(env_key, out, n_timesteps, demo_seed, eval_seed, dart)


def _prepare(
    env_key: str, out: Path, n_timesteps: int | None, demo_seed: int, eval_seed: int | None, dart: float | None
) -> dict:
    noise = [] if dart is None else ["--dart", str(dart)]
    if not (out / "zoo_configs").exists():
        (out / "zoo_configs").symlink_to(ROOT / "zoo_configs")
    if env_key in ("cartpole", "pendulum"):
        return _prepare_trained_expert(ENVS[env_key], out, n_timesteps, demo_seed, eval_seed, noise)
    if not (out / "demos" / "flappy_strong").is_dir():
        record = ["record-demos", "--skill", "strong", "--episodes", "10", "--out", "demos/flappy_strong"]
        run_sb3_behave([*record, "--seed", str(demo_seed), *noise], out, out / "record.log")
    from sb3_behave.envs import FlappyBirdExpert

    expert = evaluate(FlappyBirdExpert.from_style("steady"), FLAPPY, episodes=20, max_frames=10_000, seed=eval_seed)
    return {
        "expert": "the steady scripted expert (`--skill strong`)",
        "expert_value": expert,
        "demos": "10 games of the expert (100,000 frames)",
    }


#: The trained expert of each env: (algorithm, its zoo config, the demonstrations folder the configs name).
TRAINED_EXPERTS = {
    "CartPole-v1": ("ppo", "zoo_configs/ppo.yml", "demos/cartpole_ppo"),
    "Pendulum-v1": ("sac", "zoo_configs/sac_experts.yml", "demos/pendulum_sac"),
}


def _prepare_trained_expert(
    env_id: str,
    out: Path,
    n_timesteps: int | None,
    demo_seed: int = DEMO_SEED,
    eval_seed: int | None = None,
    noise: list[str] | None = None,
) -> dict:
    algo, config, demos = TRAINED_EXPERTS[env_id]
    expert_run = out / "logs" / algo / f"{env_id}_1"
    if not (expert_run / f"{env_id}.zip").is_file():
        command = ["train", "--algo", algo, "--env", env_id, "-conf", config, "--seed", "0", "--eval-freq", "-1"]
        run_sb3_behave([*command, *steps_option(n_timesteps)], out, out / "expert.log")
    if not (out / demos).is_dir():
        command = ["record-demos", "--env", env_id, "--expert", str(expert_run), "--episodes", "10", "--out", demos]
        run_sb3_behave([*command, "--seed", str(demo_seed), *(noise or [])], out, out / "record.log")
    results = {
        "expert": f"{algo.upper()} ({config}, seed 0)",
        "expert_value": evaluate_run(algo, env_id, out / "logs", exp_id=1, seed=eval_seed),
        "demos": "10 episodes of the expert",
    }
    if env_id == "Pendulum-v1":  # negative returns: the share of the expert is measured from the random floor
        results["random_value"] = evaluate(random_agent(env_id), env_id, episodes=20, seed=eval_seed)
    return results


def evaluate_run(algo: str, env_id: str, folder: Path, exp_id: int, seed: int | None = None) -> float:
    """Mean return of 20 episodes, or on Flappy Bird mean score of 20 whole games (10,000 frames), of the run's final model.

    :param seed: the seed of the first episode (None: :func:`common.evaluate`'s default)
    """
    from sb3_behave.zoo import load_agent

    model = load_agent(algo, env_id, folder=folder, exp_id=exp_id, hub=False)
    return evaluate(model, env_id, episodes=20, max_frames=10_000, seed=seed)


def steps_option(n_timesteps: int | None) -> list[str]:
    """The zoo's ``-n`` when ``--n-timesteps`` cuts the configs' budgets (a quick check, not a result)."""
    return [] if n_timesteps is None else ["-n", str(n_timesteps)]


def config_steps(algo: str, env_id: str, n_timesteps: int | None = None) -> tuple[int, str]:
    steps = zoo_steps(algo, env_id) if n_timesteps is None else n_timesteps
    return steps, ("gradient steps, 0 env steps" if algo == "bc" else "env steps")


def is_clone(row: str) -> bool:
    """Whether ``row`` is a :data:`VARIANTS` row's clone alone (``<variant>_clone``)."""
    return row.endswith(CLONE) and row.removesuffix(CLONE) in VARIANTS


def row_config(row: str) -> tuple[str, str]:
    """``(algorithm, config name)`` of a row: an algorithm's own config, a variant's, or its clone's (the variant's)."""
    name = row.removesuffix(CLONE) if is_clone(row) else row
    return VARIANTS.get(name, name), name


def budget_text(row: str, env_id: str, n_timesteps: int | None = None) -> str:
    """The table's budget column for ``row`` (an algorithm, a :data:`VARIANTS` row or its clone) run with ``n_timesteps``."""
    if is_clone(row):
        return "the warm start alone (`-n 1`: no round)"
    algo, name = row_config(row)
    steps, unit = config_steps(name, env_id, n_timesteps)
    return f"{steps:,} {unit}" + ("" if name == algo else f" (`zoo_configs/{name}.yml`)")


def row_budget(row: str, budgets: dict[str, int], n_timesteps: int | None) -> int | None:
    """The zoo's ``-n`` for ``row``: 1 for a clone row, else ``--budget``'s, else ``--n-timesteps``."""
    return 1 if is_clone(row) else budgets.get(row, n_timesteps)


def train_row(
    row: str, env_id: str, seed: int, out: Path, n_timesteps: int | None = None, eval_seed: int | None = None
) -> tuple[float, float]:
    """:func:`train_and_evaluate` for a row of the table, from its config (:func:`row_config`)."""
    algo, name = row_config(row)
    return train_and_evaluate(algo, env_id, seed, out, n_timesteps, config=f"zoo_configs/{name}.yml", eval_seed=eval_seed)


def finished_run(folder: Path, algo: str, env_id: str) -> int | None:
    """The run number ``N`` of the zoo's ``folder/<algo>/<env>_N`` that holds its final model (the latest such), or None."""
    name = env_id.replace("/", "-")
    numbers = [
        int(run.name.rsplit("_", 1)[1])
        for run in (folder / algo).glob(f"{name}_*")
        if run.name.rsplit("_", 1)[1].isdigit() and (run / f"{name}.zip").is_file()
    ]
    return max(numbers, default=None)


def train_and_evaluate(
    algo: str,
    env_id: str,
    seed: int,
    out: Path,
    n_timesteps: int | None = None,
    config: str | None = None,
    eval_seed: int | None = None,
) -> tuple[float, float]:
    """Train ``algo`` with seed ``seed`` (unless its run is already there) and evaluate the run's final model.

    A run folder without a final model (its worker was killed) is removed first, so the run is
    trained afresh into ``<env>_1`` and that run is evaluated.

    :param config: the zoo config (default ``zoo_configs/<algo>.yml``); another one gets its own run folders
    :param eval_seed: the seed of the first evaluation episode (None: :func:`common.evaluate`'s default)
    :return: (value, seconds of training; NaN when the run was already there)
    """
    config = config or f"zoo_configs/{algo}.yml"
    label = Path(config).stem if Path(config).stem != algo else algo
    # A run of another budget or config is another folder, so it is never taken for this one.
    folder = out / "logs" / (f"{label}_seed{seed}" + ("" if n_timesteps is None else f"_n{n_timesteps}"))
    seconds = float("nan")
    run = finished_run(folder, algo, env_id)
    if run is None:
        shutil.rmtree(folder, ignore_errors=True)  # a killed run's leftovers
        seconds = run_sb3_behave(
            [
                "train",
                "--algo",
                algo,
                "--env",
                env_id,
                "-conf",
                config,
                "--seed",
                str(seed),
                "--eval-freq",
                "-1",
                "-f",
                str(folder),
                *steps_option(n_timesteps),
                *(["--vec-env", "flappy"] if env_id == FLAPPY else []),  # the same training as dummy, faster
            ],
            out,
            out / f"{folder.name}.log",
        )
        run = finished_run(folder, algo, env_id)
        if run is None:
            raise RuntimeError(f"{folder}: sb3-behave train ended without a final model ({out / f'{algo}_seed{seed}.log'})")
    return evaluate_run(algo, env_id, folder, exp_id=run, seed=eval_seed), seconds


def took(seconds: float | None) -> str:
    """``(12 s)``, or ``(run already there)`` for a run trained earlier (no time: NaN or None)."""
    return "(run already there)" if seconds is None or seconds != seconds else f"({seconds:.0f} s)"


def table(env_key: str, results: dict) -> str:
    env_id = ENVS[env_key]
    unit = "score (pipes)" if env_id == FLAPPY else "return"
    expert, floor = results["expert_value"], results.get("random_value", 0.0)
    lines = [
        f"Env: `{env_id}`. Expert: {results['expert']}, {unit} {expert:.1f}. Demonstrations: {results['demos']}.",
        "",
        *(
            [f"Demonstrations from seed {results['demo_seed']}, evaluation episodes from seed {results['eval_seed']}.", ""]
            if "demo_seed" in results
            else []
        ),
        *(
            [f"Demonstrations recorded with DART noise {results['dart']} (`record-demos --dart`).", ""]
            if results.get("dart")
            else []
        ),
        f"Stack: {results['stack']}.",
        "",
    ]
    cells = results.get("cells")
    if cells and (cells["pending"] or cells["running"] or cells["failed"]):
        lines += [
            f"**Partial**: {cells['done']} cell(s) done, {cells['pending']} pending, {cells['running']} running, "
            f"{cells['failed']} failed (retries spent) when this table was written: run the workers again "
            "(or `--table-only` once they are done) for the whole table.",
            "",
        ]
    if "random_value" in results:
        lines += [f"Uniformly random actions: {unit} {floor:.1f}. % of expert = (value - random) / (expert - random).", ""]
    lines += [
        f"| algorithm | {unit}: mean ± std over seeds | per seed | % of expert | goal | budget |",
        "|---|---:|---|---:|---|---|",
    ]
    for algo in ROWS:
        runs = results["runs"].get(algo)
        if not runs:
            continue
        values = np.array([r["value"] for r in runs])
        share = 100 * (values.mean() - floor) / (expert - floor)
        target = GOALS.get(env_key, {}).get(algo)
        goal = "no goal" if target is None else f"≥ {target}%: " + ("met" if share >= target else "**missed**")
        budgets = {r.get("budget", results.get("budgets", {}).get(algo, results.get("n_timesteps"))) for r in runs}
        if len(budgets) > 1:
            raise ValueError(f"{algo}: its seeds ran with different budgets ({budgets}): run them again with one")
        per_seed = ", ".join(f"{v:.1f}" for v in values)
        lines.append(
            f"| {algo} | {values.mean():.1f} ± {values.std():.1f} | {per_seed} | {share:.0f}% | {goal} | "
            f"{budget_text(algo, env_id, budgets.pop())} |"
        )
    return "\n".join(lines) + "\n"


def shared_benchmark(args: argparse.Namespace, env_id: str, stack: str, out: Path, results_file: Path) -> None:
    """The cells (algorithm, env, seed) as trials of a study that any number of workers share.

    With ``--table-only``, the study is only read (:func:`sb3_behave.zoo.study_report.load_study`): nothing
    is created or written in the storage.
    """
    from sb3_behave.stack import describe
    from sb3_behave.zoo.cells import cell_progress, cell_results, queue_cells, run_cells
    from sb3_behave.zoo.storage import study_lock
    from sb3_behave.zoo.study import SharedStudy
    from sb3_behave.zoo.study_report import load_study

    if args.table_only:
        try:
            study = load_study(args.storage, args.study_name)
        except ValueError as error:
            sys.exit(f"imitation_zoo.py: error: {error}")
    else:
        shared = SharedStudy(args.storage, args.study_name, queued_only=True)
        cells = [
            {"algo": a, "env": env_id, "seed": s, "stack": stack, "budget": row_budget(a, args.budgets, args.n_timesteps)}
            for a in args.algos
            for s in args.seeds
        ]
        print(f"{queue_cells(shared, cells)} of {len(cells)} cells queued in study {args.study_name!r}", flush=True)
        setup = prepare(args.env, out, args.n_timesteps, args.demo_seed, args.eval_seed, args.dart)
        with study_lock(shared.storage):
            if "expert_value" not in shared.study.user_attrs:
                for key in ("expert", "expert_value", "demos", "random_value"):
                    if key in setup:
                        shared.study.set_user_attr(key, setup[key])
                shared.study.set_user_attr("n_timesteps", args.n_timesteps)

        def run_cell(cell: dict) -> float:
            value, seconds = train_row(cell["algo"], env_id, int(cell["seed"]), out, cell.get("budget"), args.eval_seed)
            print(f"{cell['algo']} seed {cell['seed']}: {value:.1f} {took(seconds)}", flush=True)
            return value

        print(f"this worker ran {run_cells(shared, run_cell)} cell(s)", flush=True)
        shared.close()
        study = shared.study
    attrs = study.user_attrs
    if "expert_value" not in attrs:
        sys.exit(
            f"imitation_zoo.py: error: study {args.study_name!r} holds no benchmark yet: run workers without --table-only"
        )
    results = {key: attrs[key] for key in ("expert", "expert_value", "demos", "n_timesteps", "random_value") if key in attrs}
    results.update(stack=describe(), study=args.study_name, runs={})
    if args.demo_seed != DEMO_SEED or args.eval_seed is not None:
        results.update(demo_seed=args.demo_seed, eval_seed=args.eval_seed)
    if args.dart is not None:
        results["dart"] = args.dart
    results["cells"] = cell_progress(study, lambda cell: cell.get("env") == env_id and cell.get("stack") == stack)
    for row in sorted(cell_results(study), key=lambda r: (r["algo"], r["seed"])):
        if row["env"] == env_id and row["stack"] == stack:
            results["runs"].setdefault(row["algo"], []).append(
                {"seed": row["seed"], "value": row["value"], "seconds": row["seconds"], "host": row["host"]}
                | {"budget": row.get("budget", attrs.get("n_timesteps"))}
            )
    text = table(args.env, results)
    write_atomically(results_file, json.dumps(results, indent=2))
    write_atomically(results_file.parent / "table.md", text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(ENVS), required=True)
    parser.add_argument(
        "--algos", nargs="+", choices=ROWS, default=list(ALGOS), help="the rows: algorithms, or configs of them (VARIANTS)"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--demo-seed",
        type=int,
        default=DEMO_SEED,
        help=f"seed of the first demonstration episode (default {DEMO_SEED}, the table's); another: its own runs and results",
    )
    parser.add_argument(
        "--dart",
        type=float,
        default=None,
        metavar="SIGMA",
        help="record the demonstrations with DART noise SIGMA (record-demos --dart); its own runs and results",
    )
    parser.add_argument(
        "--eval-seed",
        type=int,
        default=None,
        help="seed of the first evaluation episode (default: 12,345 on Flappy Bird, 10,000 elsewhere); "
        "given, the runs and results get their own folders",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/imitation_zoo"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "imitation_zoo")
    parser.add_argument("--storage", default=None, help="share the cells with other workers through this Optuna storage")
    parser.add_argument("--study-name", default=None, help="the study the workers share (with --storage)")
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="run nothing: write table.md again from the study (with --storage) or from the results.json",
    )
    parser.add_argument(
        "--n-timesteps", type=int, default=None, help="cut every run's budget (the zoo's -n): a quick check, not a result"
    )
    parser.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="ALGO=N",
        help="cut one algorithm's budget to N steps (the zoo's -n); the table says so; repeatable",
    )
    args = parser.parse_args()
    args.budgets = {}
    for item in args.budget:
        algo, _, steps = item.partition("=")
        if algo not in ROWS or not steps.isdigit():
            parser.error(f"--budget {item!r}: expected ALGO=N with ALGO one of {', '.join(ROWS)} and N a whole number")
        args.budgets[algo] = int(steps)
    if (args.storage is None) != (args.study_name is None):
        parser.error("--storage and --study-name go together")

    from sb3_behave.stack import describe, stack_name

    env_id = ENVS[args.env]
    stack = stack_name()
    # Other demonstrations or evaluation episodes than the table's: their own runs and results.
    other_seeds = args.demo_seed != DEMO_SEED or args.eval_seed is not None
    if other_seeds and args.eval_seed is None:  # named in the folder and the table: the default, as common.evaluate takes it
        args.eval_seed = 12_345 if env_id == FLAPPY else 10_000
    folder = f"{args.env}_demos{args.demo_seed}_eval{args.eval_seed}" if other_seeds else args.env
    folder += "" if args.dart is None else f"_dart{args.dart}"
    out = args.out.resolve() / folder / stack
    results_file = args.results / folder / stack / "results.json"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.storage is not None:
        shared_benchmark(args, env_id, stack, out, results_file)
        return
    if args.table_only:
        if not results_file.exists():
            sys.exit(f"imitation_zoo.py: error: {results_file}: no results to make a table from")
        text = table(args.env, json.loads(results_file.read_text()))
        write_atomically(results_file.parent / "table.md", text)
        print(text)
        return
    results = json.loads(results_file.read_text()) if results_file.exists() else {"runs": {}}
    results["stack"] = describe()
    results["n_timesteps"] = args.n_timesteps
    setup = prepare(args.env, out, args.n_timesteps, args.demo_seed, args.eval_seed, args.dart)
    results.update(setup)
    if other_seeds:
        results.update(demo_seed=args.demo_seed, eval_seed=args.eval_seed)
    if args.dart is not None:
        results["dart"] = args.dart
    print(f"expert: {setup['expert']}: {setup['expert_value']:.1f}")
    for algo in args.algos:
        runs = {r["seed"]: r for r in results["runs"].get(algo, [])}
        for seed in args.seeds:
            budget = row_budget(algo, args.budgets, args.n_timesteps)
            value, seconds = train_row(algo, env_id, seed, out, budget, args.eval_seed)
            if seconds != seconds:  # not run again: keep the recorded time
                seconds = runs.get(seed, {}).get("seconds", float("nan"))
            runs[seed] = {"seed": seed, "value": value, "seconds": round(seconds, 1), "budget": budget}
            print(f"{algo} seed {seed}: {value:.1f} {took(seconds)}", flush=True)
        results["runs"][algo] = [runs[s] for s in sorted(runs)]
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(results, indent=2))
    text = table(args.env, results)
    (results_file.parent / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
