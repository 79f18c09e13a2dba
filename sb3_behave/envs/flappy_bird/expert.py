"""The scripted Flappy Bird expert: reads the 12 features and plays steadily (a strong person) or precisely."""

from __future__ import annotations

from typing import Any

import numpy as np

from sb3_behave.envs.flappy_bird.core import (
    BASE_Y,
    PIPE_GAP,
    PIPE_VEL_X,
    PIPE_WIDTH,
    PLAYER_ACC_Y,
    PLAYER_FLAP_ACC,
    PLAYER_HEIGHT,
    PLAYER_MAX_VEL_Y,
    PLAYER_WIDTH,
    PLAYER_X,
    SCREEN_HEIGHT,
)
from sb3_behave.envs.flappy_bird.observations import N_FEATURES, decode_features

_PLAN_FRAMES = 24  # frames of free fall checked by the early-flap rule
_DROP_MARGIN = 4.0  # approach margin (px) before a lower gap, whatever the style


#: Named playing styles of the scripted expert: keyword arguments of :class:`FlappyBirdExpert`.
#: ``steady`` (the ``strong`` demonstrator) keeps the bird well inside each gap wherever the next
#: gap allows it, so a copy that flaps a frame late or early still survives; ``precise`` is the
#: first expert, which flies 4 px margins and flaps at the last possible frame inside a pipe.
EXPERT_STYLES: dict[str, dict[str, float]] = {
    "steady": {"margin": 15.0, "column_margin": 8.0, "drop_headroom": 4.0},
    "precise": {},
}


class FlappyBirdExpert:
    """A scripted player that flaps when the bird would sink below the gap it is heading for.

    Approaching a pipe it keeps ``margin`` pixels above the gap's bottom; inside a pipe it flaps
    ``column_margin`` pixels above the gap's bottom (``hover_raise`` more when the next gap is
    higher), and, before a lower gap, as early as one flap carries it through the rest of the pipe
    with ``drop_headroom`` pixels to spare below the pipe's top (a flap near the exit would leave
    it too high to drop into the next gap in time). Before a lower gap the margins shrink to the
    precise ones (4 px approaching, 0 inside): a big drop leaves no room for more.

    The defaults are the ``"precise"`` style; :meth:`from_style` makes a named one
    (:data:`EXPERT_STYLES`). Over 256 seeded games of 10,000 frames the precise expert passes 268
    pipes on average, and the steady one about as many (``benchmarks/README.md``).

    It reads the ``"features"`` observation (shape ``(12,)`` or a batch ``(n, 12)``), so it is
    an SB3-style policy (:meth:`predict`) and an imitation-style policy callable. For ``"lidar"``
    or ``"rgb"`` envs, give it ``env.unwrapped.features()``.

    :param margin: pixels kept between the bird's bottom and the gap's bottom when approaching
    :param hover_raise: pixels above a gap's bottom to hover at when the next gap is higher
    :param idle_target: gap bottom to aim at while no pipe is on screen
    :param column_margin: pixels kept above the gap's bottom inside a pipe (unless the next gap is lower)
    :param drop_headroom: pixels kept below the pipe's top by the early flap before a lower gap
    """

    def __init__(
        self,
        margin: float = 4.0,
        hover_raise: float = 4.0,
        idle_target: float = 260.0,
        column_margin: float = 0.0,
        drop_headroom: float = 0.0,
    ) -> None:
        self.margin = margin
        self.hover_raise = hover_raise
        self.idle_target = idle_target
        self.column_margin = column_margin
        self.drop_headroom = drop_headroom

    @classmethod
    def from_style(cls, style: str) -> FlappyBirdExpert:
        """The expert of a named style (:data:`EXPERT_STYLES`): ``"steady"`` or ``"precise"``.

        :param style: the style's name
        :raises ValueError: an unknown name, with the known ones
        """
        if style not in EXPERT_STYLES:
            raise ValueError(f"unknown expert style {style!r}: expected one of {', '.join(EXPERT_STYLES)}")
        return cls(**EXPERT_STYLES[style])

    def rule(self, raw: np.ndarray) -> np.ndarray:
        """Flap decisions (bool, shape ``(n,)``) from raw features in game units, shape ``(n, 12)``."""
        rows = np.arange(len(raw))
        next_x = raw[:, 0:9:3] + PIPE_VEL_X  # where the pipes will be after this frame
        gap_bottom = raw[:, 2:9:3]
        on_screen = ~np.isclose(gap_bottom, SCREEN_HEIGHT)
        # Target: the first pipe the bird will not yet have left behind after this frame.
        ahead = (next_x + PIPE_WIDTH > PLAYER_X) & on_screen
        target = np.argmax(ahead, axis=1)
        has_target = ahead[rows, target]
        bottom = np.where(has_target, gap_bottom[rows, target], self.idle_target)
        in_column = has_target & (next_x[rows, target] < PLAYER_X + PLAYER_WIDTH)
        following = np.minimum(target + 1, 2)
        climb = on_screen[rows, following] & (gap_bottom[rows, following] < bottom) & (following > target)
        lower = on_screen[rows, following] & (gap_bottom[rows, following] > bottom) & (following > target)
        # Before a lower gap, the precise margins: a big drop leaves no room for wider ones.
        in_margin = np.where(lower, 0.0, self.column_margin) + np.where(climb, self.hover_raise, 0.0)
        approach_margin = np.where(lower, min(self.margin, _DROP_MARGIN), self.margin)
        limit = np.where(in_column, bottom - in_margin, bottom - approach_margin)
        limit = np.minimum(limit, BASE_Y - 2)
        y, vel = raw[:, 9], raw[:, 10]
        first_vel = np.minimum(vel + PLAYER_ACC_Y, PLAYER_MAX_VEL_Y)
        flap = y + first_vel + PLAYER_HEIGHT > limit + 0.5  # positions are whole pixels; features are float32
        # Inside a pipe before a lower gap, a flap near the exit leaves the bird too high to drop
        # into the next gap in time. So flap early: as soon as one flap now carries the bird
        # through the rest of the pipe without touching it, when not flapping would not.
        drop = in_column & lower
        if drop.any():
            x_target = raw[rows, 3 * target][drop]
            top = (bottom - PIPE_GAP)[drop]
            frames = np.arange(1, _PLAN_FRAMES + 1)
            pipe_x = x_target[:, None] + PIPE_VEL_X * frames
            inside = (pipe_x < PLAYER_X + PLAYER_WIDTH) & (pipe_x + PIPE_WIDTH > PLAYER_X)

            def clear(first: np.ndarray, headroom: float = 0.0) -> np.ndarray:
                fall = y[drop, None] + np.cumsum(np.minimum(first[:, None] + frames - 1, PLAYER_MAX_VEL_Y), axis=1)
                ok = (fall > top[:, None] + headroom - 0.5) & (fall + PLAYER_HEIGHT < bottom[drop, None] + 0.5)
                return (ok | ~inside).all(axis=1)

            early = ~clear(first_vel[drop]) & clear(np.full(drop.sum(), float(PLAYER_FLAP_ACC)), self.drop_headroom)
            flap[drop] |= early
        return flap

    def act(self, observation: np.ndarray) -> np.ndarray:
        """Actions (0 or 1, int64) for one observation or a batch.

        :param observation: features observation(s), shape ``(12,)`` or ``(n, 12)``
        """
        obs = np.asarray(observation)
        if obs.shape[-1:] != (N_FEATURES,):
            raise ValueError(
                f"FlappyBirdExpert reads the 12 'features' observation, got shape {obs.shape}: "
                "make the env with obs_type='features' or pass env.unwrapped.features()"
            )
        raw = decode_features(obs.reshape(-1, N_FEATURES))
        return self.rule(raw).astype(np.int64).reshape(obs.shape[:-1])

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """SB3's ``predict`` signature: ``(actions, None)``.

        :param observation: features observation(s)
        :param state: ignored (no recurrent state)
        :param episode_start: ignored
        :param deterministic: ignored (the expert is deterministic)
        """
        return self.act(observation), None

    def __call__(
        self, observation: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None
    ) -> tuple[np.ndarray, None]:
        """imitation's policy-callable signature: ``(actions, None)``."""
        return self.act(observation), None
