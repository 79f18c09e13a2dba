"""Warm-start PPO by behavioural cloning on expert demonstrations, then fine-tune it with RL.

    python examples/bc_warm_start.py --demo-episodes 10 --demo-frames 10000 --bc-epochs 20 --timesteps 500000

The callback clones the demonstrations into PPO's own policy when training starts, then holds the
actor for 10,000 env steps while the critic learns and ramps the actor's share of each update up
over the next 30,000, with an entropy floor meanwhile, so that RL does not wipe out what BC learned.
"""

import argparse

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from sb3_behave.callbacks import BCWarmStartCallback
from sb3_behave.demos import record_demonstrations
from sb3_behave.envs import FlappyBirdVecEnv, evaluate_flappy_policy

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--demos", default="runs/demos/flappy_strong")
parser.add_argument("--demo-episodes", type=int, default=10)
parser.add_argument("--demo-frames", type=int, default=10_000)
parser.add_argument("--bc-epochs", type=int, default=20)
parser.add_argument("--timesteps", type=int, default=500_000)
parser.add_argument("--tensorboard-log", default="runs/tensorboard")
args = parser.parse_args()

record_demonstrations(
    "sb3_behave/FlappyBird-v0", args.demos, args.demo_episodes, skill="strong", max_episode_steps=args.demo_frames
)
env = VecMonitor(FlappyBirdVecEnv(16, seed=0))
model = PPO("MlpPolicy", env, n_steps=256, batch_size=512, n_epochs=4, seed=0, tensorboard_log=args.tensorboard_log)
callback = BCWarmStartCallback(args.demos, bc_epochs=args.bc_epochs, verbose=1)
model.learn(0, callback=callback)  # the warm start alone, no env step yet


def play(model) -> str:
    result = evaluate_flappy_policy(model, games=10, max_frames=2_000)
    return f"{result['score']:.1f} pipes, return {result['return']:.2f}"


print(f"after the warm start: {play(model)}")
model.learn(args.timesteps, callback=callback, reset_num_timesteps=False)
print(f"after fine-tuning:    {play(model)}")
