"""Environments of sb3-behave."""

from sb3_behave.envs.flappy_bird import EXPERT_STYLES, FlappyBirdEnv, FlappyBirdExpert
from sb3_behave.envs.flappy_bird import __getattr__ as __getattr__  # lazy: FlappyBirdVecEnv, evaluate_flappy_policy

__all__ = ["EXPERT_STYLES", "FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv", "evaluate_flappy_policy"]
