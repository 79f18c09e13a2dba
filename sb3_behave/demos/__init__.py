"""Demonstrations: recording episodes from people and programs, loading them safely."""

from sb3_behave.stack import require_imitation

require_imitation()  # imitation is installed separately: say how, before anything imports it

from sb3_behave.demos.episodes import DemonstrationError, Demonstrations, Episode  # noqa: E402
from sb3_behave.demos.record import SKILL_PRESETS, DartNoise, play_episodes, record_demonstrations  # noqa: E402
from sb3_behave.demos.recorder import RecordDemonstrations  # noqa: E402
from sb3_behave.demos.storage import (  # noqa: E402
    load_demonstrations,
    load_episodes,
    read_episode,
    save_demonstrations,
    summarize,
)

__all__ = [
    "SKILL_PRESETS",
    "DartNoise",
    "DemonstrationError",
    "Demonstrations",
    "Episode",
    "RecordDemonstrations",
    "load_demonstrations",
    "load_episodes",
    "play_episodes",
    "read_episode",
    "record_demonstrations",
    "save_demonstrations",
    "summarize",
]
