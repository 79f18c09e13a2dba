"""Where the filter slice's time goes in the batched landscape (the MLP path), with one torch thread.

    python benchmarks/landscape_profile.py --out benchmarks/results/landscape_profile.md

The setting of ``sb3-behave bench landscape``: a fresh PPO ``MlpPolicy`` for
sb3_behave/FlappyBird-v0 (actor 12 -> 64 -> 64 -> 2), 10,000 synthetic transitions, the filter
slice of a 41 x 41 grid, the default tile of 8 points x 1,024 transitions. Prints the time of one
whole tile (the actor's output, the per-transition terms and the objectives' sums), then of each
operation of the tile alone with the tile's shapes, best of 40 calls each, and the tile's time if
only the forward's own work (the hidden layer's product and the two activations) were left.
Also torch's profiler's shares over a whole 21 x 21 grid, and that grid timed with all cores: the
tiles one at a time (one worker), against the default (as many workers as cores, side by side).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Callable

import torch as th
from common import print_and_save


def best_microseconds(call: Callable[[], object], calls: int = 40) -> float:
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the report (Markdown) here")
    args = parser.parse_args()
    th.set_num_threads(1)
    import gymnasium as gym

    import sb3_behave  # noqa: F401  (registers the env)
    from sb3_behave.landscape.actor import PolicyActor, fresh_policy
    from sb3_behave.landscape.bench import synthetic_demos
    from sb3_behave.landscape.objectives import transition_terms
    from sb3_behave.landscape.report import LandscapeConfig, make_directions, objectives_for
    from sb3_behave.landscape.surface import _coefficients, _PlaneMLP, evaluate_surfaces, grid_axes
    from sb3_behave.stack import machine_description

    env_id = "sb3_behave/FlappyBird-v0"
    actor = PolicyActor(fresh_policy(gym.make(env_id), "ppo", 0))
    demos = synthetic_demos(env_id, 10_000)
    config = LandscapeConfig(directions="filter", grid=41, seed=0)
    objectives = objectives_for(actor, demos, config)
    directions = make_directions(actor, config)
    axis = grid_axes(41, 1.0)
    points, block = 8, 1024
    coefficients = _coefficients(axis, axis)[:points]
    obs, acts = actor.observations(demos.obs[:block]), actor.actions(demos.acts[:block])
    plane = _PlaneMLP(actor, directions)
    state = plane.prepare(obs)
    sums = th.rand(block, 2)

    def tile() -> None:
        out = plane.output(state, coefficients)
        (transition_terms(out, acts, "nll") @ sums).T.double()

    whole = best_microseconds(tile)
    hidden = th.rand(points, block, 65)
    weights = th.rand(points, 65, 64)
    product = th.empty(points, block, 64)
    activations = th.rand(points, block, 64)
    mix_out = th.empty(points, block * 64)
    layer_one = th.rand(3, block * 64)
    head = th.rand(points, 2, 65)
    head_bias = th.rand(points, 2, 1)
    head_out = th.empty(points, 2, block)
    parts = {
        "hidden layer's product (bmm [8, 1024, 65] x [8, 65, 64])": best_microseconds(
            lambda: th.bmm(hidden, weights, out=product)
        ),
        "one activation (in-place sigmoid of [8, 1024, 64]; there are two)": best_microseconds(lambda: activations.sigmoid_()),
        "first layer's mix for the tile's points (mm [8, 3] x [3, 65536])": best_microseconds(
            lambda: th.mm(coefficients, layer_one, out=mix_out)
        ),
        "output layer (baddbmm [8, 2, 65] x [8, 65, 1024])": best_microseconds(
            lambda: th.baddbmm(head_bias, head, hidden.transpose(1, 2), out=head_out)
        ),
    }
    values = list(parts.values())
    forward = values[0] + 2 * values[1]
    per_point = whole / points * demos.obs.shape[0] / block / 1000
    bound = forward / points * demos.obs.shape[0] / block / 1000
    lines = [
        f"Machine: {machine_description()}; 1 torch thread",
        "",
        f"- One whole tile (8 points x 1,024 transitions): {whole:.0f} µs, {per_point:.2f} ms per grid point "
        "for 10,000 transitions.",
    ]
    lines += [f"- {name}: {micros:.0f} µs ({micros / whole:.0%} of the tile)" for name, micros in parts.items()]
    lines.append(
        f"- The forward's own work (the product and two activations): {forward:.0f} µs a tile, {bound:.2f} ms per grid point."
    )
    from torch.profiler import ProfilerActivity, profile

    small = grid_axes(21, 1.0)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        evaluate_surfaces(actor, demos, objectives, directions, small, small, method="mlp")
    events = sorted(profiler.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    lines.append(
        "- torch's profiler over a 21 x 21 grid, share of the self time: "
        + ", ".join(f"{e.key} {e.self_cpu_time_total / total:.0%}" for e in events[:5])
    )
    if (cores := os.cpu_count() or 1) > 1:  # tiles side by side against one at a time
        th.set_num_threads(cores)
        timed = {}
        for workers in (1, None) * 3:
            run = evaluate_surfaces(actor, demos, objectives, directions, small, small, method="mlp", workers=workers)
            timed.setdefault(run.info["workers"], []).append(run.seconds)
        lines.append(
            f"- The 21 x 21 grid with {cores} torch threads, tiles in workers of one torch thread each, best of 3: "
            + ", ".join(f"{min(seconds):.3f} s with {n} worker{'s' * (n > 1)}" for n, seconds in timed.items())
        )
    print_and_save("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
