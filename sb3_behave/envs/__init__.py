"""Environments of sb3-behave."""

from sb3_behave.envs.flappy_bird import FlappyBirdEnv, FlappyBirdExpert

__all__ = ["FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv", "evaluate_flappy_policy"]


def __getattr__(name: str) -> object:
    if name == "FlappyBirdVecEnv":
        from sb3_behave.envs.flappy_bird.vec_env import FlappyBirdVecEnv

        return FlappyBirdVecEnv
    if name == "evaluate_flappy_policy":
        from sb3_behave.envs.flappy_bird.evaluation import evaluate_flappy_policy

        return evaluate_flappy_policy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
