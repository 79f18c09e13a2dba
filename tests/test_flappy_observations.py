import gymnasium as gym
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sb3_behave.envs.flappy_bird import core as C
from sb3_behave.envs.flappy_bird import render as R
from sb3_behave.envs.flappy_bird.observations import LIDAR_MAX_DISTANCE, LIDAR_ORIGIN_X, RAY_ANGLES, lidar, rgb


def reference_lidar(player_y, pipe_x, gap_y, step=0.02):
    """March along every ray in tiny steps and stop at the first point inside a pipe or the ground."""
    t = np.arange(0.0, LIDAR_MAX_DISTANCE + step, step)
    x = LIDAR_ORIGIN_X + np.cos(RAY_ANGLES)[:, None] * t
    y = player_y + C.PLAYER_HEIGHT / 2 + np.sin(RAY_ANGLES)[:, None] * t
    solid = y >= C.BASE_Y
    for px, top in zip(pipe_x, gap_y):
        if np.isfinite(px):
            solid |= (x >= px) & (x <= px + C.PIPE_WIDTH) & ((y <= top) | (y >= top + C.PIPE_GAP))
    first = np.where(solid.any(axis=1), solid.argmax(axis=1), len(t) - 1)
    return np.minimum(t[first], LIDAR_MAX_DISTANCE) / LIDAR_MAX_DISTANCE


def random_states(n, seed):
    rng = np.random.default_rng(seed)
    core = C.FlappyBirdCore(n)
    core.reset()
    front = rng.uniform(-50, 150, n)
    core.pipe_x[:] = np.stack([front, front + 144, np.where(rng.random(n) < 0.5, front + 288, np.inf)], axis=1)
    core.gap_y[:] = rng.integers(80, 222, (n, 3))
    core.player_y[:] = rng.uniform(-60, 380, n)
    return core


def test_lidar_matches_a_brute_force_ray_march():
    core = random_states(40, seed=0)
    got = lidar(core)
    for i in range(core.n_birds):
        want = reference_lidar(core.player_y[i], core.pipe_x[i], core.gap_y[i])
        np.testing.assert_allclose(got[i], want, atol=2e-3, err_msg=f"state {i}")
    assert (got < 1).mean() > 0.3  # the states do put obstacles in range


def reference_rgb(core, i, height, width):
    """Bird ``i``'s flat-colour frame: each pixel's centre is in the bird, the ground, a pipe or the sky."""
    y = (np.arange(height)[:, None] + 0.5) * C.SCREEN_HEIGHT / height
    x = (np.arange(width)[None, :] + 0.5) * C.SCREEN_WIDTH / width
    pipe = np.zeros((height, width), dtype=bool)
    for px, top in zip(core.pipe_x[i], core.gap_y[i]):
        pipe |= (x >= px) & (x < px + C.PIPE_WIDTH) & ((y < top) | (y >= top + C.PIPE_GAP))
    top = core.player_y[i]
    bird = (x >= C.PLAYER_X) & (x < C.PLAYER_X + C.PLAYER_WIDTH) & (y >= top) & (y < top + C.PLAYER_HEIGHT)
    ground = np.broadcast_to(y >= C.BASE_Y, (height, width))
    colours = np.array([R.BIRD_BODY, R.GROUND, R.PIPE_BODY, R.SKY_TOP], dtype=np.uint8)
    return colours[np.select([bird, ground, pipe], [0, 1, 2], 3)]


def test_rgb_draws_the_bird_where_it_is():
    # Random birds and pipes (some half off screen, some third slots empty), compared pixel by pixel
    core = random_states(6, seed=1)
    frames = rgb(core, 128, 72)
    for i in range(core.n_birds):
        np.testing.assert_array_equal(frames[i], reference_rgb(core, i, 128, 72), err_msg=f"state {i}")
    for colour in (R.BIRD_BODY, R.PIPE_BODY, R.GROUND):
        assert (frames == colour).all(axis=-1).any(axis=(1, 2)).sum() >= 4  # the states show what is compared


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    obs_type=st.sampled_from(["features", "lidar", "rgb"]),
    seed=st.integers(0, 2**31 - 1),
    flap_probability=st.floats(0.0, 1.0),
)
def test_observations_stay_in_their_space_and_finite(obs_type, seed, flap_probability):
    env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type, image_size=(24, 16))
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    for _ in range(300):
        assert env.observation_space.contains(obs)
        assert np.all(np.isfinite(obs))
        obs, reward, terminated, truncated, _ = env.step(int(rng.random() < flap_probability))
        assert np.isfinite(reward)
        if terminated or truncated:
            obs, _ = env.reset()
