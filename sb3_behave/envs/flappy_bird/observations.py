"""Observations of the batched core: features, lidar rays and small RGB frames, all batched."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import gymnasium as gym

from sb3_behave.envs.flappy_bird.core import (
    BASE_Y,
    PIPE_GAP,
    PIPE_WIDTH,
    PLAYER_HEIGHT,
    PLAYER_MAX_VEL_Y,
    PLAYER_MIN_ROT,
    PLAYER_WIDTH,
    PLAYER_X,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    BirdState,
    FlappyBirdCore,
)

State = FlappyBirdCore | BirdState

OBS_TYPES = ("features", "lidar", "rgb")

# ---------------------------------------------------------------- features
N_FEATURES = 12
#: Names of the 12 features, in the order of flappy-bird-gymnasium's simple observation.
FEATURE_NAMES = (
    "last_pipe_x",
    "last_pipe_top_y",
    "last_pipe_bottom_y",
    "next_pipe_x",
    "next_pipe_top_y",
    "next_pipe_bottom_y",
    "next_next_pipe_x",
    "next_next_pipe_top_y",
    "next_next_pipe_bottom_y",
    "player_y",
    "player_vel_y",
    "player_rot",
)
# Each raw value v in [lo, hi] maps to 2 (v - lo) / (hi - lo) - 1 in [-1, 1], then is clipped.
# A pipe not yet on screen reads as (x=SCREEN_WIDTH, top=0, bottom=SCREEN_HEIGHT).
PIPE_X_RANGE = (-PIPE_WIDTH, SCREEN_WIDTH)
PIPE_Y_RANGE = (0.0, SCREEN_HEIGHT)
PLAYER_Y_RANGE = (-SCREEN_HEIGHT / 4, SCREEN_HEIGHT)
PLAYER_VEL_RANGE = (-PLAYER_MAX_VEL_Y, PLAYER_MAX_VEL_Y)
PLAYER_ROT_RANGE = (PLAYER_MIN_ROT, -PLAYER_MIN_ROT)
FEATURE_RANGES = np.array(
    [PIPE_X_RANGE, PIPE_Y_RANGE, PIPE_Y_RANGE] * 3 + [PLAYER_Y_RANGE, PLAYER_VEL_RANGE, PLAYER_ROT_RANGE]
)
_LO = FEATURE_RANGES[:, 0]
_SCALE = 2.0 / (FEATURE_RANGES[:, 1] - FEATURE_RANGES[:, 0])
_SCALE32 = _SCALE.astype(np.float32)
_OFFSET32 = (-1.0 - _LO * _SCALE).astype(np.float32)


def raw_features(core: State) -> np.ndarray:
    """The 12 features of every bird in game units (pixels, pixels per frame, degrees), float64."""
    raw = np.empty((core.n_birds, N_FEATURES))
    _fill_raw(core, raw)
    return raw


def _fill_raw(core: State, raw: np.ndarray) -> None:
    off_screen = core.pipe_x > SCREEN_WIDTH
    raw[:, 0:9:3] = np.minimum(core.pipe_x, SCREEN_WIDTH)
    raw[:, 1:9:3] = np.where(off_screen, 0.0, core.gap_y)
    raw[:, 2:9:3] = np.where(off_screen, SCREEN_HEIGHT, core.gap_y + PIPE_GAP)
    raw[:, 9] = core.player_y
    raw[:, 10] = core.vel_y
    raw[:, 11] = core.rot


def features(core: State) -> np.ndarray:
    """The 12 features of every bird, float32 in [-1, 1], shape (n_birds, 12)."""
    obs = np.empty((core.n_birds, N_FEATURES), dtype=np.float32)
    _fill_raw(core, obs)
    obs *= _SCALE32
    obs += _OFFSET32
    np.maximum(obs, -1.0, out=obs)  # a guard: every value is in range by construction
    return np.minimum(obs, 1.0, out=obs)


def decode_features(obs: np.ndarray) -> np.ndarray:
    """Invert :func:`features`: raw game values (pixels, pixels per frame, degrees), float64."""
    obs = np.asarray(obs, dtype=np.float64)
    return (obs + 1.0) / _SCALE + _LO


# ---------------------------------------------------------------- lidar
N_RAYS = 180
LIDAR_MAX_DISTANCE = int(SCREEN_WIDTH * 0.8) - PLAYER_WIDTH  # 196 pixels, as flappy-bird-gymnasium
LIDAR_ORIGIN_X = PLAYER_X + PLAYER_WIDTH  # rays leave from the bird's beak
# Half-degree offsets keep every ray off the axes: no division by zero in the slab test.
RAY_ANGLES = np.radians(np.arange(N_RAYS) + 0.5 - 90.0)  # from straight up to straight down
_INV_DX = (1.0 / np.cos(RAY_ANGLES)).astype(np.float32)  # all positive: rays look forward
_INV_DY = (1.0 / np.sin(RAY_ANGLES)).astype(np.float32)
# Along a ray, the gap's bottom edge is PIPE_GAP * inv_dy after its top edge: before it for rays
# going up (inv_dy < 0), after it for rays going down.
_GAP_IN = np.minimum(PIPE_GAP * _INV_DY, 0.0).astype(np.float32)
_GAP_OUT = np.maximum(PIPE_GAP * _INV_DY, 0.0).astype(np.float32)
_WIDTH_T = (PIPE_WIDTH * _INV_DX).astype(np.float32)  # length of a ray inside a pipe's column


def lidar(core: State) -> np.ndarray:
    """Distance along 180 rays to the nearest pipe or the ground, over the maximum range.

    Float32 in [0, 1], shape (n_birds, 180); 1 means nothing within range. Rays fan out from the
    bird's beak from straight up (ray 0) to straight down (ray 179), half a degree off the axes.
    """
    # Only pipes whose right edge is ahead of the beak can be hit, and at most two of them are
    # within range (pipes are at least 144 pixels apart, so only the first can be behind):
    # the first two pipes, or the second and third once the first is behind the beak.
    behind = core.pipe_x[:, :1] + PIPE_WIDTH <= LIDAR_ORIGIN_X  # (n, 1)
    pipe_x = np.where(behind, core.pipe_x[:, 1:], core.pipe_x[:, :2])  # (n, 2)
    gap_top = np.where(behind, core.gap_y[:, 1:], core.gap_y[:, :2])
    origin_y = (core.player_y + PLAYER_HEIGHT / 2)[:, None]
    # Along a ray, t is the distance from the beak. The ray is in a pipe's column for t in
    # [t_near, t_far] and inside its gap for t in [t_gap_in, t_gap_out]; it hits the pipe where it
    # enters the column if that point is not in the gap, else where it leaves the gap.
    t_near = (pipe_x - LIDAR_ORIGIN_X).astype(np.float32)[:, :, None] * _INV_DX  # (n, 2, rays)
    t_far = t_near + _WIDTH_T
    np.maximum(t_near, 0.0, out=t_near)
    t_gap_in = (gap_top - origin_y).astype(np.float32)[:, :, None] * _INV_DY
    t_gap_out = t_gap_in + _GAP_OUT
    t_gap_in += _GAP_IN
    hit = np.where((t_near >= t_gap_in) & (t_near <= t_gap_out), t_gap_out, t_near)
    np.copyto(hit, np.inf, where=hit > t_far)
    distance = np.minimum(hit[:, 0], hit[:, 1])  # (n, rays)
    origin_y = origin_y.astype(np.float32)
    t_ground = (BASE_Y - origin_y) * _INV_DY  # negative for rays going up
    np.copyto(t_ground, np.inf, where=t_ground < 0)
    np.minimum(distance, t_ground, out=distance)
    np.minimum(distance, LIDAR_MAX_DISTANCE, out=distance)
    distance *= np.float32(1.0 / LIDAR_MAX_DISTANCE)
    return distance


# ---------------------------------------------------------------- rgb
SKY, PIPE, GROUND, BIRD = 0, 1, 2, 3
PALETTE = np.array([(78, 192, 202), (96, 178, 52), (222, 216, 149), (250, 200, 40)], dtype=np.uint8)


def rgb(core: State, height: int = 84, width: int = 84) -> np.ndarray:
    """The whole screen drawn at ``height`` x ``width``, uint8 of shape (n_birds, height, width, 3).

    A flat-colour picture (sky, pipes, ground, bird) sampled at pixel centres: cheap enough to be
    an observation. The pretty pygame frame is :meth:`FlappyBirdEnv.render`.
    """
    cols = (np.arange(width) + 0.5) * (SCREEN_WIDTH / width)  # screen x of each column
    rows = (np.arange(height) + 0.5) * (SCREEN_HEIGHT / height)
    pipe_x = core.pipe_x[:, :, None]
    pipe_cols = (cols >= pipe_x) & (cols < pipe_x + PIPE_WIDTH)  # (n, pipes, width)
    gap_y = core.gap_y[:, :, None]
    pipe_rows = (rows < gap_y) | (rows >= gap_y + PIPE_GAP)  # (n, pipes, height)
    pipe = (pipe_rows[:, :, :, None] & pipe_cols[:, :, None, :]).any(axis=1)  # (n, height, width)
    kind = pipe.astype(np.uint8)  # SKY or PIPE
    kind[:, rows >= BASE_Y, :] = GROUND
    bird_rows = (rows >= core.player_y[:, None]) & (rows < core.player_y[:, None] + PLAYER_HEIGHT)
    bird_cols = (cols >= PLAYER_X) & (cols < PLAYER_X + PLAYER_WIDTH)
    kind[bird_rows[:, :, None] & bird_cols[None, None, :]] = BIRD
    return PALETTE[kind]


# ---------------------------------------------------------------- dispatch
def check_obs_type(obs_type: str) -> None:
    """Raise a ``ValueError`` naming the valid choices if ``obs_type`` is not one of them."""
    if obs_type not in OBS_TYPES:
        raise ValueError(f"unknown obs_type {obs_type!r}: expected one of {', '.join(map(repr, OBS_TYPES))}")


def check_image_size(image_size: tuple[int, int]) -> tuple[int, int]:
    """Validate ``(height, width)`` of rgb observations and return it as a tuple of ints."""
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (height, width), got {image_size!r}") from None
    if height < 8 or width < 8:
        raise ValueError(f"image_size must be at least (8, 8), got {(height, width)}")
    return height, width


def observation_space(obs_type: str, image_size: tuple[int, int] = (84, 84)) -> gym.spaces.Box:
    """The observation space of one bird for ``obs_type``."""
    from gymnasium import spaces

    check_obs_type(obs_type)
    if obs_type == "features":
        return spaces.Box(-1.0, 1.0, shape=(N_FEATURES,), dtype=np.float32)
    if obs_type == "lidar":
        return spaces.Box(0.0, 1.0, shape=(N_RAYS,), dtype=np.float32)
    height, width = check_image_size(image_size)
    return spaces.Box(0, 255, shape=(height, width, 3), dtype=np.uint8)


def observe(core: State, obs_type: str, image_size: tuple[int, int] = (84, 84)) -> np.ndarray:
    """Observations of every bird for ``obs_type``, batched on the first axis."""
    if obs_type == "features":
        return features(core)
    if obs_type == "lidar":
        return lidar(core)
    return rgb(core, *image_size)
