"""Speed of the batched landscape against the one-point-at-a-time loop (``sb3-behave bench landscape``).

Both compute the IL (cross-entropy) and RL (REINFORCE) losses of a fresh PPO ``MlpPolicy`` on
every point of a ``grid x grid`` slice over the same demonstration transitions, in one process:

- *loop, SB3 call*: per point, ``policy.load_state_dict`` then ``policy.evaluate_actions(obs,
  acts)``, the call SB3's PPO and imitation's BC make to get ``log pi(a|s)`` (it also runs the
  critic);
- *loop, actor only*: per point, ``load_state_dict`` then ``policy.get_distribution(obs)``;
- *batched, vmap*: ``torch.func.functional_call`` under ``vmap`` over chunks of points;
- *batched, MLP path*: the default (see :mod:`sb3_behave.landscape.surface`).

The loops are timed on evenly spaced grid points and extrapolated to the whole grid; the batched
MLP path is timed on the whole grid (vmap on a smaller grid, once, extrapolated). Rounds
interleave the loops and the batched path and medians are kept, so a change in the machine's
load during the run affects every column alike. The batched result is checked against both
loops' values on the points the loops evaluated.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    from sb3_behave.landscape.objectives import DemoSet

#: Goals of the issue: at least this many times faster than the loop, in under this many seconds.
GOAL_SPEEDUP = 10.0
GOAL_SECONDS = 10.0

EVALUATIONS = {
    "loop-sb3": "loop: load_state_dict + evaluate_actions (SB3's call)",
    "loop-actor": "loop: load_state_dict + get_distribution (actor only)",
    "vmap": "batched: functional_call + vmap",
    "mlp": "batched: MLP path (default)",
}


@dataclass
class Timing:
    """Seconds one way of evaluating takes for the whole grid."""

    directions: str
    evaluation: str  # a key of EVALUATIONS
    points_timed: int
    points: int
    seconds: float
    max_abs_diff: float | None = None  # against the loop, on the points the loop evaluated


def synthetic_demos(env_id: str, transitions: int, episode_length: int = 100, seed: int = 0) -> DemoSet:
    """A demonstration set of ``transitions`` random observations and actions from the env's spaces.

    Episodes of ``episode_length`` steps earn +0.1 per step and -1 on the last (a crash), like
    Flappy Bird's default rewards. The values do not change the timings.

    :param env_id: the env whose spaces are sampled
    :param transitions: how many transitions in all
    :param episode_length: steps per episode
    :param seed: seed of the samples
    """
    import gymnasium as gym

    from sb3_behave.stack import require_imitation

    require_imitation()
    from imitation.data.types import TrajectoryWithRew

    from sb3_behave.landscape.objectives import DemoSet

    env = gym.make(env_id)
    env.observation_space.seed(seed)
    env.action_space.seed(seed + 1)
    trajectories, left = [], transitions
    while left > 0:
        length = min(episode_length, left)
        obs = np.stack([env.observation_space.sample() for _ in range(length + 1)])
        acts = np.stack([env.action_space.sample() for _ in range(length)])
        rews = np.r_[np.full(length - 1, 0.1), -1.0].astype(np.float32)
        trajectories.append(TrajectoryWithRew(obs=obs, acts=acts, infos=None, terminal=True, rews=rews))
        left -= length
    env.close()
    return DemoSet.from_trajectories(f"synthetic-{transitions}", trajectories, source="synthetic")


def run_landscape_benchmark(
    env_id: str = "sb3_behave/FlappyBird-v0",
    grid: int = 41,
    transitions: int = 10_000,
    directions: Sequence[str] = ("filter", "weights"),
    loop_points: int = 64,
    repeats: int = 3,
    vmap_grid: int = 11,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[Timing]:
    """Time every evaluation of :data:`EVALUATIONS` for each kind of directions.

    :param env_id: the env of the policy (its spaces)
    :param grid: points per axis
    :param transitions: demonstration transitions (synthetic, :func:`synthetic_demos`)
    :param directions: ``"filter"`` (every actor weight matrix moves) and/or ``"weights"`` (two
        scalars of the last layer: the MLP path reuses the hidden layers for every point)
    :param loop_points: grid points the loops evaluate (evenly spaced), extrapolated to the grid
    :param repeats: rounds, each timing both loops and the batched MLP path; medians are kept
    :param vmap_grid: points per axis of the grid the vmap evaluation is timed on (0: skip it)
    :param seed: seed of the policy, the data and the directions
    :param progress: called with a short label before each timing
    """
    import gymnasium as gym

    from sb3_behave.landscape.actor import PolicyActor, fresh_policy
    from sb3_behave.landscape.report import LandscapeConfig, make_directions, objectives_for
    from sb3_behave.landscape.surface import evaluate_surfaces, evaluate_surfaces_loop, grid_axes

    say = progress or (lambda label: None)
    env = gym.make(env_id)
    actor = PolicyActor(fresh_policy(env, "ppo", seed))
    demos = synthetic_demos(env_id, transitions, seed=seed)
    axis = grid_axes(grid, 1.0)
    n_points = grid * grid
    points = sorted({round(k) for k in np.linspace(0, n_points - 1, min(loop_points, n_points))})
    results = []
    for kind in directions:
        config = LandscapeConfig(directions=kind, grid=grid, seed=seed)
        objectives = objectives_for(actor, demos, config)
        slice_ = make_directions(actor, config)
        # Rounds interleave the evaluations, so that a change in the machine's load hits all of them;
        # each figure is the median over the rounds.
        seconds: dict[str, list[float]] = {key: [] for key in EVALUATIONS}
        diff = 0.0
        for round_ in range(repeats):
            say(f"{kind}, round {round_ + 1}/{repeats}: loops on {len(points)} points, the {grid}x{grid} grid batched")
            loops = {}
            for api, key in (("evaluate_actions", "loop-sb3"), ("distribution", "loop-actor")):
                loops[key] = evaluate_surfaces_loop(actor, demos, objectives, slice_, axis, axis, points=points, api=api)
                seconds[key].append(loops[key].seconds / len(points) * n_points)
            batched = evaluate_surfaces(actor, demos, objectives, slice_, axis, axis, method="mlp")
            seconds["mlp"].append(batched.seconds)
            for o in objectives:
                for loop in loops.values():
                    diff = max(
                        diff,
                        float(np.max(np.abs(batched.values[o.name].ravel()[points] - loop.values[o.name].ravel()[points]))),
                    )
            if vmap_grid and round_ == 0:
                small = grid_axes(vmap_grid, 1.0)
                vmapped = evaluate_surfaces(actor, demos, objectives, slice_, small, small, method="vmap")
                seconds["vmap"].append(vmapped.seconds / vmap_grid**2 * n_points)
        timed = {"loop-sb3": len(points), "loop-actor": len(points), "vmap": vmap_grid**2, "mlp": n_points}
        for key, values in seconds.items():
            if values:
                results.append(
                    Timing(kind, key, timed[key], n_points, statistics.median(values), diff if key == "mlp" else None)
                )
    return results


def format_table(results: Sequence[Timing]) -> str:
    """A Markdown table: seconds for the whole grid, ms per point, speedups over both loops.

    :param results: from :func:`run_landscape_benchmark`
    """
    lines = [
        "| directions | evaluation | points timed | seconds (whole grid) | ms per point | vs SB3-call loop "
        "| vs actor-only loop | max abs diff to loop |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in results:
        base = {r.evaluation: r.seconds for r in results if r.directions == t.directions}
        extrapolated = "" if t.points_timed == t.points else " (extrapolated)"
        diff = "" if t.max_abs_diff is None else f"{t.max_abs_diff:.1e}"
        lines.append(
            f"| {t.directions} | {EVALUATIONS[t.evaluation]} | {t.points_timed} of {t.points}{extrapolated} "
            f"| {t.seconds:.2f} | {t.seconds / t.points * 1000:.2f} | {base['loop-sb3'] / t.seconds:.1f}x "
            f"| {base['loop-actor'] / t.seconds:.1f}x | {diff} |"
        )
    return "\n".join(lines)


def goal_lines(results: Sequence[Timing]) -> list[str]:
    """One line per kind of directions: the goals (>= 10x the loop, < 10 s), met or not, against both loops.

    :param results: from :func:`run_landscape_benchmark`
    """
    lines = []
    for kind in dict.fromkeys(t.directions for t in results):
        rows = {t.evaluation: t for t in results if t.directions == kind}
        fast = rows["mlp"]
        sb3, actor = rows["loop-sb3"].seconds / fast.seconds, rows["loop-actor"].seconds / fast.seconds
        lines.append(
            f"{kind}: {fast.seconds:.2f} s for {fast.points} points (goal < {GOAL_SECONDS:g} s: "
            f"{'met' if fast.seconds < GOAL_SECONDS else 'MISSED'}); {sb3:.1f}x the SB3-call loop "
            f"(goal {GOAL_SPEEDUP:g}x: {'met' if sb3 >= GOAL_SPEEDUP else 'MISSED'}), {actor:.1f}x the actor-only loop "
            f"(goal {GOAL_SPEEDUP:g}x: {'met' if actor >= GOAL_SPEEDUP else 'MISSED'})"
        )
    return lines


def machine_description() -> str:
    """The machine and stack (:func:`sb3_behave.stack.machine_description`), and torch's thread count."""
    import torch

    from sb3_behave.stack import machine_description as machine_and_stack

    threads = torch.get_num_threads()
    text = f"{machine_and_stack()}; {threads} torch thread{'s' * (threads != 1)}"
    if threads > 1:  # evaluate_surfaces' default for the MLP path
        text += (
            f" (the loops split each op between them; the MLP path runs {threads} tiles side by side where they"
            " multiply hidden layers, as on the filter slice, and one at a time on the weights slice)"
        )
    return text
