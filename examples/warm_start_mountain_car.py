"""A sparse reward where demonstrations matter: warm-start PPO on MountainCarContinuous-v0 from five scripted episodes.

    python examples/warm_start_mountain_car.py --timesteps 50000

The car must rock back and forth to reach the flag; the only positive reward is at the flag,
and every push costs. PPO with SB3's defaults, from scratch, learns to stand still (it did not
reach the flag once in 1,000,000 steps, benchmarks/results/bc_warm_start/mountaincar). A
scripted expert (full throttle in the direction the car moves) plays five episodes; BC clones
them into PPO's own policy, and fine-tuning starts from a policy that already reaches the flag.
"""

import argparse

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_behave.callbacks import BCWarmStartCallback
from sb3_behave.demos import play_episodes

ENV_ID = "MountainCarContinuous-v0"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--demo-episodes", type=int, default=5)
parser.add_argument("--bc-epochs", type=int, default=50)
parser.add_argument("--timesteps", type=int, default=50_000, help="env steps of fine-tuning")
parser.add_argument("--tensorboard-log", default="runs/tensorboard")
args = parser.parse_args()


def energy_pumping(obs):
    """Full throttle in the direction the car is moving."""
    return np.array([1.0 if obs[1] >= 0 else -1.0], dtype=np.float32)


def reaches_the_flag(model, episodes=10):
    env = make_vec_env(ENV_ID, n_envs=1, seed=12_345)
    returns, lengths = evaluate_policy(model, env, n_eval_episodes=episodes, return_episode_rewards=True)
    reached = int(np.sum(np.asarray(lengths) < env.envs[0].spec.max_episode_steps))
    return f"{reached}/{episodes} episodes reach the flag, mean return {np.mean(returns):.1f}"


demos = play_episodes(gym.make(ENV_ID), energy_pumping, args.demo_episodes, seed=10_000)
print(f"expert: {len(demos)} episodes, mean return {np.mean([t.rews.sum() for t in demos]):.1f}")
model = PPO("MlpPolicy", make_vec_env(ENV_ID, n_envs=4, seed=0), seed=0, tensorboard_log=args.tensorboard_log)
callback = BCWarmStartCallback(demos, bc_epochs=args.bc_epochs, verbose=1)
model.learn(0, callback=callback)  # the warm start alone, no env step yet
print(f"after the warm start: {reaches_the_flag(model)}")
model.learn(args.timesteps, callback=callback, reset_num_timesteps=False)
print(f"after fine-tuning:    {reaches_the_flag(model)}")
