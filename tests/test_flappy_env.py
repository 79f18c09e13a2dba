import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sb3_behave.envs import FlappyBirdEnv, FlappyBirdExpert
from sb3_behave.envs.flappy_bird import core as C
from sb3_behave.envs.flappy_bird import render as R
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


def reference_rgb(core, height, width):
    """The flat-colour observation drawn pixel by pixel: each pixel's centre is bird, ground, pipe or sky."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    for row in range(height):
        y = (row + 0.5) * C.SCREEN_HEIGHT / height
        for col in range(width):
            x = (col + 0.5) * C.SCREEN_WIDTH / width
            pipe = any(
                px <= x < px + C.PIPE_WIDTH and not top <= y < top + C.PIPE_GAP
                for px, top in zip(core.pipe_x[0], core.gap_y[0])
            )
            if C.PLAYER_X <= x < C.PLAYER_X + C.PLAYER_WIDTH and core.player_y[0] <= y < core.player_y[0] + C.PLAYER_HEIGHT:
                image[row, col] = R.BIRD_BODY
            elif y >= C.BASE_Y:
                image[row, col] = R.GROUND
            elif pipe:
                image[row, col] = R.PIPE_BODY
            else:
                image[row, col] = R.SKY_TOP
    return image


def test_rgb_size_option():
    # (64, 48) is (height, width): a transposed or resized-the-wrong-way image fails the comparison
    env = gym.make(ENV_ID, obs_type="rgb", image_size=(64, 48))
    expert = FlappyBirdExpert()
    obs, _ = env.reset(seed=0)
    core = env.unwrapped.core
    assert obs.shape == (64, 48, 3)
    np.testing.assert_array_equal(obs, reference_rgb(core, 64, 48))  # pipes still off screen: sky, ground, bird
    for _ in range(100):  # the first pipe is on screen from frame 50
        obs, *_ = env.step(expert.predict(env.unwrapped.features())[0])
    assert (obs == R.PIPE_BODY).all(axis=2).sum() > 20
    np.testing.assert_array_equal(obs, reference_rgb(core, 64, 48))


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
    ends = []
    for _ in range(20):
        *_, terminated, truncated, _ = env.step(np.int64(1) if env.unwrapped.core.vel_y[0] > 3 else 0)
        ends.append((terminated, truncated))
    assert ends == [(False, False)] * 19 + [(False, True)]  # at the 20th frame, not before


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


def sky(y):
    """The renderer's sky: a vertical gradient from SKY_TOP (row 0) to SKY_BOTTOM (row 512)."""
    return tuple(int(a + (b - a) * y / C.SCREEN_HEIGHT) for a, b in zip(R.SKY_TOP, R.SKY_BOTTOM))


def assert_bird_drawn_at(frame, core):
    ys, xs = np.nonzero((frame == R.BIRD_BODY).all(axis=2))
    assert len(ys) > 150  # the body, less the wing, eye and beak drawn over it
    top, left = core.player_y[0], C.PLAYER_X
    # the sprite is rotated by at most 20 degrees: its pixels stay within 8 pixels of the bird's box
    assert ys.min() >= top - 8 and ys.max() <= top + C.PLAYER_HEIGHT + 8, (ys.min(), ys.max(), top)
    assert xs.min() >= left - 8 and xs.max() <= left + C.PLAYER_WIDTH + 8, (xs.min(), xs.max())
    assert abs(ys.mean() - (top + C.PLAYER_HEIGHT / 2)) < 6 and abs(xs.mean() - (left + C.PLAYER_WIDTH / 2)) < 6


def test_render_rgb_array_and_human_headless():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    core = env.unwrapped.core
    frame = env.render()
    assert frame.shape == (512, 288, 3) and frame.dtype == np.uint8
    assert tuple(frame[20, 270]) == sky(20)  # top right: no cloud, no score
    assert (frame[430:] == R.GROUND).all()  # below the grass and its stripes: only ground
    assert (frame[406:416] == R.GRASS).all()
    assert (frame[30:90, 120:170] == (255, 255, 255)).all(axis=2).any()  # the score, "0", at the top
    assert not (frame == R.PIPE_BODY).all(axis=2).any()  # the first pipe starts off screen
    assert_bird_drawn_at(frame, core)
    expert = FlappyBirdExpert()
    for _ in range(80):
        obs, *_ = env.step(expert.predict(obs)[0])
    frame = env.render()
    x, top = int(core.pipe_x[0, 0]), int(core.gap_y[0, 0])
    assert 0 < x < C.SCREEN_WIDTH - C.PIPE_WIDTH  # a whole pipe on screen
    column = frame[:, x + 30]  # inside the pipe, right of its light stripe
    for y in (5, top - 30, top - 10, top + C.PIPE_GAP + 10, top + C.PIPE_GAP + 40, int(C.BASE_Y) - 4):
        assert tuple(column[y]) == R.PIPE_BODY, y  # above and below the gap (caps included)
    for y in (top + 25, top + 50, top + 75):
        assert tuple(column[y]) == sky(y), y  # the gap shows the sky
    assert_bird_drawn_at(frame, core)  # the bird moved; the drawing followed it
    env.close()
    human = gym.make(ENV_ID, render_mode="human", render_speed=1000.0)
    human.reset(seed=0)
    for _ in range(3):
        assert human.step(0)[0].shape == (12,)
    assert human.render() is None
    human.close()
