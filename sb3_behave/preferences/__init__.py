"""A person's (or the env reward's) preferences between two clips of an agent, as a reward signal.

* :mod:`.storage`: one file per answer, written atomically; :func:`load_preferences` resumes a run.
* :mod:`.frames`: :class:`RenderedFrames` puts each step's rendered frame into its info, only for the
  steps fragments are cut from (:class:`RenderingAgentTrainer`).
* :mod:`.window`: the pygame window that plays two clips side by side, looping, until a key answers.
* :mod:`.gatherer`: imitation ``PreferenceGatherer`` s that save each answer as it is given.
* :mod:`.reward`: imitation's dataset, fragmenter and reward trainer, fitted to skipped and resumed answers.
* ``compare`` (the module): :func:`compare`, a person's answers about a given agent (``sb3-behave compare``).
"""

from sb3_behave.preferences.compare import auto_answer, compare, reward_model_from_answers
from sb3_behave.preferences.frames import FRAME_KEY, RenderedFrames, RenderingAgentTrainer, check_renders_frames
from sb3_behave.preferences.gatherer import PersonGatherer, RecordingGatherer
from sb3_behave.preferences.reward import (
    AnsweredPreferences,
    PairFragmenter,
    RewardModelTrainer,
    make_reward_trainer,
    preference_accuracy,
    train_reward_model,
)
from sb3_behave.preferences.storage import PreferenceError, check_preferences_folder, load_preferences, write_answer
from sb3_behave.preferences.window import ComparisonStopped, ComparisonWindow

__all__ = [
    "FRAME_KEY",
    "AnsweredPreferences",
    "ComparisonStopped",
    "ComparisonWindow",
    "PairFragmenter",
    "PersonGatherer",
    "PreferenceError",
    "RecordingGatherer",
    "RenderedFrames",
    "RenderingAgentTrainer",
    "RewardModelTrainer",
    "auto_answer",
    "check_preferences_folder",
    "check_renders_frames",
    "compare",
    "load_preferences",
    "make_reward_trainer",
    "preference_accuracy",
    "reward_model_from_answers",
    "train_reward_model",
    "write_answer",
]
