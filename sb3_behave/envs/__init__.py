"""Environments of sb3-behave."""

from sb3_behave.envs.flappy_bird import FlappyBirdEnv, FlappyBirdExpert
from sb3_behave.envs.flappy_bird import __getattr__ as __getattr__  # lazy: FlappyBirdVecEnv, evaluate_flappy_policy

__all__ = ["FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv", "evaluate_flappy_policy"]
