"""Training-loop pieces that sb3-behave's algorithms share, on top of SB3's ``BaseAlgorithm``.

:func:`gradient_steps` is ``learn()`` for algorithms whose timestep is one gradient step on a fixed
data set (the BC adapter, offline ValueDICE): the step count, the progress, the SB3 callbacks
after every step (so ``EvalCallback``, checkpoints and the zoo's progress bar work) and the log
dumps live here once.

:func:`bc_trainer` is imitation's BC trainer as the BC adapter, DAgger and the warm start use it:
fed batches of tensors (:class:`TransitionBatches`) and its loss computed without the critic.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_behave.stack import dump_logs


class GradientSteps:
    """Counts gradient steps as timesteps and runs the callbacks after each (see :func:`gradient_steps`).

    :param algorithm: the algorithm being trained
    :param callback: the callbacks, as ``_setup_learn`` returned them
    :param total_timesteps: the step count to reach
    :param dump_every: write the SB3 logs every this many steps (and once at the end); ``None``: never
    """

    def __init__(self, algorithm: BaseAlgorithm, callback: BaseCallback, total_timesteps: int, dump_every: int | None) -> None:
        self.algorithm = algorithm
        self.callback = callback
        self.total_timesteps = total_timesteps
        self.dump_every = dump_every
        self.stopped = False  #: a callback asked to stop

    @property
    def remaining(self) -> int:
        """Steps still to take."""
        return max(self.total_timesteps - self.algorithm.num_timesteps, 0)

    def step(self) -> bool:
        """Count one gradient step and run the callbacks; ``False`` once a callback asks to stop."""
        algorithm = self.algorithm
        algorithm.num_timesteps += 1
        algorithm._update_current_progress_remaining(algorithm.num_timesteps, self.total_timesteps)
        self.callback.update_locals({"self": algorithm})
        self.stopped = self.stopped or not self.callback.on_step()
        if self.dump_every is not None and algorithm.num_timesteps % self.dump_every == 0:
            dump_logs(algorithm)
        return not self.stopped

    def finish(self) -> None:
        """The last log dump (unless one was just written) and the callbacks' end of training."""
        if self.dump_every is not None and self.algorithm.num_timesteps % self.dump_every != 0:
            dump_logs(self.algorithm)
        self.callback.on_training_end()


@contextmanager
def gradient_steps(
    algorithm: BaseAlgorithm,
    total_timesteps: int,
    callback: MaybeCallback,
    tb_log_name: str,
    reset_num_timesteps: bool,
    progress_bar: bool,
    dump_every: int | None = None,
) -> Iterator[GradientSteps]:
    """``learn()`` where one timestep is one gradient step: set up, hand out a step counter, finish.

    Use as ``with gradient_steps(self, ...) as steps:`` then take ``steps.remaining`` gradient
    steps, calling ``steps.step()`` after each and stopping when it returns ``False``.

    :param algorithm: the algorithm being trained
    :param total_timesteps: gradient steps to take in this call (SB3's ``learn`` convention)
    :param callback: SB3 callback(s)
    :param tb_log_name: the TensorBoard run name
    :param reset_num_timesteps: start counting from 0
    :param progress_bar: show SB3's progress bar
    :param dump_every: write the SB3 logs every this many steps; ``None`` leaves logging to the caller
    """
    total_timesteps, callback = algorithm._setup_learn(
        total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
    )
    algorithm._update_current_progress_remaining(algorithm.num_timesteps, total_timesteps)  # for the first step's schedules
    callback.on_training_start(locals(), globals())
    steps = GradientSteps(algorithm, callback, total_timesteps, dump_every)
    yield steps
    steps.finish()


# --------------------------------------------------------------------------- imitation's BC at the network's speed
class TransitionBatches:
    """Demonstrations as batches of tensors: what imitation's BC trainer iterates, without a DataLoader.

    imitation's trainers take any iterable of ``{"obs": ..., "acts": ...}`` mappings as
    demonstrations. Its own loader (a torch ``DataLoader`` over a ``Transitions`` dataset) collates
    every batch sample by sample, two Python calls per transition, which on this package's
    networks costs more than the gradient step itself. Here the data is converted to tensors once,
    and a batch is one indexing operation.

    One pass is an epoch: every transition once, in a new random order, the last partial batch
    dropped (as imitation's loader does). With ``weights``, a pass draws as many transitions with
    replacement, with probabilities proportional to the weights (as torch's ``WeightedRandomSampler``).

    :param obs: observations, one row per transition
    :param acts: the demonstrated actions
    :param batch_size: transitions per batch
    :param seed: seed of the order of the batches
    :param weights: sampling weight of each transition (``None``: each once per pass)
    :raises ValueError: fewer transitions than ``batch_size``
    """

    def __init__(
        self, obs: Any, acts: Any, batch_size: int, seed: int = 0, weights: np.ndarray | None = None
    ) -> None:
        self.obs = th.as_tensor(np.array(obs))
        self.acts = th.as_tensor(np.array(acts))
        if len(self.obs) < batch_size:
            raise ValueError(f"{len(self.obs)} demonstrated transitions are fewer than the batch size {batch_size}")
        self.batch_size = batch_size
        self.weights = None if weights is None else th.as_tensor(np.asarray(weights, dtype=np.float64))
        self.generator = th.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        """Batches per pass."""
        return len(self.obs) // self.batch_size

    def __iter__(self) -> Iterator[dict[str, th.Tensor]]:
        n = len(self.obs)
        if self.weights is None:
            order = th.randperm(n, generator=self.generator)
        else:
            order = th.multinomial(self.weights, n, replacement=True, generator=self.generator)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            yield {"obs": self.obs[index], "acts": self.acts[index]}


def flat_transitions(demonstrations: Any) -> Any:
    """imitation's ``Transitions`` of what a BC trainer is given: trajectories, transitions, or DAgger's DataLoader."""
    from imitation.data import rollout, types

    transitions = getattr(demonstrations, "dataset", demonstrations)
    if isinstance(transitions, types.TransitionsMinimal):
        return transitions
    return rollout.flatten_trajectories(list(transitions))


class _ActorOnly:
    """What imitation's BC loss reads of a policy, without running the value head.

    The loss needs the log-probability of the demonstrated action and the entropy; SB3's
    ``evaluate_actions`` also runs the critic, whose output the loss discards (for a policy whose
    critic is as large as its actor, a large share of a gradient step). The numbers, and so the
    gradients, are the same; the L2 term still reads every parameter.
    """

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    def evaluate_actions(self, obs: th.Tensor, actions: th.Tensor) -> tuple[None, th.Tensor, th.Tensor | None]:
        """``(None, log_prob, entropy)``, as ``evaluate_actions`` gives them without the values."""
        distribution = self.policy.get_distribution(obs)
        return None, distribution.log_prob(actions), distribution.entropy()

    def parameters(self) -> Iterator[th.nn.Parameter]:
        """All the policy's parameters (the L2 term)."""
        return self.policy.parameters()


def bc_trainer(
    policy: Any,
    demonstrations: Any,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    batches: Callable[[Any, int], Any] | None = None,
    **bc_kwargs: Any,
) -> Any:
    """imitation's ``bc.BC`` on ``policy``, with its data as tensors and its loss without the critic.

    The trainer, its loss, its optimizer and its logging are imitation's; two of its inputs change:
    the demonstrations are :class:`TransitionBatches`, and the loss reads the actor alone
    (``_ActorOnly``). Adam steps all parameters in one call (``foreach``), which gives the same
    update as the per-tensor loop (``benchmarks/bc_speed.py`` measures what the changes give).

    :param policy: an SB3 ``ActorCriticPolicy`` (trained in place)
    :param demonstrations: trajectories or transitions (what ``bc.BC`` takes)
    :param batch_size: transitions per gradient step
    :param learning_rate: Adam's learning rate
    :param rng: imitation's random generator; it also seeds the order of the batches
    :param batches: ``batches(demonstrations, batch_size)``, the iterable of batches (default: every
        transition once per epoch, in :class:`TransitionBatches`); also used when DAgger hands the
        trainer its data of each round
    :param bc_kwargs: more keyword arguments of ``bc.BC`` (``ent_weight``, ``device``, ``custom_logger``, ...)
    """
    from imitation.algorithms import bc

    make = batches or (lambda data, size: default_batches(data, size, rng))

    class Trainer(bc.BC):
        def set_demonstrations(self, demonstrations: Any) -> None:
            self._demo_data_loader = make(demonstrations, self.minibatch_size)

    trainer = Trainer(
        observation_space=policy.observation_space,
        action_space=policy.action_space,
        rng=rng,
        policy=policy,
        demonstrations=demonstrations,
        batch_size=batch_size,
        optimizer_kwargs={"lr": learning_rate, "foreach": True},
        **bc_kwargs,
    )
    if hasattr(policy, "get_distribution"):

        class ActorOnlyLoss(bc.BehaviorCloningLossCalculator):
            """imitation's BC loss, given the policy's actor alone (``_ActorOnly``)."""

            def __call__(self, policy: Any, obs: Any, acts: Any) -> Any:
                return super().__call__(_ActorOnly(policy), obs, acts)

        loss = trainer.loss_calculator
        trainer.loss_calculator = ActorOnlyLoss(ent_weight=loss.ent_weight, l2_weight=loss.l2_weight)
    return trainer


def default_batches(
    demonstrations: Any, batch_size: int, rng: np.random.Generator, weights: np.ndarray | None = None
) -> Any:
    """The demonstrations as :class:`TransitionBatches`; Dict observations go through imitation's own loader.

    :param demonstrations: trajectories, transitions, or DAgger's data loader
    :param batch_size: transitions per batch
    :param rng: seeds the order of the batches
    :param weights: sampling weight of each transition (``None``: each once per epoch)
    :raises ValueError: fewer transitions than ``batch_size``, or weights for Dict observations
    """
    from imitation.algorithms.base import make_data_loader
    from imitation.data import types

    transitions = flat_transitions(demonstrations)
    if isinstance(transitions.obs, types.DictObs):
        if weights is not None:
            raise ValueError("weighted sampling of demonstrations takes array observations, not Dict ones")
        return make_data_loader(transitions, batch_size)
    return TransitionBatches(transitions.obs, transitions.acts, batch_size, int(rng.integers(2**31)), weights)
