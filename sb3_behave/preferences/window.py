"""The comparison window: two clips of an agent side by side, looping, and a person's key for the better one.

LEFT or RIGHT picks the better clip, DOWN says they are equal, S skips the pair, ESC (or closing
the window) stops asking. Answers are preferences as imitation defines them: the probability that
the left (first) fragment is preferred: LEFT 1.0, RIGHT 0.0, DOWN 0.5; a skipped pair is ``None``.

Only keys pressed while a pair is shown answer it: the event queue is emptied when a query starts
(a key pressed while the agent trains, or a second press, does not answer the next pair unseen).
Between queries :meth:`ComparisonWindow.idle` keeps the window responsive and says what happens.

Headless runs (``SDL_VIDEODRIVER=dummy``) work the same; tests press keys by posting pygame key
events from ``on_frame``, which is called after each frame is drawn and before its events are read.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from sb3_behave.stack import require_pygame

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

#: The answer of each key (pygame key names): the probability that the left clip is preferred; ``None`` skips.
KEY_ANSWERS: dict[str, float | None] = {"left": 1.0, "right": 0.0, "down": 0.5, "s": None}
#: The line of key help the window shows under the clips.
HELP = "LEFT / RIGHT: that clip is better    DOWN: equal    S: skip    ESC: stop"
#: What the window says between queries, while the agent trains.
IDLE_MESSAGE = "training the agent: the next clips come soon (keys pressed now are ignored)"
#: The smallest clip height the window accepts, in pixels.
MIN_CLIP_HEIGHT = 16
#: The largest clip height the window accepts, in pixels (a screen is rarely higher).
MAX_CLIP_HEIGHT = 2160
#: The most frames per second the window plays clips at.
MAX_FPS = 1000.0
MARGIN = 12
LABEL_HEIGHT = 26
FOOTER_HEIGHT = 50
MIN_WIDTH = 560  # the help line fits
BACKGROUND = (30, 30, 30)
TEXT = (240, 240, 240)
DIM = (170, 170, 170)
ACCENT = (250, 210, 80)
#: Seconds the window shows which answer a key took (the chosen clip framed, the answer written) before going on.
ANSWER_SECONDS = 0.4
#: What the window writes for each answer.
ANSWER_WORDS = {1.0: "LEFT is better", 0.0: "RIGHT is better", 0.5: "equal", None: "skipped"}


class ComparisonStopped(Exception):
    """The person closed the window or pressed ESC: no more questions (answers given are on disk)."""


def check_window_settings(fps: float, clip_height: int) -> None:
    """Raise a one-line ``ValueError`` unless the window can play clips at ``fps`` and ``clip_height``.

    :param fps: frames shown per second (positive, at most :data:`MAX_FPS`)
    :param clip_height: height of each clip on screen, in pixels (:data:`MIN_CLIP_HEIGHT` to :data:`MAX_CLIP_HEIGHT`)
    """
    if not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps must be in (0, {MAX_FPS}], got {fps}")
    if not MIN_CLIP_HEIGHT <= clip_height <= MAX_CLIP_HEIGHT:
        raise ValueError(f"clip_height must be from {MIN_CLIP_HEIGHT} to {MAX_CLIP_HEIGHT} pixels, got {clip_height}")


class _ScaledClip:
    """A clip's frames, each scaled to the window's height when it is drawn (the last one kept).

    Scaling them all beforehand would hold two fragments of screen-sized surfaces: 460 MB for
    two clips of 1,000 frames 320 pixels high.
    """

    def __init__(self, frames: Sequence[np.ndarray], height: int) -> None:
        self.frames = frames
        self.height = height
        self._last: tuple[int, Any] = (-1, None)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Any:
        if self._last[0] != index:
            import pygame

            frame = np.asarray(self.frames[index], dtype=np.uint8)
            width = max(1, round(frame.shape[1] * self.height / frame.shape[0]))
            surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame[..., :3].transpose(1, 0, 2)))
            self._last = (index, pygame.transform.scale(surface, (width, self.height)))
        return self._last[1]


class ComparisonWindow:
    """A pygame window that plays two clips side by side, looping, until the person answers.

    :param fps: frames shown per second
    :param clip_height: height of each clip on screen, in pixels (frames are scaled to it)
    :param title: window title
    """

    def __init__(self, fps: float = 15.0, clip_height: int = 320, title: str = "sb3-behave compare") -> None:
        check_window_settings(fps, clip_height)
        self.fps = float(fps)
        self.clip_height = int(clip_height)
        self.title = title
        self._window: Any = None
        self._font: Any = None
        self._clock: Any = None
        self._last_idle = 0.0

    # ------------------------------------------------------------------ window
    def _open(self, size: tuple[int, int]) -> None:
        require_pygame("the comparison window")
        import pygame

        try:
            if self._window is None:
                pygame.display.init()  # no pygame.init(): no sound, and opening the audio device warns without one
                pygame.font.init()
                pygame.display.set_caption(self.title)
                self._font = pygame.font.Font(None, 22)
                self._clock = pygame.time.Clock()
            if self._window is None or self._window.get_size() != size:
                self._window = pygame.display.set_mode(size)
        except pygame.error as error:
            raise ValueError(
                f"cannot open the comparison window ({error}): a person answers on a display; run where there is "
                "one (a headless run without a person: SDL_VIDEODRIVER=dummy)"
            ) from None

    def close(self) -> None:
        """Close the window (a later question opens it again)."""
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None

    @property
    def surface(self) -> Any:
        """The window's pygame surface (``None`` when closed): screenshots and tests."""
        return self._window

    def _scaled(self, frames: Sequence[np.ndarray]) -> _ScaledClip:
        return _ScaledClip(frames, self.clip_height)

    # ------------------------------------------------------------------ asking
    def ask(
        self,
        left: Sequence[np.ndarray],
        right: Sequence[np.ndarray],
        progress: str = "",
        on_frame: Callable[[int], None] | None = None,
    ) -> float | None:
        """Play both clips, looping, until a key answers.

        :param left: frames of the first fragment (RGB, height x width x 3)
        :param right: frames of the second fragment
        :param progress: a line shown under the clips (``"query 3/20 (17 left)"``)
        :param on_frame: called as ``on_frame(frame_index)`` after each frame is drawn, before its events are read
        :return: 1.0 (left better), 0.0 (right better), 0.5 (equal) or ``None`` (skipped)
        :raises ComparisonStopped: ESC or the window closed
        """
        import pygame

        if len(left) == 0 or len(right) == 0:
            raise ValueError("a clip without frames cannot be shown")
        clips = [self._scaled(left), self._scaled(right)]
        widths = [clip[0].get_width() for clip in clips]
        size = (max(sum(widths) + 3 * MARGIN, MIN_WIDTH), LABEL_HEIGHT + self.clip_height + FOOTER_HEIGHT + MARGIN)
        self._open(size)
        closed = pygame.event.peek(pygame.QUIT)
        pygame.event.clear()  # a key pressed before this pair is shown does not answer it
        if closed:
            raise ComparisonStopped("the comparison window was closed")
        keys = {pygame.key.key_code(name): answer for name, answer in KEY_ANSWERS.items()}
        hold = max(1, round(self.fps / 2))  # the last frame stays a moment before the clips start again
        period = max(len(left), len(right)) + hold
        index = 0
        while True:
            self._draw(clips, widths, index % period, progress)
            if on_frame is not None:
                on_frame(index)
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    raise ComparisonStopped("the comparison window was closed")
                if event.type == pygame.KEYDOWN and event.key in keys:
                    answer = keys[event.key]
                    self._show_answer(clips, widths, index % period, progress, answer)
                    return answer
            self._clock.tick(self.fps)
            index += 1

    def _show_answer(
        self, clips: list[_ScaledClip], widths: list[int], step: int, progress: str, answer: float | None
    ) -> None:
        """Frame the chosen clip (both for equal) and write the answer, for :data:`ANSWER_SECONDS`."""
        import pygame

        chosen = {1.0: (0,), 0.0: (1,), 0.5: (0, 1)}.get(answer, ())  # type: ignore[call-overload]
        self._draw(clips, widths, step, f"{progress}: {ANSWER_WORDS[answer]}", flip=False)
        x = (self._window.get_width() - sum(widths) - MARGIN) // 2
        for i, width in enumerate(widths):
            if i in chosen:
                pygame.draw.rect(self._window, ACCENT, (x - 4, LABEL_HEIGHT - 4, width + 8, self.clip_height + 8), 4)
            x += width + MARGIN
        pygame.display.flip()
        for _ in range(max(1, round(self.fps * ANSWER_SECONDS))):
            pygame.event.pump()  # the window stays responsive; keys pressed now are dropped by the next question
            self._clock.tick(self.fps)

    def idle(self, message: str = IDLE_MESSAGE, interval: float = 0.1, open_window: bool = False) -> None:
        """Between queries: keep an open window responsive (its system events handled) and show ``message``.

        Cheap to call after every env step: it does something at most once per ``interval`` seconds.
        Keys pressed meanwhile stay unanswered: the next :meth:`ask` drops them.

        :param message: the line shown in place of the clips
        :param interval: seconds between two redraws
        :param open_window: open the window if it is closed (before the first question: while the clips are made)
        """
        if self._window is None and open_window:
            self._open((MIN_WIDTH, LABEL_HEIGHT + self.clip_height + FOOTER_HEIGHT + MARGIN))
        if self._window is None:
            return
        now = time.monotonic()
        if now - self._last_idle < interval:
            return
        self._last_idle = now
        import pygame

        pygame.event.pump()
        self._window.fill(BACKGROUND)
        self._window.blit(self._font.render(message, True, ACCENT), (MARGIN, LABEL_HEIGHT + self.clip_height // 2))
        pygame.display.flip()

    def _draw(self, clips: list[_ScaledClip], widths: list[int], step: int, progress: str, flip: bool = True) -> None:
        import pygame

        window, font = self._window, self._font
        window.fill(BACKGROUND)
        x = (window.get_width() - sum(widths) - MARGIN) // 2
        for clip, width, label in zip(clips, widths, ("LEFT", "RIGHT")):
            shown = min(step, len(clip) - 1)
            window.blit(font.render(label, True, TEXT), (x, 6))
            window.blit(clip[shown], (x, LABEL_HEIGHT))
            bar_y = LABEL_HEIGHT + self.clip_height + 2
            pygame.draw.rect(window, (70, 70, 70), (x, bar_y, width, 4))
            pygame.draw.rect(window, ACCENT, (x, bar_y, round(width * (shown + 1) / len(clip)), 4))
            x += width + MARGIN
        top = LABEL_HEIGHT + self.clip_height + 12
        window.blit(font.render(progress, True, ACCENT), (MARGIN, top))
        window.blit(font.render(HELP, True, DIM), (MARGIN, top + 22))
        if flip:
            pygame.display.flip()


__all__ = [
    "ANSWER_SECONDS",
    "ANSWER_WORDS",
    "HELP",
    "IDLE_MESSAGE",
    "KEY_ANSWERS",
    "MAX_CLIP_HEIGHT",
    "MAX_FPS",
    "MIN_CLIP_HEIGHT",
    "ComparisonStopped",
    "ComparisonWindow",
    "check_window_settings",
]
