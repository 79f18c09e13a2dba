"""Why online ValueDICE falls on Flappy Bird: nu and the actor measured along training, one setting at a time.

    python benchmarks/valuedice_diagnosis.py 0.1.0 0 --steps 10000
    python benchmarks/valuedice_diagnosis.py 0.1.0 0 --steps 10000 initial_states=expert absorbing_loops=10
    python benchmarks/valuedice_diagnosis.py paper 0 --steps 8000
    python benchmarks/valuedice_diagnosis.py table --out benchmark_runs/valuedice_diagnosis
    python benchmarks/valuedice_diagnosis.py plot --runs 0.1.0 paper --out benchmark_runs/valuedice_diagnosis

Demonstrations: the 10 games of the steady expert that benchmarks/imitation_zoo.py records
(``record-demos --skill strong --episodes 10 --seed 100``; recorded into ``--out`` on first use).
Settings: ``0.1.0`` is the Flappy Bird entry of ``zoo_configs/valuedice.yml`` with the defaults of
sb3-behave 0.1.0 (the settings that fell: 1 absorbing loop per termination, the demonstrations'
first states as initial states); ``shipped`` is today's entry; ``paper`` is ``ValueDICE.PAPER``
(the paper code's settings). ``KEY=VALUE`` pairs override any of them (values are read as YAML
scalars, so ``5``, ``1e-5``, ``true``, ``expert``). ``table`` writes the Markdown table of the
runs in ``--out`` to ``--out/table.md``; ``plot`` draws ``--runs`` to ``--out/diagnosis.png``.

Every ``--every`` env steps, on 2,000 fixed expert transitions and 2,000 transitions drawn from the
replay buffer, the script records:

- ``nu_expert``: nu(s, a) at the expert's (s, a); ``nu_expert_other``: nu at the action the expert
  did not take; ``nu_replay``: nu(s, a) on replay (s, a); ``nu_absorbing``: nu at the absorbing state;
- ``diff_expert`` / ``diff_replay``: the Bellman residuals ``nu - gamma E_pi nu(s', .)`` (the log
  ratio estimate; the absorbing loop's is ``(1 - gamma) nu_absorbing``);
- ``flap_expert``: the actor's mean flap probability on expert states (the expert flaps in
  ``expert_flap_rate`` of them); ``recall_flap`` / ``recall_glide``: how often the actor's most
  probable action is the expert's, on the expert's flap frames and on its glide frames;
- ``flap_replay``: the actor's flap probability on replay states; ``absorbing_fraction``;
- the score (pipes) over 10 games of at most 2,000 frames, and their mean length in frames.

At the end, the model is scored as ``benchmarks/imitation_zoo.py`` scores its rows (``zoo_score``:
20 games of at most 10,000 frames, where the expert passes 249 pipes) and saved.

Results: ``--out/<name>_seed<k>.json``, written after each point (nothing lost on a crash), and the
model, ``--out/<name>_seed<k>.zip``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from pathlib import Path

import numpy as np
import torch as th
import yaml
from common import FLAPPY, evaluate, machine, write_atomically, zoo_config
from stable_baselines3.common.callbacks import BaseCallback

EXPERT_SAMPLE = 2_000
#: The Flappy Bird entry as sb3-behave 0.1.0 ran it: its hyperparameters, with the defaults of then made explicit.
SETTINGS_0_1_0 = {
    "learning_rate": 1e-4,
    "batch_size": 256,
    "learning_starts": 1000,
    "initial_states": "first",
    "absorbing_loops": 1,
}


def demonstrations(out: Path) -> Path:
    """The 10 steady-expert games of benchmarks/imitation_zoo.py, recorded into ``out`` on first use."""
    from sb3_behave.demos import record_demonstrations

    folder = out / "demos" / "flappy_strong"
    if not folder.is_dir():
        record_demonstrations(FLAPPY, folder, 10, skill="strong", seed=100, progress_bar=False)
    return folder


class Probe(BaseCallback):
    """Record nu, the actor and the score every ``every`` env steps into ``points``; call ``save`` after each."""

    def __init__(self, every: int, save) -> None:
        super().__init__()
        self.every, self.save = every, save
        self.points: list[dict[str, float]] = []
        self._next = 0

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.every
            self.points.append(self.measure())
            self.save()
            point = self.points[-1]
            print(
                f"  step {point['step']:,}: score {point['score']:.1f} ({point['frames']:.0f} frames), "
                f"flap {point['flap_expert']:.3f}, nu E {point['nu_expert']:.2f} R {point['nu_replay']:.2f} "
                f"abs {point['nu_absorbing']:.2f}, diff E {point['diff_expert']:.3f} R {point['diff_replay']:.3f}",
                flush=True,
            )
        return True

    @th.no_grad()
    def measure(self) -> dict[str, float]:
        from sb3_behave.valuedice.expert_data import absorbing_state

        model = self.model
        policy, gamma = model.policy, model.gamma
        expert = model._expert
        rng = np.random.default_rng(0)
        index = th.as_tensor(rng.choice(len(expert["states"]), EXPERT_SAMPLE, replace=False))
        a = expert["actions"][index]
        s, a_vec, s1 = model._inputs(expert["states"][index], a, expert["next_states"][index])
        nu_e = policy.nu_value(s, a_vec)
        nu_other = policy.nu_value(s, policy.encode_actions(1 - a, s))
        nu1_e, _ = policy.expected_nu(s1)
        flap = policy.actor.probabilities(s)[:, 1]
        greedy = (flap > 0.5).long()
        point = {
            "step": self.num_timesteps,
            "nu_expert": nu_e.mean().item(),
            "nu_expert_other": nu_other.mean().item(),
            "diff_expert": (nu_e - gamma * nu1_e).mean().item(),
            "flap_expert": flap.mean().item(),
            "expert_flap_rate": a.float().mean().item(),
            "recall_flap": (greedy[a == 1] == 1).float().mean().item(),
            "recall_glide": (greedy[a == 0] == 0).float().mean().item(),
        }
        end = th.as_tensor(absorbing_state(policy.obs_dim))[None]
        nu_abs = policy.nu_value(policy.network_state(end), th.zeros(1, policy.action_dim)).item()
        point["nu_absorbing"] = nu_abs
        point["diff_absorbing"] = (1 - gamma) * nu_abs
        point["absorbing_fraction"] = model.replay_absorbing_fraction() if model.replay_buffer.size() else 0.0
        if model.replay_buffer.size() > 0:
            state = np.random.get_state()  # numpy's stream (replay sampling) stays as training left it; torch's advances
            s_r, a_r, s1_r = model._sample_replay(EXPERT_SAMPLE, 0.0)
            np.random.set_state(state)
            nu_r = policy.nu_value(s_r, a_r)
            nu1_r, _ = policy.expected_nu(s1_r)
            point.update(
                nu_replay=nu_r.mean().item(),
                diff_replay=(nu_r - gamma * nu1_r).mean().item(),
                flap_replay=policy.actor.probabilities(s_r)[:, 1].mean().item(),
            )
        else:
            point.update(nu_replay=float("nan"), diff_replay=float("nan"), flap_replay=float("nan"))
        score, frames = play(model)
        point.update(score=score, frames=frames)
        return point


def play(model) -> tuple[float, float]:
    """Mean pipes and frames of 10 deterministic games of at most 2,000 frames (common.evaluate's games).

    Frames come from the return (+0.1 a frame alive, +1 a pipe, -1 for a crash).
    """
    from sb3_behave.envs import evaluate_flappy_policy

    games = evaluate_flappy_policy(model, games=10, max_frames=2_000, seed=12_345)
    frames = [(ret - score + crash) / 0.1 for ret, score, crash in zip(games["returns"], games["scores"], games["crashed"])]
    return float(games["score"]), float(np.mean(frames))


def table(folder: Path) -> str:
    """One row per run in ``folder``: the last evaluations, the zoo's score, and nu at the end."""
    lines = [
        "| run | seed | steps | pipes at each evaluation (thousands of steps: pipes) | last 3, mean | zoo score "
        "| nu: expert / replay / absorbing (end) | flap prob. on expert states (end) | train s |",
        "|---|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        points = record["points"]
        end = points[-1]
        finished = record.get("finished", "zoo_score" in record)  # else stopped early: not measured after the last updates
        scores = [p["score"] for p in points[1:]]  # the first point is before any training
        steps = [f"{p['step'] / 1000:g}k" for p in points[1:]]
        if finished:
            steps[-1] = "end"
        curve = ", ".join(f"{step}: {score:.1f}" for step, score in zip(steps, scores))
        zoo = record.get("zoo_score")
        clone = f" (its clone: {record['clone_zoo_score']:.1f})" if "clone_zoo_score" in record else ""
        lines.append(
            f"| {record['name']} | {record['seed']} | {end['step']:,}{'' if finished else ' (stopped)'} | {curve} | "
            f"{np.mean(scores[-3:]):.1f} | {'n/a' if zoo is None else f'{zoo:.1f}'}{clone} | "
            f"{end['nu_expert']:.2f} / {end['nu_replay']:.2f} / {end['nu_absorbing']:.2f} | {end['flap_expert']:.3f} | "
            f"{record.get('train_seconds', record['seconds'])} |"
        )
    return "\n".join(lines)


def plot(folder: Path, names: list[str], path: Path) -> None:
    """Score, nu (expert, replay, absorbing) and the flap probability along training, for the runs ``names`` (seed 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(names), 3, figsize=(13, 3.2 * len(names)), squeeze=False, sharex="row")
    for row, name in zip(axes, names):
        record = json.loads((folder / f"{name}_seed0.json").read_text())
        points = record["points"]
        steps = [p["step"] for p in points]
        row[0].plot(steps, [p["score"] for p in points], marker="o")
        row[0].set_ylabel(f"{name}\npipes (10 games)")
        for key, label in (("nu_expert", "expert (s, a)"), ("nu_replay", "replay (s, a)"), ("nu_absorbing", "absorbing")):
            row[1].plot(steps, [p[key] for p in points], marker=".", label=label)
        row[1].set_ylabel("nu")
        row[1].legend(fontsize=8)
        row[2].plot(steps, [p["flap_expert"] for p in points], marker=".", label="actor, expert states")
        row[2].plot(steps, [p["flap_replay"] for p in points], marker=".", label="actor, replay states")
        row[2].axhline(points[0]["expert_flap_rate"], color="gray", linestyle="--", label="expert")
        row[2].set_ylabel("flap probability")
        row[2].legend(fontsize=8)
    for axis in axes[-1]:
        axis.set_xlabel("env steps")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    print(path)


def clone_actor(model, steps: int, batch_size: int = 1024, learning_rate: float = 4e-3) -> dict:
    """Behavioural cloning of ValueDICE's actor before it learns, as ``zoo_configs/bc.yml`` fits BC on Flappy Bird.

    Maximum likelihood of the expert's actions on its (normalized) states: ``steps`` Adam steps of
    ``batch_size``, the learning rate decaying linearly from ``learning_rate`` to 0. Returns the
    final loss and the clone's accuracy on the expert's frames.
    """
    import torch.nn.functional as F

    expert = model._expert
    real = expert["states"][:, -1] == 0 if model.absorbing_state else th.ones(len(expert["states"]), dtype=th.bool)
    states, actions = model.policy.network_state(expert["states"][real]), expert["actions"][real]
    optimizer = th.optim.Adam(model.actor.parameters(), lr=learning_rate)
    generator = th.Generator().manual_seed(0)
    for step in range(steps):
        optimizer.param_groups[0]["lr"] = learning_rate * (1 - step / steps)
        index = th.randint(len(states), (batch_size,), generator=generator)
        loss = F.cross_entropy(model.actor.logits(model.actor.trunk(states[index])), actions[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with th.no_grad():
        accuracy = (model.actor.probabilities(states).argmax(dim=-1) == actions).float().mean().item()
    return {"bc_steps": steps, "bc_loss": round(loss.item(), 5), "bc_accuracy": round(accuracy, 5)}


def warm_up_nu(model, updates: int, batch_size: int = 256) -> dict:
    """``updates`` steps of nu alone (the actor held), before ValueDICE's first joint update.

    The same losses as :meth:`ValueDICE.update`, with nu's gradient only: nu learns the value of the
    actor as it is (a clone, with ``--bc-steps``) before the actor follows nu's gradient.
    """
    parameters = list(model.nu.parameters())
    model.policy.set_training_mode(True)
    for _ in range(updates):
        losses = model.losses(batch_size, 0.0)
        model.nu.optimizer.zero_grad()
        losses["nu_loss"].backward(inputs=parameters)
        model.nu.optimizer.step()
    return {"nu_warmup_updates": updates, "nu_warmup_objective": round(losses["dv_objective"].item(), 5) if updates else None}


def parse_overrides(pairs: list[str]) -> dict:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"{pair!r}: expected KEY=VALUE (for example gradient_steps=5)")
        parsed = yaml.safe_load(value)
        if isinstance(parsed, str):  # YAML 1.1 reads 1e-5 as a string
            try:
                parsed = float(parsed)
            except ValueError:
                pass
        overrides[key] = parsed
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "base", choices=["0.1.0", "shipped", "paper", "table", "plot"], help="the settings to start from (or: table, plot)"
    )
    parser.add_argument("seed", type=int, nargs="?", default=0)
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE: ValueDICE arguments that replace the base's")
    parser.add_argument("--steps", type=int, default=10_000, help="env steps")
    parser.add_argument("--runs", nargs="+", default=[], help="plot: the runs' names (their seed 0)")
    parser.add_argument("--every", type=int, default=1_000, help="env steps between measurements")
    parser.add_argument(
        "--bc-steps",
        type=int,
        default=0,
        help="start the actor from a behavioural clone: this many BC steps (batch 1024, lr 4e-3 decaying to 0) first",
    )
    parser.add_argument(
        "--nu-warmup",
        type=int,
        default=0,
        help="updates of nu alone, the actor held, before ValueDICE learns (after the clone, with --bc-steps)",
    )
    parser.add_argument("--name", default=None, help="the result's name (default: the base and the overrides)")
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/valuedice_diagnosis"))
    args = parser.parse_args()
    from sb3_behave.valuedice import ValueDICE

    if args.base == "table":
        text = table(args.out)
        write_atomically(args.out / "table.md", text + "\n")
        print(text)
        return
    if args.base == "plot":
        plot(args.out, args.runs, args.out / "diagnosis.png")
        return
    overrides = parse_overrides(args.overrides)
    known = inspect.signature(ValueDICE).parameters
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        parser.error(f"{', '.join(unknown)}: not ValueDICE arguments (known: {', '.join(known)})")
    bases = {"0.1.0": SETTINGS_0_1_0, "shipped": zoo_config("valuedice", FLAPPY), "paper": ValueDICE.PAPER}
    settings = {**bases[args.base], **overrides}
    name = args.name or "_".join([args.base, *args.overrides]).replace("=", "-").replace("/", "-")
    name += f"_bc{args.bc_steps}" if args.bc_steps and not args.name else ""
    name += f"_nu{args.nu_warmup}" if args.nu_warmup and not args.name else ""
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    demos = demonstrations(out)
    path = out / f"{name}_seed{args.seed}.json"
    th.manual_seed(args.seed)
    model = ValueDICE("MlpPolicy", FLAPPY, str(demos), seed=args.seed, **settings)
    record = {"name": name, "seed": args.seed, "settings": {k: str(v) for k, v in settings.items()}, "machine": machine()}
    start = time.time()
    if args.bc_steps:  # the clone, and its score in the zoo's games, before ValueDICE's first update
        record.update(clone_actor(model, args.bc_steps))
        record["clone_zoo_score"] = evaluate(model, FLAPPY, episodes=20, max_frames=10_000)
        print(f"clone: accuracy {record['bc_accuracy']:.4f}, {record['clone_zoo_score']:.1f} pipes in the zoo's 20 games")
    if args.nu_warmup:
        record.update(warm_up_nu(model, args.nu_warmup))
        print(f"nu alone for {args.nu_warmup:,} updates: objective {record['nu_warmup_objective']}", flush=True)

    def save() -> None:
        record.update(points=probe.points, seconds=round(time.time() - start))
        write_atomically(path, json.dumps(record, indent=1))

    probe = Probe(args.every, save)
    model.learn(args.steps, callback=probe)
    record["train_seconds"] = round(time.time() - start)  # with the measurements along the way
    probe.points.append(probe.measure())  # after the last updates (the probe measured before them)
    # The imitation_zoo table's evaluation: 20 games of at most 10,000 frames (the expert scores 249 pipes there).
    record.update(zoo_score=evaluate(model, FLAPPY, episodes=20, max_frames=10_000), finished=True)
    save()
    model.save(path.with_suffix(".zip"))
    print(f"{path}: {record['train_seconds']} s of training, {record['zoo_score']:.1f} pipes in the zoo's 20 games")


if __name__ == "__main__":
    main()
