"""The one Flappy Bird simulation: N birds stepped at once with numpy.

The single :class:`~sb3_behave.envs.FlappyBirdEnv` is this core with ``n_birds=1``; the
:class:`~sb3_behave.envs.FlappyBirdVecEnv` is the same core with many birds.

Constants are those of the classic FlapPyBird game (288x512 screen at 30 frames per second).
Collisions use the axis-aligned rectangles of the bird and the pipes (the original game used
pixel masks, so it forgave touching a pipe with the bird's transparent corners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Screen and ground
SCREEN_WIDTH = 288
SCREEN_HEIGHT = 512
BASE_Y = SCREEN_HEIGHT * 0.79  # 404.48: top of the ground
FPS = 30

# Pipes
PIPE_WIDTH = 52
PIPE_HEIGHT = 320
PIPE_GAP = 100
PIPE_VEL_X = -4
FIRST_PIPE_X = SCREEN_WIDTH + 200  # the first two pipes, half a screen apart
PIPE_SPACING = SCREEN_WIDTH / 2
NEW_PIPE_X = SCREEN_WIDTH + 10  # where later pipes appear
GAP_Y_MIN = int(BASE_Y * 0.2)  # 80: top of the highest gap
GAP_Y_CHOICES = int(BASE_Y * 0.6 - PIPE_GAP)  # 142: gap tops are GAP_Y_MIN + randrange(142)
MAX_PIPES = 3
NO_PIPE = np.inf  # x of an empty pipe slot: never drawn, never hit

# Player
PLAYER_X = int(SCREEN_WIDTH * 0.2)  # 57
PLAYER_WIDTH = 34
PLAYER_HEIGHT = 24
PLAYER_MID_X = PLAYER_X + PLAYER_WIDTH / 2
PLAYER_START_Y = int((SCREEN_HEIGHT - PLAYER_HEIGHT) / 2)  # 244
PLAYER_START_VEL_Y = -9
PLAYER_MAX_VEL_Y = 10  # terminal velocity (downwards)
PLAYER_ACC_Y = 1  # gravity, per frame
PLAYER_FLAP_ACC = -9  # vertical speed right after a flap
PLAYER_FLAP_CEILING = -2 * PLAYER_HEIGHT  # no flapping above this height
PLAYER_START_ROT = 45
PLAYER_MIN_ROT = -90
PLAYER_VEL_ROT = 3
PLAYER_ROT_THR = 20  # the drawn rotation never exceeds this

_PASS_X = PLAYER_MID_X - PIPE_WIDTH / 2  # pipe x at which its middle meets the bird's middle

# Pre-drawn gap heights per bird: one call to the bird's generator serves many pipes.
_GAP_BLOCK = 64


@dataclass(frozen=True)
class BirdState:
    """A snapshot of some birds' state: what the observation functions read."""

    player_y: np.ndarray
    vel_y: np.ndarray
    rot: np.ndarray
    pipe_x: np.ndarray
    gap_y: np.ndarray

    @property
    def n_birds(self) -> int:
        return len(self.player_y)


class FlappyBirdCore:
    """State and physics of ``n_birds`` independent Flappy Bird games.

    Every array has the birds on its first axis. Pipes live in ``MAX_PIPES`` slots per bird,
    sorted from left to right; an empty slot has ``pipe_x == inf``.

    :param n_birds: number of games stepped together
    """

    def __init__(self, n_birds: int) -> None:
        if n_birds < 1:
            raise ValueError(f"n_birds must be at least 1, got {n_birds}")
        self.n_birds = n_birds
        self.player_y = np.zeros(n_birds)
        self.vel_y = np.zeros(n_birds)
        self.rot = np.zeros(n_birds)
        self.pipe_x = np.full((n_birds, MAX_PIPES), NO_PIPE)
        self.gap_y = np.zeros((n_birds, MAX_PIPES))  # top of each gap
        self.score = np.zeros(n_birds, dtype=np.int64)
        self.frame = np.zeros(n_birds, dtype=np.int64)
        self.rngs: list[np.random.Generator | None] = [None] * n_birds  # None: fresh entropy when needed
        self._gaps = np.zeros((n_birds, _GAP_BLOCK))
        self._gap_next = np.full(n_birds, _GAP_BLOCK)

    def select(self, birds: np.ndarray) -> BirdState:
        """A copy of the state of the birds at indices ``birds``.

        :param birds: integer indices
        """
        return BirdState(self.player_y[birds], self.vel_y[birds], self.rot[birds], self.pipe_x[birds], self.gap_y[birds])

    def set_rng(self, index: int, rng: np.random.Generator) -> None:
        """Give bird ``index`` its own generator; pipe heights are drawn only from it.

        :param index: which bird
        :param rng: the generator (for the single env, the env's ``np_random``)
        """
        self.rngs[index] = rng
        self._gap_next[index] = _GAP_BLOCK  # drop gaps drawn from the old generator

    def _draw_gaps(self, birds: np.ndarray, count: int) -> np.ndarray:
        """Next ``count`` gap heights for each bird in ``birds``, shape (len(birds), count)."""
        for i in birds[self._gap_next[birds] + count > _GAP_BLOCK]:
            rng = self.rngs[i]
            if rng is None:
                rng = self.rngs[i] = np.random.default_rng()
            self._gaps[i] = GAP_Y_MIN + rng.integers(0, GAP_Y_CHOICES, size=_GAP_BLOCK)
            self._gap_next[i] = 0
        columns = self._gap_next[birds, None] + np.arange(count)
        self._gap_next[birds] += count
        return self._gaps[birds[:, None], columns]

    def reset(self, birds: np.ndarray | Sequence[int] | None = None) -> None:
        """Start a new game for the given birds (all by default).

        :param birds: indices of the birds to reset
        """
        index = np.arange(self.n_birds) if birds is None else np.asarray(birds, dtype=np.int64)
        if index.size == 0:
            return
        self.player_y[index] = PLAYER_START_Y
        self.vel_y[index] = PLAYER_START_VEL_Y
        self.rot[index] = PLAYER_START_ROT
        self.score[index] = 0
        self.frame[index] = 0
        self.pipe_x[index] = (FIRST_PIPE_X, FIRST_PIPE_X + PIPE_SPACING, NO_PIPE)
        self.gap_y[index, 2] = 0.0
        self.gap_y[index, :2] = self._draw_gaps(index, 2)

    def step(self, flap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every bird by one frame.

        Pipes are sorted and at least 144 pixels apart, so only the first pipe can be passed
        or touched in a frame: the others are still to the right of the bird.

        :param flap: boolean array, one entry per bird: flap this frame
        :return: ``(passed, crashed)``, boolean arrays: a pipe was passed, the bird crashed
        """
        flap = flap & (self.player_y > PLAYER_FLAP_CEILING)
        front = self.pipe_x[:, 0]
        # A pipe counts when its middle passes the bird's middle (a 4-pixel window, one frame).
        passed = (front > _PASS_X - 4) & (front <= _PASS_X)
        self.score += passed
        # A flap sets the speed and the nose up; otherwise gravity up to terminal velocity.
        self.rot = np.where(flap, PLAYER_START_ROT, np.maximum(self.rot - PLAYER_VEL_ROT, PLAYER_MIN_ROT))
        self.vel_y = np.where(flap, PLAYER_FLAP_ACC, np.minimum(self.vel_y + PLAYER_ACC_Y, PLAYER_MAX_VEL_Y))
        self.player_y += np.minimum(self.vel_y, BASE_Y - self.player_y - PLAYER_HEIGHT)
        # Pipes scroll; a new one appears when the first is about to leave, which then goes.
        self.pipe_x += PIPE_VEL_X
        spawn = np.abs(front - 2.5) < 2.5  # 0 < x < 5
        if spawn.any():
            birds = np.flatnonzero(spawn & (self.pipe_x[:, 2] == NO_PIPE))
            self.pipe_x[birds, 2] = NEW_PIPE_X
            self.gap_y[birds, 2] = self._draw_gaps(birds, 1)[:, 0]
        gone = front < -PIPE_WIDTH
        if gone.any():
            gone = np.flatnonzero(gone)
            self.pipe_x[gone, :-1] = self.pipe_x[gone, 1:]
            self.pipe_x[gone, -1] = NO_PIPE
            self.gap_y[gone, :-1] = self.gap_y[gone, 1:]
        self.frame += 1
        return passed, self.crashed()

    def crashed(self) -> np.ndarray:
        """Whether each bird touches the ground or the first pipe (rectangle overlap)."""
        front = self.pipe_x[:, 0]
        gap_top = self.gap_y[:, 0]
        in_pipe_column = (front < PLAYER_X + PLAYER_WIDTH) & (front > PLAYER_X - PIPE_WIDTH)
        outside_gap = (self.player_y < gap_top) | (self.player_y > gap_top + (PIPE_GAP - PLAYER_HEIGHT))
        return (self.player_y >= BASE_Y - 1 - PLAYER_HEIGHT) | (in_pipe_column & outside_gap)


REWARD_MODES = ("alive", "score")


def rewards(passed: np.ndarray, crashed: np.ndarray, reward_mode: str) -> np.ndarray:
    """Per-bird rewards of one frame.

    ``"alive"`` (default): +0.1 per frame alive, +1 per pipe passed, -1 on a crash.
    ``"score"``: +1 per pipe passed, -1 on a crash, nothing else.

    :param passed: a pipe was passed this frame
    :param crashed: the bird crashed this frame
    :param reward_mode: ``"alive"`` or ``"score"``
    """
    reward = passed.astype(np.float64)
    if reward_mode == "alive":
        reward += 0.1
    return np.where(crashed, -1.0, reward)


def check_reward_mode(reward_mode: str) -> None:
    """Raise a ``ValueError`` naming the valid choices if ``reward_mode`` is not one of them."""
    if reward_mode not in REWARD_MODES:
        raise ValueError(f"unknown reward_mode {reward_mode!r}: expected one of {', '.join(map(repr, REWARD_MODES))}")
