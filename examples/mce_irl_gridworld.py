"""Recover FrozenLake's reward from an expert's demonstrations with MCE IRL, and draw it over the grid.

    python examples/mce_irl_gridworld.py --demos 100 --iterations 500 --out reward.png

The tabular model comes from the env's own transition table; an expert soft-optimal for the true
reward plays the demonstrations; imitation's MCEIRL learns a reward per cell. The policy that is
soft-optimal for the learned reward is then scored under the true reward, exactly, against the
expert and a random policy. The same as `sb3-behave irl --env FrozenLake-v1 --env-kwargs is_slippery:False`.
"""

import argparse

import numpy as np

from sb3_behave.irl import MCEIRLConfig, run_mce_irl, save_reward_plot, tabular_model

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--map", default="4x4", choices=("4x4", "8x8"))
parser.add_argument("--slippery", action="store_true")
parser.add_argument("--demos", type=int, default=100)
parser.add_argument("--horizon", type=int, default=None)
parser.add_argument("--iterations", type=int, default=500)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="reward.png")
args = parser.parse_args()

model = tabular_model("FrozenLake-v1", horizon=args.horizon, map_name=args.map, is_slippery=args.slippery)
config = MCEIRLConfig(demos=args.demos, iterations=args.iterations, seed=args.seed)
result = run_mce_irl(model, config)
print(result.report())

labels = np.asarray(model.grid.labels)  # one per cell: the env's own states come first in the model
holes, goal = np.flatnonzero(labels == "H"), np.flatnonzero(labels == "G")
print(f"recovered reward: goal {result.reward[goal].max():.2f}, best hole {result.reward[holes].max():.2f}")
print(f"heat map written to {save_reward_plot(model, result.reward, args.out)}")
