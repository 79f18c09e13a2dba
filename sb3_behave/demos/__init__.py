"""Demonstrations: recording episodes from people and programs, loading them safely."""

from sb3_behave.demos.record import SKILL_PRESETS, record_demonstrations
from sb3_behave.demos.recorder import RecordDemonstrations
from sb3_behave.demos.storage import (
    DemonstrationError,
    Episode,
    load_demonstrations,
    load_episodes,
    read_episode,
    save_demonstrations,
    summarize,
)

__all__ = [
    "SKILL_PRESETS",
    "DemonstrationError",
    "Episode",
    "RecordDemonstrations",
    "load_demonstrations",
    "load_episodes",
    "read_episode",
    "record_demonstrations",
    "save_demonstrations",
    "summarize",
]
