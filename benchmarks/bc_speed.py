"""BC at the speed of the network: imitation's BC as sb3-behave ran it before and as it runs now, side by side.

    python benchmarks/bc_speed.py --before 3925ddd

Everything runs in one go on this machine, one command after the other (nothing else should run
meanwhile: these are wall times). "before" is the code of the revision ``--before``, checked out
into a git worktree and run from there (``PYTHONPATH``); "after" is this checkout.

- **The fitted Flappy Bird BC config**: ``sb3-behave train --algo bc --env sb3_behave/FlappyBird-v0
  -conf zoo_configs/bc.yml --eval-freq -1 --seed 0``, each code with its own config, and this code
  with the old config (what the code change alone gives). Demonstrations: 10 games of the steady
  expert (``record_demonstrations(..., seed=100)``, as ``flappy_bc_ablation.py`` records them). Each
  clone's mistakes are counted on the expert's own states (16 games of 5,000 frames, seeds 999..,
  none in the training set) and on its training set, and it plays 20 games of 10,000 frames.
- **The quickstart**: ``sb3-behave quickstart --overwrite`` with its defaults (what ``make demo``
  runs after the install), each code.

Results: ``--results/table.md`` and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import FLAPPY, ROOT, machine
from flappy_bc_ablation import expert_states, mistakes

from sb3_behave.outputs import write_text

RUN = "sb3_behave-FlappyBird-v0"


def run(command: list[str], cwd: Path, code: Path | None) -> tuple[float, str]:
    """Wall time and output of ``python -m sb3_behave.cli COMMAND`` with the code at ``code`` (None: this checkout)."""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    if code is not None:
        env["PYTHONPATH"] = str(code)  # ahead of the editable install of this checkout
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sb3_behave.cli", *command], cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`sb3-behave {' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def which_code(code: Path | None) -> str:
    """The folder ``import sb3_behave`` resolves to under ``code``: the benchmark checks it measures what it says."""
    env = dict(os.environ, PYTHONPATH=str(code)) if code is not None else None
    probe = [sys.executable, "-c", "import sb3_behave; print(sb3_behave.__file__)"]
    # from another folder than this checkout: Python puts the working folder first on the path
    out = subprocess.run(probe, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    return str(Path(out.stdout.strip()).parent.parent)


def bc_row(label: str, config: Path, code: Path | None, out: Path, held_out: np.ndarray, train: tuple) -> dict:
    from sb3_behave.envs import FlappyBirdExpert, evaluate_flappy_policy
    from sb3_behave.zoo import BC

    folder = out / label
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demos").mkdir(exist_ok=True)
    link = folder / "demos" / "flappy_strong"
    if not link.exists():
        link.symlink_to((out / "demos" / "strong").resolve())
    command = ["train", "--algo", "bc", "--env", FLAPPY, "-conf", str(config), "--eval-freq", "-1", "--seed", "0"]
    seconds, _ = run([*command, "-f", "logs"], folder, code)
    model = BC.load(folder / "logs" / "bc" / f"{RUN}_1" / f"{RUN}.zip")
    expert = FlappyBirdExpert.from_style("steady")
    import yaml

    entry = yaml.safe_load(config.read_text())[FLAPPY]
    return {
        "row": label,
        "code": which_code(code),
        "config": {k: entry[k] for k in ("n_timesteps", "batch_size", "learning_rate", "policy_kwargs")},
        "seconds": round(seconds, 1),
        "held_out": mistakes(model, expert, held_out),
        "training_set": mistakes(model, expert, *train),
        "score": evaluate_flappy_policy(model, games=20, max_frames=10_000)["score"],
    }


def quickstart_row(label: str, code: Path | None, out: Path) -> dict:
    seconds, stdout = run(["quickstart", "--out", str(out / f"quickstart_{label}"), "--overwrite"], out, code)
    scores = re.search(r"untrained ([\d.]+), after the warm start ([\d.]+), after fine-tuning ([\d.]+)", stdout)
    return {
        "row": label,
        "code": which_code(code),
        "seconds": round(seconds, 1),
        "scores": [float(x) for x in scores.groups()] if scores else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the git revision whose code is 'before'")
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/bc_speed"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "bc_speed")
    parser.add_argument("--skip-quickstart", action="store_true", help="only the BC rows")
    args = parser.parse_args()
    from sb3_behave.demos import load_demonstrations, record_demonstrations
    from sb3_behave.envs import FlappyBirdExpert

    args.out.mkdir(parents=True, exist_ok=True)
    demos = args.out / "demos" / "strong"
    if not demos.is_dir():
        record_demonstrations(FLAPPY, demos, episodes=10, skill="strong", seed=100, progress_bar=False)
    trajectories = load_demonstrations(demos, env=FLAPPY)
    train = (np.concatenate([t.obs[:-1] for t in trajectories]), np.concatenate([t.acts for t in trajectories]))
    held_out = expert_states(FlappyBirdExpert.from_style("steady"))

    with tempfile.TemporaryDirectory(prefix="sb3-behave-before-") as temporary:
        before = Path(temporary) / "code"
        add = ["git", "worktree", "add", "--detach", str(before), args.before]
        subprocess.run(add, cwd=ROOT, check=True, capture_output=True)
        try:
            old_config, new_config = before / "zoo_configs" / "bc.yml", ROOT / "zoo_configs" / "bc.yml"
            rows = []
            for label, config, code in (
                ("before", old_config, before),
                ("after", new_config, None),
                ("after, with the before config", old_config, None),
            ):
                rows.append(bc_row(label, config, code, args.out, held_out, train))
                print(json.dumps(rows[-1]), flush=True)
            quick = []
            if not args.skip_quickstart:
                for label, code in (("before", before), ("after", None)):
                    quick.append(quickstart_row(label, code, args.out))
                    print(json.dumps(quick[-1]), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)

    lines = [
        f"Command: `python benchmarks/bc_speed.py --before {args.before}`  ",
        f"Machine: {machine()}",
        "",
        "The fitted Flappy Bird BC config (`sb3-behave train --algo bc -conf zoo_configs/bc.yml --eval-freq -1`), "
        "10 games of the steady expert (seeds 100..109):",
        "",
        "| code | config | wall time (s) | errors per frame, expert's states | missed flaps, expert's states "
        "| errors per frame, training set | pipes (20 games) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c = r["config"]
        arch = "x".join(str(n) for n in c["policy_kwargs"]["net_arch"])
        config = f"{c['n_timesteps']:,} steps of {c['batch_size']}, {c['learning_rate']}, {arch}"
        lines.append(
            f"| {r['row']} | {config} | {r['seconds']:.0f} | {r['held_out']['errors_per_frame']:.1e} "
            f"| {100 * r['held_out']['missed_flaps']:.1f}% | {r['training_set']['errors_per_frame']:.1e} | {r['score']:.1f} |"
        )
    if quick:
        lines += ["", "`sb3-behave quickstart --overwrite` (what `make demo` runs after the install), its defaults:", ""]
        lines += ["| code | wall time (s) | pipes: untrained, after the warm start, after fine-tuning |", "|---|---:|---|"]
        for q in quick:
            lines.append(f"| {q['row']} | {q['seconds']:.0f} | {', '.join(f'{x:.1f}' for x in q['scores'] or [])} |")
    args.results.mkdir(parents=True, exist_ok=True)
    write_text(args.results / "results.json", json.dumps({"bc": rows, "quickstart": quick}, indent=2) + "\n")
    write_text(args.results / "table.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
