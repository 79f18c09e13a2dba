"""Training-loop pieces that sb3-behave's algorithms share, on top of SB3's ``BaseAlgorithm``.

:func:`gradient_steps` is ``learn()`` for algorithms whose timestep is one gradient step on a fixed
data set (the BC adapter, offline ValueDICE): the step count, the progress, the SB3 callbacks
after every step (so ``EvalCallback``, checkpoints and the zoo's progress bar work) and the log
dumps live here once.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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
