import subprocess
import sys
import warnings

import gymnasium as gym
import pytest

GYMNASIUM_1 = int(gym.__version__.split(".")[0]) >= 1


def _make_in_a_fresh_interpreter(env_id: str) -> str:
    code = (
        "import sys, gymnasium as gym\n"
        f"env = gym.make({env_id!r})\n"
        "assert env.spec.max_episode_steps == 10_000, env.spec\n"
        "print(env.reset(seed=0)[0].shape, 'sb3_behave.envs.flappy_bird.vec_env' in sys.modules)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_the_module_prefix_makes_the_env_without_importing_sb3_behave():
    # gymnasium imports the module before the colon, on 0.29 and on 1.x. Making the env did not
    # drag in stable-baselines3's VecEnv (torch).
    assert _make_in_a_fresh_interpreter("sb3_behave:sb3_behave/FlappyBird-v0") == "(12,) False"


@pytest.mark.skipif(GYMNASIUM_1, reason="gymnasium 1.x no longer loads `gymnasium.envs` entry-point plugins")
def test_the_entry_point_registers_the_env_on_gymnasium_0_29():
    assert _make_in_a_fresh_interpreter("sb3_behave/FlappyBird-v0") == "(12,) False"


def test_import_registers_once_without_warning():
    import sb3_behave

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_behave.register_envs()
    assert sb3_behave.FLAPPY_BIRD_ID in gym.registry
    env = gym.make(sb3_behave.FLAPPY_BIRD_ID, obs_type="lidar")
    assert env.observation_space.shape == (180,)
