"""Flappy Bird: one batched core, compiled by numba, behind a gymnasium Env and a native SB3 VecEnv."""

from sb3_behave.envs.flappy_bird.env import FlappyBirdEnv
from sb3_behave.envs.flappy_bird.expert import EXPERT_STYLES, FlappyBirdExpert

__all__ = ["EXPERT_STYLES", "FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv", "evaluate_flappy_policy"]


def __getattr__(name: str) -> object:
    # The VecEnv and the evaluation need stable-baselines3 (and so torch): import them when asked for.
    if name == "FlappyBirdVecEnv":
        from sb3_behave.envs.flappy_bird.vec_env import FlappyBirdVecEnv

        return FlappyBirdVecEnv
    if name == "evaluate_flappy_policy":
        from sb3_behave.envs.flappy_bird.evaluation import evaluate_flappy_policy

        return evaluate_flappy_policy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # PEP 562: dir() and the API reference list the lazy names too
    return sorted({*globals(), *__all__})
