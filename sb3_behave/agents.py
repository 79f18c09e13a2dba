"""Who plays: the Flappy Bird demonstrator presets.

A low layer (it imports neither imitation nor torch), so that the command line can describe the
presets without loading the libraries that record with them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SkillPreset:
    """How a demonstrator of some skill plays Flappy Bird.

    :param expert: ``"scripted"`` or ``"random"``
    :param epsilon: probability of a random action instead of the expert's, at each step
    :param description: one line for ``--help`` and the README
    """

    expert: str
    epsilon: float
    description: str


#: Flappy Bird demonstrators of three skills (pipes measured over 200 seeded games).
SKILL_PRESETS = {
    "poor": SkillPreset("random", 0.0, "random flapping: dies at the first pipe (0 pipes)"),
    "medium": SkillPreset("scripted", 0.02, "the scripted expert with 2% random actions: a handful of pipes (4 on average)"),
    "strong": SkillPreset("scripted", 0.0, "the scripted expert: plays to the time limit (268 pipes on average)"),
}
