"""Train SB3's PPO on many Flappy Bird games stepped at once by FlappyBirdVecEnv.

python examples/ppo_flappy_vec_env.py --timesteps 200000
"""

import argparse

from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

from sb3_behave.envs import FlappyBirdVecEnv

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--timesteps", type=int, default=200_000)
parser.add_argument("--n-envs", type=int, default=16)
parser.add_argument("--tensorboard-log", default="runs/tensorboard")
args = parser.parse_args()

env = VecMonitor(FlappyBirdVecEnv(args.n_envs, obs_type="features", seed=0))
model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, seed=0, verbose=1, tensorboard_log=args.tensorboard_log)
model.learn(args.timesteps, progress_bar=False)
eval_env = VecMonitor(FlappyBirdVecEnv(4, seed=1000, max_episode_steps=2_000))
mean, std = evaluate_policy(model, eval_env, n_eval_episodes=4)
print(f"mean return over 4 evaluation episodes: {mean:.1f} +/- {std:.1f}")
