"""Flappy Bird: one batched numpy core behind a gymnasium Env and a native SB3 VecEnv."""

from sb3_behave.envs.flappy_bird.env import FlappyBirdEnv
from sb3_behave.envs.flappy_bird.expert import FlappyBirdExpert

__all__ = ["FlappyBirdEnv", "FlappyBirdExpert", "FlappyBirdVecEnv"]


def __getattr__(name: str) -> object:
    # The VecEnv needs stable-baselines3 (and so torch): import it only when asked for.
    if name == "FlappyBirdVecEnv":
        from sb3_behave.envs.flappy_bird.vec_env import FlappyBirdVecEnv

        return FlappyBirdVecEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
