"""Registration of sb3-behave's environments with gymnasium.

``import sb3_behave`` calls :func:`register_envs`, so ``gym.make("sb3_behave/FlappyBird-v0")`` works
after it. Without the import, ``gym.make("sb3_behave:sb3_behave/FlappyBird-v0")`` makes gymnasium
import the package first; the RL Zoo takes ``--gym-packages sb3_behave``. gymnasium 0.29 also calls
:func:`register_envs` through the ``gymnasium.envs`` entry point when it is imported (gymnasium 1.x
no longer loads such plugins). It imports nothing heavy.
"""

from __future__ import annotations

FLAPPY_BIRD_ID = "sb3_behave/FlappyBird-v0"
FLAPPY_BIRD_MAX_EPISODE_STEPS = 10_000


def register_envs() -> None:
    """Register ``sb3_behave/FlappyBird-v0`` (once; calling again does nothing)."""
    from gymnasium.envs.registration import register, registry

    if FLAPPY_BIRD_ID not in registry:
        register(
            id=FLAPPY_BIRD_ID,
            entry_point="sb3_behave.envs.flappy_bird.env:FlappyBirdEnv",
            max_episode_steps=FLAPPY_BIRD_MAX_EPISODE_STEPS,
        )
