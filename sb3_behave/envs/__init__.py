"""Environments of sb3-behave."""

from sb3_behave.envs.flappy_bird import EXPERT_STYLES, FlappyBirdEnv, FlappyBirdExpert
from sb3_behave.envs.flappy_bird import __getattr__ as __getattr__  # lazy: FlappyBirdVecEnv, evaluate_flappy_policy

__all__ = ["EXPERT_STYLES", "FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv", "evaluate_flappy_policy"]


def __dir__() -> list[str]:  # PEP 562: dir() and the API reference list the lazy names too
    return sorted({*globals(), *__all__})
