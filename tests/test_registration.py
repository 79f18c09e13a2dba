import subprocess
import sys
import warnings

import gymnasium as gym


def test_make_works_without_importing_sb3_behave():
    code = (
        "import sys, gymnasium as gym\n"
        "env = gym.make('sb3_behave/FlappyBird-v0')\n"
        "assert env.spec.max_episode_steps == 10_000, env.spec\n"
        "print(env.reset(seed=0)[0].shape, 'sb3_behave.envs.flappy_bird.vec_env' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # The env works, and making it did not drag in stable-baselines3's VecEnv (torch).
    assert out.strip() == "(12,) False"


def test_import_registers_once_without_warning():
    import sb3_behave

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_behave.register_envs()
    assert sb3_behave.FLAPPY_BIRD_ID in gym.registry
    env = gym.make(sb3_behave.FLAPPY_BIRD_ID, obs_type="lidar")
    assert env.observation_space.shape == (180,)
