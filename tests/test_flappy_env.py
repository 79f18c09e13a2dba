import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sb3_behave.envs import FlappyBirdEnv, FlappyBirdExpert
from sb3_behave.envs.flappy_bird import core as C
from sb3_behave.envs.flappy_bird.observations import FEATURE_NAMES, decode_features, features, raw_features

ENV_ID = "sb3_behave/FlappyBird-v0"
OBS_TYPES = ["features", "lidar", "rgb"]


def rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, info["score"]))
        if terminated or truncated:
            out.append(env.reset()[0])
    return out


@pytest.mark.parametrize("obs_type", OBS_TYPES)
def test_check_env_passes(obs_type):
    gym_check_env(FlappyBirdEnv(obs_type=obs_type), skip_render_check=True)
    sb3_check_env(FlappyBirdEnv(obs_type=obs_type), warn=True)


@pytest.mark.parametrize(
    "obs_type,shape,dtype", [("features", (12,), np.float32), ("lidar", (180,), np.float32), ("rgb", (84, 84, 3), np.uint8)]
)
def test_spaces(obs_type, shape, dtype):
    env = gym.make(ENV_ID, obs_type=obs_type)
    assert env.observation_space.shape == shape and env.observation_space.dtype == dtype
    assert env.action_space == gym.spaces.Discrete(2)
    obs, info = env.reset(seed=1)
    assert obs.shape == shape and obs.dtype == dtype and info == {"score": 0}


def test_rgb_size_option():
    env = gym.make(ENV_ID, obs_type="rgb", image_size=(64, 48))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 48, 3)
    colours = {tuple(c) for c in obs.reshape(-1, 3)}
    assert len(colours) >= 3  # sky, ground and bird at least


def test_unknown_options_name_the_valid_ones():
    with pytest.raises(ValueError, match="'features', 'lidar', 'rgb'"):
        FlappyBirdEnv(obs_type="pixels")
    with pytest.raises(ValueError, match="'alive', 'score'"):
        FlappyBirdEnv(reward_mode="dense")
    with pytest.raises(ValueError, match="render_mode"):
        FlappyBirdEnv(render_mode="ascii")


def test_classic_physics():
    env = FlappyBirdEnv()
    env.reset(seed=0)
    core = env.core
    assert (core.player_y[0], core.vel_y[0]) == (244, -9)  # the original start: rising
    env.step(0)
    assert (core.player_y[0], core.vel_y[0]) == (236, -8)
    env.step(1)  # a flap sets the speed to -9 and moves at once
    assert (core.player_y[0], core.vel_y[0], core.rot[0]) == (227, -9, 45)
    x_before = core.pipe_x[0].copy()
    for _ in range(30):
        env.step(0)
    assert core.vel_y[0] == C.PLAYER_MAX_VEL_Y  # terminal velocity
    np.testing.assert_array_equal(core.pipe_x[0][:2], x_before[:2] - 4 * 30)


def test_falling_bird_crashes_into_the_ground_with_minus_one():
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    for t in range(200):
        obs, reward, terminated, truncated, info = env.step(0)
        if terminated:
            break
    assert terminated and not truncated and reward == -1.0 and info["score"] == 0
    assert env.unwrapped.core.player_y[0] + C.PLAYER_HEIGHT >= C.BASE_Y - 1
    # 244 + (-8 - 7 - ... + 10) + 10 + 10 ... : the 31st frame reaches the ground (y = 380.48)
    assert t == 30


def test_rewards_and_score_while_the_expert_plays():
    env = gym.make(ENV_ID)
    expert = FlappyBirdExpert()
    obs, _ = env.reset(seed=3)
    rewards, scores = [], []
    for _ in range(800):
        obs, reward, terminated, truncated, info = env.step(expert.predict(obs)[0])
        rewards.append(reward)
        scores.append(info["score"])
        assert not terminated
    rewards, scores = np.array(rewards), np.array(scores)
    passed = np.diff(scores, prepend=0) == 1
    assert scores[-1] >= 15
    np.testing.assert_allclose(rewards[passed], 1.1)
    np.testing.assert_allclose(rewards[~passed], 0.1)


def test_score_only_reward_and_score_limit():
    env = gym.make(ENV_ID, reward_mode="score", score_limit=2)
    expert = FlappyBirdExpert()
    obs, _ = env.reset(seed=0)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, info = env.step(expert.predict(obs)[0])
        total += reward
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated and info["score"] == 2 and total == 2.0


def test_max_episode_steps_truncates():
    env = gym.make(ENV_ID, max_episode_steps=20)
    env.reset(seed=0)
    for _ in range(20):
        *_, terminated, truncated, _ = env.step(np.int64(1) if env.unwrapped.core.vel_y[0] > 3 else 0)
    assert truncated and not terminated


def test_same_seed_same_trajectory_and_pipes_from_np_random_only():
    rng = np.random.default_rng(0)
    actions = (rng.random(600) < 0.1).astype(int)
    a = rollout(gym.make(ENV_ID, obs_type="lidar"), 7, actions)
    np.random.seed(123)  # the global generator plays no part
    b = rollout(gym.make(ENV_ID, obs_type="lidar"), 7, actions)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            np.testing.assert_array_equal(x[0], y[0])
            assert x[1:] == y[1:]
        else:
            np.testing.assert_array_equal(x, y)
    env = FlappyBirdEnv()
    gaps = set()
    for seed in range(20):
        env.reset(seed=seed)
        gaps.add(tuple(env.core.gap_y[0, :2]))
        assert np.all((env.core.gap_y[0, :2] >= 80) & (env.core.gap_y[0, :2] < 80 + 142))
    assert len(gaps) == 20


def test_features_mean_what_they_say():
    env = FlappyBirdEnv()
    expert = FlappyBirdExpert()
    obs, _ = env.reset(seed=0)
    for _ in range(250):
        obs, *_ = env.step(expert.predict(obs)[0])
    raw = dict(zip(FEATURE_NAMES, decode_features(obs)))
    core = env.core
    on_screen = core.pipe_x[0] <= C.SCREEN_WIDTH
    assert on_screen.sum() >= 2
    assert raw["last_pipe_x"] == pytest.approx(core.pipe_x[0, 0], abs=1e-3)
    assert raw["next_pipe_top_y"] == pytest.approx(core.gap_y[0, 1], abs=1e-3)
    assert raw["next_pipe_bottom_y"] == pytest.approx(core.gap_y[0, 1] + C.PIPE_GAP, abs=1e-3)
    assert raw["player_y"] == pytest.approx(core.player_y[0], abs=1e-3)
    assert raw["player_vel_y"] == pytest.approx(core.vel_y[0], abs=1e-4)
    np.testing.assert_allclose(decode_features(features(core)), raw_features(core), atol=1e-3)
    # a pipe not yet on screen reads as (screen width, 0, screen height), as in flappy-bird-gymnasium
    env.reset(seed=0)
    np.testing.assert_allclose(decode_features(env.features())[:9], [288, 0, 512] * 3, atol=1e-3)


def test_render_rgb_array_and_human_headless():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (512, 288, 3) and frame.dtype == np.uint8 and frame.std() > 10
    env.close()
    human = gym.make(ENV_ID, render_mode="human", render_speed=1000.0)
    human.reset(seed=0)
    for _ in range(3):
        human.step(0)
    human.close()
