"""``LandscapeCallback``: snapshots of the IL and RL loss landscapes of the policy while it trains."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from stable_baselines3.common.callbacks import BaseCallback

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.landscape.directions import DEFAULT_WEIGHTS


class LandscapeCallback(BaseCallback):
    """Every ``every_n_steps`` steps, draw the IL and RL landscapes of ``model.policy`` on demonstrations.

    Each snapshot evaluates both losses on a grid around the current parameters (see
    :func:`sb3_behave.landscape.compute_landscape`) and records, in the model's logger:

    - ``landscape/<set>/pearson``, ``spearman``, ``minima_distance``, ``gradient_cosine`` (scalars);
    - ``landscape/<set>/figure``: IL | RL | difference, for TensorBoard only.

    The records are written at the algorithm's next ``logger.dump`` (every rollout for PPO) or at
    the end of training. The policy's parameters and ``.grad`` are left untouched. Works with
    actor-critic policies (PPO, A2C, TRPO); observations are normalized with the model's
    ``VecNormalize``, if it has one. ``history`` keeps every snapshot's metrics.

    :param demonstrations: one set, as :func:`sb3_behave.demos.load_demonstrations` reads it (with
        rewards), or a mapping ``{name: set}`` for several sets
    :param every_n_steps: environment steps between snapshots
    :param grid: points per axis of the grid
    :param span: the grid covers ``[-span, span]``
    :param directions: ``"filter"``, ``"weights"`` or ``"gradients"``; ``filter`` directions are
        drawn afresh for each snapshot (with the same seed) around the current weights
    :param il_loss: the IL loss (default cross-entropy for Discrete, NLL for Box)
    :param gamma: discount of the RL loss
    :param baseline: ``"none"``, ``"mean"`` or ``"time"``
    :param normalize_returns: standardize the returns
    :param weights: the two scalar weights of ``directions="weights"``
    :param seed: seed of the random directions
    :param at_start: also take a snapshot when training starts
    :param figures: log figures (scalars only if ``False``)
    :param verbose: 1 prints a line per snapshot and set
    """

    def __init__(
        self,
        demonstrations: Demonstrations | Mapping[str, Demonstrations],
        every_n_steps: int = 10_000,
        grid: int = 21,
        span: float = 1.0,
        directions: str = "filter",
        il_loss: str | None = None,
        gamma: float = 0.99,
        baseline: str = "none",
        normalize_returns: bool = False,
        weights: tuple[str, str] = DEFAULT_WEIGHTS,
        seed: int = 0,
        at_start: bool = True,
        figures: bool = True,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        from sb3_behave.landscape.report import LandscapeConfig

        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, got {every_n_steps}")
        self.demonstrations = demonstrations
        self.every_n_steps = every_n_steps
        self.config = LandscapeConfig(
            directions=directions,
            grid=grid,
            span=span,
            il_loss=il_loss,
            gamma=gamma,
            baseline=baseline,
            normalize_returns=normalize_returns,
            weights=tuple(weights),
            seed=seed,
        )
        self.config.check()
        self.at_start = at_start
        self.figures = figures
        self.history: list[dict[str, Any]] = []
        self._sets: list[Any] = []
        self._last = 0

    # ------------------------------------------------------------------ demonstrations
    def _demo_sets(self) -> list[Any]:
        from sb3_behave.landscape.objectives import DemoSet

        demos = self.demonstrations
        if isinstance(demos, Mapping):
            return [DemoSet.load(str(name), value, self.training_env) for name, value in demos.items()]
        name = Path(demos).name if isinstance(demos, (str, os.PathLike)) else "demos"
        return [DemoSet.load(name, demos, self.training_env)]

    # ------------------------------------------------------------------ SB3 hooks
    def _on_training_start(self) -> None:
        self._sets = self._demo_sets()
        self._last = self.num_timesteps
        if self.at_start:
            self.snapshot()

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last >= self.every_n_steps:
            self._last = self.num_timesteps
            self.snapshot()
        return True

    def _on_training_end(self) -> None:
        if any(key.startswith("landscape/") for key in self.logger.name_to_value):
            self.logger.dump(self.num_timesteps)  # records not yet written by the algorithm

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> list[Any]:
        """Compute and record the landscapes of the current policy on every set; returns them."""
        from stable_baselines3.common.logger import Figure

        from sb3_behave.landscape.actor import PolicyActor
        from sb3_behave.landscape.report import compute_landscape

        normalize = self.model.get_vec_normalize_env()
        actor = PolicyActor(self.model.policy, normalize.normalize_obs if normalize is not None else None)
        landscapes = [compute_landscape(actor, demos, self.config) for demos in self._sets]
        for ls in landscapes:
            for key, value in ls.metrics.items():
                if isinstance(value, (int, float)):
                    self.logger.record(f"landscape/{ls.name}/{key}", value)
            if self.figures:
                exclude = ("stdout", "log", "json", "csv")
                self.logger.record(f"landscape/{ls.name}/figure", Figure(ls.figure(), close=True), exclude=exclude)
            self.history.append({"timesteps": self.num_timesteps, "set": ls.name, **ls.metrics})
            if self.verbose >= 1:
                print(
                    f"landscape at {self.num_timesteps} steps, {ls.name}: Pearson {ls.metrics['pearson']}, "
                    f"gradient cosine {ls.metrics['gradient_cosine']}"
                )
        return landscapes
