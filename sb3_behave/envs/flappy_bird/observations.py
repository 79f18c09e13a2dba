"""Observations of the batched core: features, lidar rays and small RGB frames, all batched.

Features and lidar are compiled loops over birds (see :mod:`~sb3_behave.envs.flappy_bird.jit`),
in float32 as the observations; rgb frames are numpy.
"""

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
from sb3_behave.envs.flappy_bird.jit import costly_kernel, kernel

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
_MINUS_ONE32, _ONE32 = np.float32(-1.0), np.float32(1.0)


def raw_features(core: State) -> np.ndarray:
    """The 12 features of every bird in game units (pixels, pixels per frame, degrees), float64."""
    raw = np.empty((core.n_birds, N_FEATURES))
    _fill_features(core.player_y, core.vel_y, core.rot, core.pipe_x, core.gap_y, raw, False)
    return raw


def features(core: State) -> np.ndarray:
    """The 12 features of every bird, float32 in [-1, 1], shape (n_birds, 12)."""
    obs = np.empty((core.n_birds, N_FEATURES), dtype=np.float32)
    _fill_features(core.player_y, core.vel_y, core.rot, core.pipe_x, core.gap_y, obs, True)
    return obs


@kernel
def _fill_features(player_y, vel_y, rot, pipe_x, gap_y, out, scale):  # type: ignore[no-untyped-def]
    """Write each bird's raw features into ``out`` (cast to its dtype), then scale them if ``scale``."""
    for i in range(out.shape[0]):
        for k in range(3):
            x = pipe_x[i, k]
            off_screen = x > SCREEN_WIDTH
            out[i, 3 * k] = min(x, SCREEN_WIDTH)
            out[i, 3 * k + 1] = 0.0 if off_screen else gap_y[i, k]
            out[i, 3 * k + 2] = SCREEN_HEIGHT if off_screen else gap_y[i, k] + PIPE_GAP
        out[i, 9] = player_y[i]
        out[i, 10] = vel_y[i]
        out[i, 11] = rot[i]
        if scale:
            for j in range(N_FEATURES):
                # In float32, as the observation; the clip is a guard: every value is in range.
                value = out[i, j] * _SCALE32[j] + _OFFSET32[j]
                out[i, j] = min(max(value, _MINUS_ONE32), _ONE32)


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
_ZERO32, _INF32 = np.float32(0.0), np.float32(np.inf)
_MAX_DISTANCE32, _INV_MAX_DISTANCE32 = np.float32(LIDAR_MAX_DISTANCE), np.float32(1.0 / LIDAR_MAX_DISTANCE)


def lidar(core: State) -> np.ndarray:
    """Distance along 180 rays to the nearest pipe or the ground, over the maximum range.

    Float32 in [0, 1], shape (n_birds, 180); 1 means nothing within range. Rays fan out from the
    bird's beak from straight up (ray 0) to straight down (ray 179), half a degree off the axes.
    """
    out = np.empty((core.n_birds, N_RAYS), dtype=np.float32)
    _fill_lidar(core.player_y, core.pipe_x, core.gap_y, out)
    return out


@costly_kernel
def _fill_lidar(player_y, pipe_x, gap_y, out):  # type: ignore[no-untyped-def]
    """Write each bird's 180 ray distances into ``out`` (float32 arithmetic, as the observation)."""
    near = np.empty(2, dtype=np.float32)  # per pipe: distance of its column, and of its gap's top,
    gap = np.empty(2, dtype=np.float32)  # along the x and y axes from the beak
    for i in range(out.shape[0]):
        # Only pipes whose right edge is ahead of the beak can be hit, and at most two of them are
        # within range (pipes are at least 144 pixels apart, so only the first can be behind):
        # the first two pipes, or the second and third once the first is behind the beak.
        first = 1 if pipe_x[i, 0] + PIPE_WIDTH <= LIDAR_ORIGIN_X else 0
        origin_y = player_y[i] + PLAYER_HEIGHT / 2
        for k in range(2):
            near[k] = pipe_x[i, first + k] - LIDAR_ORIGIN_X
            gap[k] = gap_y[i, first + k] - origin_y
        ground = np.float32(BASE_Y) - np.float32(origin_y)
        for r in range(N_RAYS):
            # Along a ray, t is the distance from the beak. The ray is in a pipe's column for t in
            # [t_near, t_far] and inside its gap for t in [t_gap_in, t_gap_out]; it hits the pipe
            # where it enters the column if that point is not in the gap, else where it leaves the gap.
            distance = _INF32
            for k in range(2):
                t_near = near[k] * _INV_DX[r]
                t_far = t_near + _WIDTH_T[r]
                t_near = max(t_near, _ZERO32)
                t_gap = gap[k] * _INV_DY[r]
                t_gap_in = t_gap + _GAP_IN[r]
                t_gap_out = t_gap + _GAP_OUT[r]
                hit = t_gap_out if t_gap_in <= t_near <= t_gap_out else t_near
                if hit <= t_far:
                    distance = min(distance, hit)
            t_ground = ground * _INV_DY[r]  # negative for rays going up
            if t_ground >= 0:
                distance = min(distance, t_ground)
            out[i, r] = min(distance, _MAX_DISTANCE32) * _INV_MAX_DISTANCE32


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
