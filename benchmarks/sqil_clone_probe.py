"""SQIL started from a behavioural clone on Flappy Bird: does DQN's Q-network keep the clone?

    python benchmarks/sqil_clone_probe.py
    python benchmarks/sqil_clone_probe.py --variants raw level50 --steps 50000

SQIL trains DQN, whose policy is the greedy action of its Q-network; ``BCWarmStartCallback`` fits
actor-critic policies only. This probe clones the expert into the Q-network itself: the Q-values
are trained as the logits of a softmax policy (cross-entropy on the 10 demonstration games, the
same games as ``imitation_zoo.py``'s table), the target network is copied from it, and SQIL then
trains from there (``sqil.yml``'s Flappy Bird entry, with the changes each variant names). Every
``--eval-every`` env steps it measures, on 20,000 demonstration frames, how often the greedy action
is the expert's, the mean Q-value and the mean gap between the two actions' Q-values, and the
greedy policy's score in 5 whole games (10,000 frames at most, seeded).

``--measure FOLDER ...`` measures trained SQIL runs (the zoo's ``-f`` folders of ``imitation_zoo.py``,
``logs/sqil_seed0``) the same way on the same frames, without training anything.

A probe, not a shipped config: the clone did not survive SQIL in any variant tried (see
benchmarks/README.md). Results: ``--results/sqil_clone_probe/{results.json,table.md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
import yaml
from common import FLAPPY, ROOT, evaluate, machine, run_sb3_behave, write_atomically
from imitation_zoo import prepare
from stable_baselines3.common.callbacks import BaseCallback

#: Each variant: changes to ``sqil.yml``'s Flappy Bird entry, and the clone's fit (``epochs``, and
#: ``level``: the mean greedy Q-value on the demonstrations is moved to this by the output bias, or kept).
VARIANTS: dict[str, dict[str, Any]] = {
    "raw": {"dqn": {"exploration_initial_eps": 0.01, "exploration_final_eps": 0.01}, "epochs": 20, "level": None},
    "level50": {"dqn": {"exploration_initial_eps": 0.01, "exploration_final_eps": 0.01}, "epochs": 20, "level": 50.0},
    "explore": {
        "dqn": {"exploration_initial_eps": 0.1, "exploration_final_eps": 0.05, "exploration_fraction": 0.5},
        "epochs": 5,
        "level": 75.0,
    },
    "gamma95": {
        "dqn": {"gamma": 0.95, "exploration_initial_eps": 0.05, "exploration_final_eps": 0.02, "exploration_fraction": 0.5},
        "epochs": 5,
        "level": 15.0,
    },
    "slow": {
        "dqn": {
            "learning_rate": 1e-5,
            "exploration_initial_eps": 0.05,
            "exploration_final_eps": 0.02,
            "exploration_fraction": 0.5,
        },
        "epochs": 5,
        "level": 75.0,
    },
}


def shuffled_frames(trajectories: list, rng: np.random.Generator) -> tuple[th.Tensor, th.Tensor]:
    """The demonstrations' frames (observations and the expert's actions) in the order of one permutation drawn from ``rng``.

    The probe's callback and ``--measure`` both measure the first 20,000 of them, drawn with the same seed.
    """
    obs = np.concatenate([t.obs[:-1] for t in trajectories])
    acts = np.concatenate([t.acts for t in trajectories])
    order = rng.permutation(len(obs))
    return th.as_tensor(obs[order]), th.as_tensor(acts[order]).long()


class QNetworkClone(BaseCallback):
    """Clone the demonstrations into DQN's Q-network at the start of training; measure it every ``eval_every`` steps.

    :param demonstrations: the demonstration folder
    :param log: a JSON-lines file, one measurement a line
    :param epochs: epochs of cross-entropy on the Q-values (batch 256, Adam 1e-3)
    :param level: the mean greedy Q-value on the demonstrations after the fit (the output bias moves it), or None
    :param eval_every: env steps between measurements
    :param seed: seed of the fit's batches and of the measured frames
    """

    def __init__(
        self,
        demonstrations: str,
        log: str,
        epochs: int = 20,
        level: float | None = None,
        eval_every: int = 25_000,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.demonstrations, self.log, self.epochs, self.level = demonstrations, Path(log), epochs, level
        self.eval_every, self.seed = eval_every, seed
        self._next = 0
        self._obs = self._acts = th.zeros(0)

    def _measure(self) -> None:
        q_net = self.model.policy.q_net
        with th.no_grad():
            q = q_net(self._obs[:20_000])
        score = evaluate(self.model, FLAPPY, episodes=5, max_frames=10_000, seed=777)
        row = {"step": self.num_timesteps, "score": score, **q_statistics(q, self._acts[:20_000])}
        print(f"[sqil_clone_probe] {json.dumps(row)}", flush=True)
        with self.log.open("a") as file:
            file.write(json.dumps(row) + "\n")

    def _on_training_start(self) -> None:
        from sb3_behave.demos.storage import load_demonstrations

        trajectories = load_demonstrations(self.demonstrations, env=self.model.get_env())
        rng = np.random.default_rng(self.seed)
        policy = self.model.policy
        obs, acts = shuffled_frames(trajectories, rng)
        self._obs, self._acts = obs.to(policy.device), acts.to(policy.device)
        optimizer = th.optim.Adam(policy.q_net.parameters(), lr=1e-3)
        for _ in range(self.epochs):
            for batch in th.as_tensor(rng.permutation(len(obs))).split(256):
                loss = th.nn.functional.cross_entropy(policy.q_net(self._obs[batch]), self._acts[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        if self.level is not None:
            with th.no_grad():
                greedy = policy.q_net(self._obs[:20_000]).max(1).values.mean()
                output = [m for m in policy.q_net.q_net if isinstance(m, th.nn.Linear)][-1]
                output.bias.add_(self.level - float(greedy))
        policy.q_net_target.load_state_dict(policy.q_net.state_dict())
        self._measure()
        self._next = self.eval_every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.eval_every
            self._measure()
        return True


def q_statistics(q: th.Tensor, acts: th.Tensor) -> dict[str, float]:
    """How a Q-network's greedy action agrees with the expert's (``acts``), and the size of its Q-values."""
    greedy = q.argmax(1)
    return {
        "agrees": float((greedy == acts).float().mean()),
        "agrees_flap": float((greedy[acts == 1] == 1).float().mean()),
        "agrees_glide": float((greedy[acts == 0] == 0).float().mean()),
        "q_mean": float(q.mean()),
        "gap": float((q.max(1).values - q.min(1).values).mean()),
    }


def measure_runs(folders: list[Path], out: Path, seed: int) -> str:
    """:func:`q_statistics` of the final model of each SQIL run folder, on the probe's 20,000 demonstration frames."""
    import gymnasium as gym

    from sb3_behave.demos.storage import load_demonstrations
    from sb3_behave.zoo import load_agent

    trajectories = load_demonstrations(out / "demos" / "flappy_strong", env=gym.make(FLAPPY))
    obs, acts = shuffled_frames(trajectories, np.random.default_rng(seed))
    obs_t, acts_t = obs[:20_000], acts[:20_000]
    lines = [
        f"SQIL runs measured on 20,000 demonstration frames (the expert flaps in {acts.float().mean():.1%} of its frames):",
        "",
        "| run | greedy = expert | on flap frames | on glide frames | mean Q | mean gap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for folder in folders:
        model = load_agent("sqil", FLAPPY, folder=folder, exp_id=0, hub=False)
        with th.no_grad():
            row = q_statistics(model.policy.q_net(obs_t), acts_t)
        lines.append(
            f"| {folder} | {row['agrees']:.3f} | {row['agrees_flap']:.3f} | {row['agrees_glide']:.3f} "
            f"| {row['q_mean']:.1f} | {row['gap']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def run_variant(name: str, out: Path, steps: int, eval_every: int, seed: int) -> tuple[list[dict], float]:
    """Train SQIL from the clone with one variant's settings; its measurements and seconds."""
    variant = VARIANTS[name]
    entry = yaml.safe_load((ROOT / "sb3_behave" / "zoo_configs" / "sqil.yml").read_text())[FLAPPY]
    log = out / "probe" / f"{name}_seed{seed}.jsonl"
    log.unlink(missing_ok=True)
    entry.update(variant["dqn"], n_timesteps=steps)
    clone = {"demonstrations": "demos/flappy_strong", "log": str(log), "epochs": variant["epochs"], "level": variant["level"]}
    entry["callback"] = [{"sqil_clone_probe.QNetworkClone": {**clone, "eval_every": eval_every, "seed": seed}}]
    config = out / "probe" / f"{name}.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump({FLAPPY: entry}))
    folder = out / "probe" / f"{name}_seed{seed}"
    command = ["train", "--algo", "sqil", "--env", FLAPPY, "-conf", str(config), "--seed", str(seed), "--eval-freq", "-1"]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    train_log = out / "probe" / f"{name}_seed{seed}.log"
    seconds = run_sb3_behave([*command, "-f", str(folder), "--vec-env", "flappy"], out, train_log)
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    if not rows:
        raise RuntimeError(f"{name}: no measurement (see {train_log})")
    return rows, seconds


def table(results: dict) -> str:
    lines = [
        "SQIL from a clone of the demonstrations in its Q-network (`python benchmarks/sqil_clone_probe.py`), "
        f"seed {results['seed']}, {results['steps']:,} env steps.",
        "",
        f"Machine: {results['machine']}.",
        "",
        "Each cell: greedy score in 5 games (pipes) / greedy action = the expert's on 20,000 demonstration frames / "
        "mean |Q(s, flap) - Q(s, glide)| / mean Q.",
        "",
        "| variant | changes to `sqil.yml` | " + " | ".join(f"step {s:,}" for s in results["steps_measured"]) + " |",
        "|---|---|" + "---|" * len(results["steps_measured"]),
    ]
    for name, run in results["variants"].items():
        changes = ", ".join(f"{k} {v}" for k, v in VARIANTS[name]["dqn"].items())
        changes += f"; clone {VARIANTS[name]['epochs']} epochs" + (
            "" if VARIANTS[name]["level"] is None else f", Q level {VARIANTS[name]['level']:g}"
        )
        cells = [f"{r['score']:.1f} / {r['agrees']:.3f} / {r['gap']:.2f} / {r['q_mean']:.1f}" for r in run["rows"]]
        lines.append(f"| {name} | {changes} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=50_000, help="env steps of SQIL after the clone")
    parser.add_argument("--eval-every", type=int, default=25_000, help="env steps between measurements")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmark_runs/imitation_zoo/flappy/current"),
        help="runs and demos (imitation_zoo.py's, shared)",
    )
    parser.add_argument("--measure", type=Path, nargs="+", help="only measure these trained SQIL run folders")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    out = args.out.resolve()
    prepare("flappy", out)
    if args.measure:
        report = measure_runs(args.measure, out, args.seed)
        write_atomically(args.results / "sqil_clone_probe" / "runs.md", report)
        print(report)
        return
    results: dict[str, Any] = {"machine": machine(), "seed": args.seed, "steps": args.steps, "variants": {}}
    for name in args.variants:
        start = time.time()
        rows, seconds = run_variant(name, out, args.steps, args.eval_every, args.seed)
        results["variants"][name] = {"rows": rows, "seconds": round(seconds, 1)}
        print(f"{name}: {rows[-1]['score']:.1f} pipes at {rows[-1]['step']:,} steps ({time.time() - start:.0f} s)", flush=True)
    results["steps_measured"] = [r["step"] for r in next(iter(results["variants"].values()))["rows"]]
    folder = args.results / "sqil_clone_probe"
    write_atomically(folder / "results.json", json.dumps(results, indent=1))
    write_atomically(folder / "table.md", table(results))
    print(table(results))


if __name__ == "__main__":
    main()
