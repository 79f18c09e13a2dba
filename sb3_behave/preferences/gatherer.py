"""Preference gatherers (imitation's ``PreferenceGatherer``) that save each answer the moment it is given.

* :class:`PersonGatherer`: a person answers in the :class:`~sb3_behave.preferences.window.ComparisonWindow`;
  skipped pairs come back as ``NaN`` (left out by :class:`~sb3_behave.preferences.reward.AnsweredPreferences`).
* :class:`RecordingGatherer`: any other gatherer (imitation's ``SyntheticGatherer``), its answers saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from imitation.algorithms.preference_comparisons import PreferenceGatherer

from sb3_behave.outputs import PathLike
from sb3_behave.preferences.frames import fragment_frames
from sb3_behave.preferences.storage import FragmentPair, answer_files, check_preferences_folder, write_answer
from sb3_behave.preferences.window import ComparisonStopped, ComparisonWindow


class PersonGatherer(PreferenceGatherer):
    """A person's preferences: each pair is played in a window until a key answers, and saved at once.

    The fragments must carry their frames (recorded through
    :class:`~sb3_behave.preferences.frames.RenderedFrames`). ESC or closing the window raises
    :class:`~sb3_behave.preferences.window.ComparisonStopped`; the answers given are on disk.

    :param folder: where each answer is written (``None``: kept in memory only)
    :param total: the number of queries of the run, for the progress line (``None``: not shown)
    :param fps: frames per second of the clips
    :param clip_height: height of each clip on screen, in pixels
    :param on_frame: called as ``on_frame(frame_index, pair)`` after each frame is drawn, before its key events are read
        (tests and demos press keys with it)
    :param metadata: JSON-serialisable fields saved with every answer (env id, ...)
    :param window: the window to use (default: a new :class:`~sb3_behave.preferences.window.ComparisonWindow`)
    :param verbose: 1 prints the progress line of each query
    :param rng: unused (imitation's signature)
    :param custom_logger: imitation's logger
    """

    def __init__(
        self,
        folder: PathLike | None = None,
        total: int | None = None,
        fps: float = 15.0,
        clip_height: int = 320,
        on_frame: Callable[[int, FragmentPair], None] | None = None,
        metadata: dict[str, Any] | None = None,
        window: ComparisonWindow | None = None,
        verbose: int = 1,
        rng: np.random.Generator | None = None,
        custom_logger: Any = None,
    ) -> None:
        super().__init__(rng=rng, custom_logger=custom_logger)
        if folder is not None:
            check_preferences_folder(folder)
        self.folder = None if folder is None else Path(folder)
        self.answered = len(answer_files(folder)) if folder is not None else 0
        self.total = total
        self.on_frame = on_frame
        self.metadata = {"answered_by": "person", **(metadata or {})}
        self.window = window or ComparisonWindow(fps=fps, clip_height=clip_height)
        self.verbose = verbose
        self.skipped = 0

    def progress(self) -> str:
        """``"query 4/20 (3 answered, 17 left)"``: the query shown now, or the count when no total is known."""
        if self.total is None:
            return f"query {self.answered + 1} ({self.answered} answered)"
        left = max(self.total - self.answered, 0)
        return f"query {min(self.answered + 1, self.total)}/{self.total} ({self.answered} answered, {left} left)"

    def __call__(self, fragment_pairs: Sequence[FragmentPair]) -> np.ndarray:
        preferences = np.full(len(fragment_pairs), np.nan, dtype=np.float32)
        for i, pair in enumerate(fragment_pairs):
            left, right = fragment_frames(pair[0]), fragment_frames(pair[1])
            line = self.progress()
            if self.verbose:
                print(line, flush=True)
            hook = None if self.on_frame is None else (lambda frame, pair=pair: self.on_frame(frame, pair))
            answer = self.window.ask(left, right, line, on_frame=hook)
            if answer is None:
                self.skipped += 1
                continue
            if self.folder is not None:
                write_answer(self.folder, pair, answer, self.metadata)
            preferences[i] = answer
            self.answered += 1
        self.logger.record("skipped", self.skipped)
        return preferences

    def close(self) -> None:
        """Close the window."""
        self.window.close()


class RecordingGatherer(PreferenceGatherer):
    """Another gatherer's answers (imitation's ``SyntheticGatherer``), each saved into ``folder``.

    Also takes an empty batch (no pairs to ask about), which imitation's gatherers do not.

    :param gatherer: the gatherer that answers
    :param folder: where each answer is written (``None``: nothing is saved)
    :param metadata: JSON-serialisable fields saved with every answer
    """

    def __init__(
        self, gatherer: PreferenceGatherer, folder: PathLike | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self.gatherer = gatherer
        super().__init__(custom_logger=gatherer.logger)
        if folder is not None:
            check_preferences_folder(folder)
        self.folder = None if folder is None else Path(folder)
        self.metadata = {"answered_by": type(gatherer).__name__, **(metadata or {})}

    @property
    def logger(self) -> Any:
        """The wrapped gatherer's logger (imitation's trainer sets it on the gatherer it is given)."""
        return self.gatherer.logger

    @logger.setter
    def logger(self, value: Any) -> None:
        self.gatherer.logger = value

    def __call__(self, fragment_pairs: Sequence[FragmentPair]) -> np.ndarray:
        if len(fragment_pairs) == 0:
            return np.zeros(0, dtype=np.float32)
        preferences = np.asarray(self.gatherer(fragment_pairs), dtype=np.float32)
        if self.folder is not None:
            for pair, preference in zip(fragment_pairs, preferences):
                if not np.isnan(preference):
                    write_answer(self.folder, pair, float(preference), self.metadata)
        return preferences


__all__ = ["ComparisonStopped", "PersonGatherer", "RecordingGatherer"]
