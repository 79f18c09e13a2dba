"""Watch the IL and RL loss landscapes of a PPO policy change while it trains, in TensorBoard.

    python examples/landscape_during_training.py --timesteps 100000
    tensorboard --logdir runs/tensorboard

``LandscapeCallback`` takes a snapshot every ``--every`` steps: the agreement of the two landscapes
on the scripted expert's demonstrations (``landscape/strong/pearson``, ...) as scalars, and the
figure in TensorBoard's Images tab.
"""

import argparse
from pathlib import Path

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from sb3_behave.callbacks import LandscapeCallback
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.envs import FlappyBirdVecEnv

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--timesteps", type=int, default=100_000)
parser.add_argument("--every", type=int, default=20_000, help="steps between snapshots")
parser.add_argument("--grid", type=int, default=21, help="points per axis of each snapshot")
parser.add_argument("--n-envs", type=int, default=8)
parser.add_argument("--demos", default="runs/demos/strong-landscape")
args = parser.parse_args()

for old in Path(args.demos).glob("episode-*.npz"):  # a demo folder collects episodes: start afresh
    old.unlink()
record_demonstrations("sb3_behave/FlappyBird-v0", args.demos, 1, skill="strong", max_episode_steps=1_000, progress_bar=False)
demos = load_demonstrations(args.demos)  # trajectories with rewards

env = VecMonitor(FlappyBirdVecEnv(n_envs=args.n_envs, obs_type="features", seed=0))
model = PPO("MlpPolicy", env, n_steps=256, tensorboard_log="runs/tensorboard", seed=0)
callback = LandscapeCallback({"strong": demos}, every_n_steps=args.every, grid=args.grid, directions="filter")
model.learn(args.timesteps, callback=callback)
for snapshot in callback.history:
    pearson, cosine = snapshot["pearson"], snapshot["gradient_cosine"]
    print(f"{snapshot['timesteps']:>8} steps: Pearson {pearson:+.2f}, gradient cosine {cosine:+.2f}")
