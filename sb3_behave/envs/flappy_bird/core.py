"""The one Flappy Bird simulation: N birds stepped at once by one compiled loop.

The single :class:`~sb3_behave.envs.FlappyBirdEnv` is this core with ``n_birds=1``; the
:class:`~sb3_behave.envs.FlappyBirdVecEnv` is the same core with many birds. The physics is one
Python loop over birds (``_step_birds``), compiled by numba where that pays (see
:mod:`~sb3_behave.envs.flappy_bird.jit`): one call per frame whatever the number of birds.

Constants are those of the classic FlapPyBird game (288x512 screen at 30 frames per second).
Collisions use the axis-aligned rectangles of the bird and the pipes (the original game used
pixel masks, so it forgave touching a pipe with the bird's transparent corners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sb3_behave.envs.flappy_bird.jit import compile_kernels, kernel

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


#: No limit on the score or the frames: the sentinel the kernels compare against.
NO_LIMIT = np.iinfo(np.int64).max


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


@dataclass(frozen=True)
class StepResult:
    """What one frame did to each bird: views of the core's buffers, overwritten by the next frame."""

    passed: np.ndarray  #: a pipe was passed
    crashed: np.ndarray  #: the bird touched a pipe or the ground (the episode is over)
    truncated: np.ndarray  #: a score or frame limit was reached without a crash
    reward: np.ndarray  #: float64 rewards (see :data:`REWARD_MODES`)


class FlappyBirdCore:
    """State and physics of ``n_birds`` independent Flappy Bird games.

    Every array has the birds on its first axis. Pipes live in ``MAX_PIPES`` slots per bird,
    sorted from left to right; an empty slot has ``pipe_x == inf``. The arrays are updated in
    place: a reference to one stays current.

    :param n_birds: number of games stepped together
    """

    def __init__(self, n_birds: int) -> None:
        if n_birds < 1:
            raise ValueError(f"n_birds must be at least 1, got {n_birds}")
        if n_birds > 1:
            compile_kernels()  # one bird compiles only once it has played a while (see jit.py)
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
        self._all = np.arange(n_birds)
        self._result = StepResult(
            np.zeros(n_birds, dtype=bool), np.zeros(n_birds, dtype=bool), np.zeros(n_birds, dtype=bool), np.zeros(n_birds)
        )
        self._refill = np.zeros(n_birds, dtype=np.int64)

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

    def _draw_block(self, index: int) -> None:
        """Draw bird ``index``'s next block of gap heights (the rest of its block is dropped)."""
        rng = self.rngs[index]
        if rng is None:
            rng = self.rngs[index] = np.random.default_rng()
        self._gaps[index] = GAP_Y_MIN + rng.integers(0, GAP_Y_CHOICES, size=_GAP_BLOCK)
        self._gap_next[index] = 0

    def reset(self, birds: np.ndarray | Sequence[int] | None = None) -> None:
        """Start a new game for the given birds (all by default).

        :param birds: indices of the birds to reset, each at most once
        """
        index = self._all if birds is None else np.asarray(birds, dtype=np.int64)
        if index.size == 0:
            return
        for i in index[self._gap_next[index] > _GAP_BLOCK - 2]:  # a new game takes two gap heights
            self._draw_block(i)
        state = (self.player_y, self.vel_y, self.rot, self.pipe_x, self.gap_y, self.score, self.frame)
        _reset_birds(index, *state, self._gaps, self._gap_next)

    def step(
        self, flap: np.ndarray, reward_mode: str = "alive", score_limit: int | None = None, max_frames: int | None = None
    ) -> StepResult:
        """Advance every bird by one frame.

        :param flap: boolean array, one entry per bird: flap this frame
        :param reward_mode: ``"alive"`` or ``"score"`` (see :data:`REWARD_MODES`)
        :param score_limit: a bird that reaches this score without crashing is truncated
        :param max_frames: a bird that reaches this frame without crashing is truncated
        :return: per-bird arrays, valid until the next call
        """
        if flap.shape != (self.n_birds,):  # the compiled loop does not check its indices
            raise ValueError(f"flap: expected one entry per bird, shape ({self.n_birds},), got shape {flap.shape}")
        result = self._result
        n_refill = _step_birds(
            flap,
            self.player_y,
            self.vel_y,
            self.rot,
            self.pipe_x,
            self.gap_y,
            self.score,
            self.frame,
            self._gaps,
            self._gap_next,
            0.1 if reward_mode == "alive" else 0.0,
            NO_LIMIT if score_limit is None else score_limit,
            NO_LIMIT if max_frames is None else max_frames,
            result.passed,
            result.crashed,
            result.truncated,
            result.reward,
            self._refill,
        )
        for i in self._refill[:n_refill]:  # new pipes of birds whose block of gap heights ran out
            self._draw_block(i)
            self.gap_y[i, 2] = self._gaps[i, 0]
            self._gap_next[i] = 1
        return result


@kernel
def _reset_birds(index, player_y, vel_y, rot, pipe_x, gap_y, score, frame, gaps, gap_next):  # type: ignore[no-untyped-def]
    """Put the birds at ``index`` at the start of a game: two pipes, heights from their blocks."""
    for i in index:
        player_y[i] = PLAYER_START_Y
        vel_y[i] = PLAYER_START_VEL_Y
        rot[i] = PLAYER_START_ROT
        score[i] = 0
        frame[i] = 0
        pipe_x[i, 0] = FIRST_PIPE_X
        pipe_x[i, 1] = FIRST_PIPE_X + PIPE_SPACING
        pipe_x[i, 2] = NO_PIPE
        g = gap_next[i]
        gap_y[i, 0] = gaps[i, g]
        gap_y[i, 1] = gaps[i, g + 1]
        gap_y[i, 2] = 0.0
        gap_next[i] = g + 2


@kernel
def _step_birds(  # type: ignore[no-untyped-def]
    flap,
    player_y,
    vel_y,
    rot,
    pipe_x,
    gap_y,
    score,
    frame,
    gaps,
    gap_next,
    alive_bonus,
    score_limit,
    max_frames,
    passed,
    crashed,
    truncated,
    reward,
    refill,
):
    """One frame of every bird, in float64 as the classic game; returns how many birds need gaps.

    Pipes are sorted and at least 144 pixels apart, so only the first pipe can be passed or
    touched in a frame: the others are still to the right of the bird. A bird whose block of gap
    heights is used up gets its new pipe's height from the caller, which draws the next block
    (numba cannot call numpy's generators): its index goes to ``refill``.
    """
    n_refill = 0
    for i in range(player_y.shape[0]):
        y = player_y[i]
        front = pipe_x[i, 0]
        # A pipe counts when its middle passes the bird's middle (a 4-pixel window, one frame).
        passed[i] = front > _PASS_X - 4 and front <= _PASS_X
        if passed[i]:
            score[i] += 1
        # A flap (below the ceiling) sets the speed and the nose up; else gravity up to terminal velocity.
        if flap[i] and y > PLAYER_FLAP_CEILING:
            rot[i] = PLAYER_START_ROT
            vel_y[i] = PLAYER_FLAP_ACC
        else:
            rot[i] = max(rot[i] - PLAYER_VEL_ROT, PLAYER_MIN_ROT)
            vel_y[i] = min(vel_y[i] + PLAYER_ACC_Y, PLAYER_MAX_VEL_Y)
        y += min(vel_y[i], BASE_Y - y - PLAYER_HEIGHT)
        player_y[i] = y
        # Pipes scroll; a new one appears when the first is about to leave, which then goes.
        for k in range(MAX_PIPES):
            pipe_x[i, k] += PIPE_VEL_X
        front = pipe_x[i, 0]
        if abs(front - 2.5) < 2.5 and pipe_x[i, 2] == NO_PIPE:  # 0 < x < 5
            pipe_x[i, 2] = NEW_PIPE_X
            if gap_next[i] < _GAP_BLOCK:
                gap_y[i, 2] = gaps[i, gap_next[i]]
                gap_next[i] += 1
            else:
                refill[n_refill] = i
                n_refill += 1
        elif front < -PIPE_WIDTH:
            for k in range(MAX_PIPES - 1):
                pipe_x[i, k] = pipe_x[i, k + 1]
                gap_y[i, k] = gap_y[i, k + 1]
            pipe_x[i, MAX_PIPES - 1] = NO_PIPE
            front = pipe_x[i, 0]
        frame[i] += 1
        # Crash: the ground, or an overlap of the bird's and the first pipe's rectangles.
        gap_top = gap_y[i, 0]
        in_pipe_column = front < PLAYER_X + PLAYER_WIDTH and front > PLAYER_X - PIPE_WIDTH
        outside_gap = y < gap_top or y > gap_top + (PIPE_GAP - PLAYER_HEIGHT)
        crashed[i] = y >= BASE_Y - 1 - PLAYER_HEIGHT or (in_pipe_column and outside_gap)
        if crashed[i]:
            reward[i] = -1.0
            truncated[i] = False
        else:
            reward[i] = (1.0 if passed[i] else 0.0) + alive_bonus
            truncated[i] = score[i] >= score_limit or frame[i] >= max_frames
    return n_refill


REWARD_MODES = ("alive", "score")
"""Reward modes. ``"alive"`` (default): +0.1 per frame alive, +1 per pipe passed, -1 on a crash.
``"score"``: +1 per pipe passed, -1 on a crash, nothing else."""


def check_reward_mode(reward_mode: str) -> None:
    """Raise a ``ValueError`` naming the valid choices if ``reward_mode`` is not one of them."""
    if reward_mode not in REWARD_MODES:
        raise ValueError(f"unknown reward_mode {reward_mode!r}: expected one of {', '.join(map(repr, REWARD_MODES))}")
