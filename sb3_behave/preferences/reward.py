"""imitation's preference pieces, fitted to answers that may be skipped or already on disk.

* :class:`AnsweredPreferences`: imitation's ``PreferenceDataset`` that leaves out skipped pairs
  (a ``NaN`` preference) and takes an empty batch (every pair of a batch skipped, or nothing left
  to ask because a resumed run already holds its answers).
* :class:`PairFragmenter`: imitation's ``RandomFragmenter``, which also cuts zero pairs.
* :class:`RewardModelTrainer`: imitation's ``BasicRewardTrainer``, which waits for a first answer.
* :func:`train_reward_model` and :func:`preference_accuracy`: a reward model from a folder's answers.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch as th
from imitation.algorithms.preference_comparisons import (
    BasicRewardTrainer,
    CrossEntropyRewardLoss,
    PreferenceDataset,
    PreferenceModel,
    RandomFragmenter,
)
from imitation.data.types import TrajectoryWithRew

from sb3_behave.preferences.storage import FragmentPair


class AnsweredPreferences(PreferenceDataset):
    """imitation's ``PreferenceDataset`` without the skipped pairs (``NaN`` preferences); empty batches are no-ops.

    :param max_size: the most comparisons kept (the oldest go first); ``None`` keeps all
    """

    def push(self, fragments: Sequence[FragmentPair], preferences: np.ndarray) -> None:
        """Add the answered pairs; a skipped pair (preference ``NaN``) is left out.

        :param fragments: the pairs of clips
        :param preferences: per pair, the probability that the first clip is preferred, or ``NaN``
        :raises ValueError: a different number of pairs and preferences
        """
        preferences = np.asarray(preferences, dtype=np.float32)
        if len(fragments) != len(preferences):
            raise ValueError(f"{len(fragments)} fragment pairs but {len(preferences)} preferences")
        answered = ~np.isnan(preferences)
        if not answered.any():
            return
        super().push([pair for pair, keep in zip(fragments, answered) if keep], preferences[answered])


class PairFragmenter(RandomFragmenter):
    """imitation's ``RandomFragmenter``; asked for no pairs, it returns none (without needing trajectories)."""

    def __call__(self, trajectories: Sequence[TrajectoryWithRew], fragment_length: int, num_pairs: int) -> Any:
        if num_pairs == 0:
            return []
        return super().__call__(trajectories, fragment_length, num_pairs)


class RewardModelTrainer(BasicRewardTrainer):
    """imitation's ``BasicRewardTrainer``; before the first answer there is nothing to train on, so it waits.

    imitation's loop reads the loss and accuracy of each training; without answers they are recorded as ``NaN``.
    """

    def _train(self, dataset: PreferenceDataset, epoch_multiplier: float = 1.0) -> None:
        if len(dataset) > 0:
            super()._train(dataset, epoch_multiplier)
            return
        self.logger.log("no answered comparisons yet: the reward model waits for the first")
        prefix = self.logger.get_accumulate_prefixes()
        for name in ("loss", "accuracy"):
            self.logger.record(f"{prefix}reward/final/train/{name}", float("nan"))


def make_reward_trainer(
    reward_net: Any,
    rng: np.random.Generator,
    epochs: int = 3,
    learning_rate: float = 1e-3,
    batch_size: int = 32,
    custom_logger: Any = None,
) -> RewardModelTrainer:
    """imitation's preference model and cross-entropy loss around ``reward_net``, in a :class:`RewardModelTrainer`.

    :param reward_net: an imitation ``RewardNet``
    :param rng: random generator of the trainer
    :param epochs: epochs over the dataset per training
    :param learning_rate: AdamW's learning rate
    :param batch_size: fragment pairs per gradient step
    :param custom_logger: imitation's logger
    """
    return RewardModelTrainer(
        PreferenceModel(reward_net),
        CrossEntropyRewardLoss(),
        rng=rng,
        batch_size=batch_size,
        epochs=epochs,
        lr=learning_rate,
        custom_logger=custom_logger,
    )


def fragment_returns(reward_net: Any, pairs: Sequence[FragmentPair]) -> np.ndarray:
    """The summed reward ``reward_net`` gives each fragment of ``pairs``.

    :param reward_net: an imitation ``RewardNet``
    :param pairs: fragment pairs
    :return: the returns, shape ``(len(pairs), 2)``
    """
    from imitation.util import networks

    model = PreferenceModel(reward_net)
    returns = np.zeros((len(pairs), 2))
    with th.no_grad(), networks.evaluating(reward_net):
        for i, pair in enumerate(pairs):
            for j, fragment in enumerate(pair):
                returns[i, j] = float(model.rewards(_transitions(fragment)).sum())
    return returns


def _transitions(fragment: TrajectoryWithRew) -> Any:
    from imitation.data import rollout

    return rollout.flatten_trajectories([fragment])


def preference_accuracy(reward_net: Any, pairs: Sequence[FragmentPair], preferences: np.ndarray) -> float:
    """The fraction of strict answers (not 0.5) whose better fragment gets the larger return from ``reward_net``.

    :param reward_net: an imitation ``RewardNet``
    :param pairs: fragment pairs
    :param preferences: their preferences (the probability that the first is preferred)
    :return: the accuracy, ``NaN`` when every answer says "equal"
    """
    preferences = np.asarray(preferences, dtype=np.float32)
    strict = preferences != 0.5
    if not strict.any():
        return float("nan")
    returns = fragment_returns(reward_net, [p for p, keep in zip(pairs, strict) if keep])
    return float(np.mean((returns[:, 0] > returns[:, 1]) == (preferences[strict] > 0.5)))


def train_reward_model(
    pairs: Sequence[FragmentPair],
    preferences: np.ndarray,
    observation_space: Any,
    action_space: Any,
    epochs: int = 50,
    learning_rate: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    reward_net_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Train imitation's ``BasicRewardNet`` on answered pairs (the answers of a preferences folder).

    :param pairs: fragment pairs (see :func:`~sb3_behave.preferences.storage.load_preferences`)
    :param preferences: their preferences; ``NaN`` (skipped) pairs are left out
    :param observation_space: the env's observation space
    :param action_space: the env's action space
    :param epochs: epochs over the answers
    :param learning_rate: AdamW's learning rate
    :param batch_size: pairs per gradient step
    :param seed: seed of the network and the batches
    :param reward_net_kwargs: keyword arguments of ``BasicRewardNet`` (``hid_sizes``, ...)
    :return: the trained reward net
    """
    from imitation.rewards.reward_nets import BasicRewardNet
    from imitation.util import logger as imit_logger

    th.manual_seed(seed)
    reward_net = BasicRewardNet(observation_space, action_space, **(reward_net_kwargs or {}))
    dataset = AnsweredPreferences()
    dataset.push(list(pairs), np.asarray(preferences, dtype=np.float32))
    if len(dataset) == 0:
        raise ValueError("no answered comparisons to train a reward model on (every pair was skipped)")
    import tempfile

    logger = imit_logger.configure(tempfile.mkdtemp(prefix="sb3-behave-reward-"), format_strs=())
    trainer = make_reward_trainer(reward_net, np.random.default_rng(seed), epochs, learning_rate, batch_size, logger)
    trainer.train(dataset)
    return reward_net


__all__ = [
    "AnsweredPreferences",
    "PairFragmenter",
    "RewardModelTrainer",
    "fragment_returns",
    "make_reward_trainer",
    "preference_accuracy",
    "train_reward_model",
]
