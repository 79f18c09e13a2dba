"""Behavioural cloning and DAgger: imitation's ``bc.BC`` and ``dagger.SimpleDAggerTrainer`` as SB3 algorithms."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.stack import imitation_bc_warning_silenced
from sb3_behave.training import bc_trainer, default_batches, flat_transitions, gradient_steps
from sb3_behave.zoo.adapters.base import ImitationAlgorithm
from sb3_behave.zoo.adapters.standardize import StandardizedFlatten, standardizers

SelfBC = TypeVar("SelfBC", bound="BC")
SelfDAgger = TypeVar("SelfDAgger", bound="DAgger")


class _StopTraining(Exception):
    """A callback asked training to stop (``on_step`` returned False)."""


class BC(ImitationAlgorithm):
    """Behavioural cloning (imitation's ``bc.BC``) as an SB3 algorithm.

    ``learn(total_timesteps)`` takes ``total_timesteps`` gradient steps on batches of
    demonstrations; the env serves the zoo's evaluation only.

    Three options make a clone fit demonstrations whose decisions hinge on small differences
    (``zoo_configs/bc.yml`` uses them on Flappy Bird): ``standardize_observations``, a decaying
    ``learning_rate`` (the zoo's ``lin_1e-3``) and ``balance_actions``. They configure imitation's
    trainer; its loss and optimizer are unchanged.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env the policy will act in (spaces, evaluation)
    :param demonstrations: one path or several (see :class:`~sb3_behave.zoo.adapters.base.ImitationAlgorithm`)
    :param learning_rate: Adam's learning rate, or a schedule of the progress remaining (1 to 0),
        applied at every gradient step
    :param batch_size: demonstrations per gradient step
    :param ent_weight: weight of the entropy bonus in imitation's BC loss
    :param l2_weight: weight of the L2 penalty on the policy's weights
    :param standardize_observations: standardize each observation feature with the mean and
        standard deviation of the demonstrations. The statistics are buffers of the policy
        (:class:`~sb3_behave.zoo.adapters.standardize.StandardizedFlatten`), saved with it and
        applied by ``predict``. Box observations only
    :param balance_actions: for Discrete actions, sample each demonstration with weight
        ``1 / frequency(action) ** balance_actions``: 0 keeps the demonstrations' own mix, 1 shows
        every action equally often (rare actions, such as Flappy Bird's flaps, count more)
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    """

    algo_name = "bc"

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
        learning_rate: float | Schedule = 1e-3,
        batch_size: int = 32,
        ent_weight: float = 1e-3,
        l2_weight: float = 0.0,
        standardize_observations: bool = False,
        balance_actions: float = 0.0,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.batch_size = batch_size
        self.ent_weight = ent_weight
        self.l2_weight = l2_weight
        if not 0.0 <= balance_actions <= 1.0:
            raise ValueError(f"{self.algo_name}: balance_actions must be in [0, 1], got {balance_actions}")
        self.balance_actions = balance_actions
        self.standardize_observations = standardize_observations
        if standardize_observations:
            extractor = (policy_kwargs or {}).get("features_extractor_class", StandardizedFlatten)
            if extractor is not StandardizedFlatten:
                raise ValueError(
                    f"{self.algo_name}: standardize_observations sets the policy's features_extractor_class; "
                    f"policy_kwargs names another ({getattr(extractor, '__name__', extractor)})"
                )
            policy_kwargs = {**(policy_kwargs or {}), "features_extractor_class": StandardizedFlatten}
        super().__init__(
            policy=policy,
            env=env,
            demonstrations=demonstrations,
            learning_rate=learning_rate,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.balance_actions > 0 and not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"{self.algo_name}: balance_actions weighs Discrete actions, "
                f"and this env's actions are {type(self.action_space).__name__}: set it to 0"
            )

    def _batches(self, demonstrations: Any, batch_size: int) -> Any:
        """The demonstrations as batches of tensors: fits the standardization first, and samples by ``balance_actions``.

        :param demonstrations: what imitation's ``BC.set_demonstrations`` takes (trajectories,
            transitions, or DAgger's data loader)
        :param batch_size: transitions per batch
        """
        transitions = flat_transitions(demonstrations)
        for module in standardizers(self.policy):
            if not module.is_fitted:
                module.fit(transitions.obs)
        weights = None
        if self.balance_actions > 0:
            actions = np.asarray(transitions.acts).astype(np.int64).reshape(-1)
            frequency = np.bincount(actions) / len(actions)
            weights = frequency[actions] ** -self.balance_actions
        try:
            return default_batches(transitions, batch_size, self._rng(), weights)
        except ValueError as error:
            raise ValueError(f"{self.algo_name}: {error}") from None

    def _make_bc_trainer(self, demonstrations: Any, imitation_logger: Any) -> Any:
        return bc_trainer(
            self.policy,
            demonstrations,
            self.batch_size,
            self.lr_schedule(1.0),
            self._rng(),
            batches=self._batches,
            ent_weight=self.ent_weight,
            l2_weight=self.l2_weight,
            device=self.device,
            custom_logger=imitation_logger,
        )

    def learn(
        self: SelfBC,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "BC",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfBC:
        """Train by behavioural cloning: one timestep is one gradient step.

        :param total_timesteps: gradient steps (batches of demonstrations)
        :param callback: SB3 callback(s), called after every gradient step
        :param log_interval: write the BC loss every this many gradient steps
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        demonstrations = self._load_demonstrations()
        with gradient_steps(self, total_timesteps, callback, tb_log_name, reset_num_timesteps, progress_bar) as steps:
            trainer = self._make_bc_trainer(demonstrations, self._imitation_logger())

            def on_batch_end() -> None:
                if not steps.step():
                    raise _StopTraining
                self._update_current_progress_remaining(self.num_timesteps, steps.total_timesteps)
                self._update_learning_rate(trainer.optimizer)

            if steps.remaining > 0:
                try:
                    with imitation_bc_warning_silenced():
                        trainer.train(
                            n_batches=steps.remaining,
                            on_batch_end=on_batch_end,
                            log_interval=max(log_interval, 1),
                            progress_bar=False,
                        )
                except _StopTraining:
                    pass
        return self


class _StepCallbacks(VecEnvWrapper):
    """Runs ``on_step`` (the SB3 callbacks) after each step of a VecEnv that imitation drives (DAgger's rollouts)."""

    def __init__(self, venv: VecEnv, on_step: Callable[[], None]) -> None:
        super().__init__(venv)
        self._on_step = on_step

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        result = self.venv.step_wait()
        self._on_step()
        return result


def _expert(expert: str, env: VecEnv) -> Any:
    """DAgger's expert: ``"scripted"`` (the steady Flappy Bird expert), ``"precise"``, a model ``.zip`` or a zoo folder."""
    from sb3_behave.agents import SCRIPTED_EXPERTS, expert_policy, model_policy

    if expert in SCRIPTED_EXPERTS:
        from sb3_behave.envs import FlappyBirdExpert

        act = FlappyBirdExpert.from_style(SCRIPTED_EXPERTS[expert]).act
        return expert_policy(env.observation_space, env.action_space, act)
    if not Path(expert).exists():
        raise ValueError(f"expert: {expert!r}: expected 'scripted', 'precise', a model .zip or an RL Zoo run folder")
    spec = env.get_attr("spec", indices=[0])[0]
    single = gym.make(spec.id) if spec is not None else None  # the zoo run's files and statistics are found by env id
    act = model_policy(expert, single if single is not None else env)
    if single is not None:
        single.close()
    return expert_policy(env.observation_space, env.action_space, act)


class DAgger(BC):
    """DAgger (imitation's ``SimpleDAggerTrainer``) as an SB3 algorithm.

    Each round the policy plays with probability ``1 - beta`` (beta falls linearly from 1 to 0
    over ``beta_rampdown`` rounds), the expert labels every visited state, and BC trains on all
    labels so far. ``learn(total_timesteps)`` counts env steps; the last round is finished, so a
    few more may be taken.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param expert: ``"scripted"`` (the steady Flappy Bird expert), ``"precise"`` (the precise one),
        a model ``.zip`` or an RL Zoo run folder
    :param demonstrations: optional demonstrations added to the first round's data
    :param learning_rate: Adam's learning rate, or a schedule of the progress remaining (set at each round)
    :param batch_size: labels per gradient step
    :param ent_weight: weight of the entropy bonus in the BC loss
    :param l2_weight: weight of the L2 penalty
    :param standardize_observations: as :class:`BC`; the statistics are fitted on the first
        round's data (the expert's own play, with the demonstrations if given)
    :param balance_actions: as :class:`BC`, over all labels so far
    :param beta_rampdown: rounds over which beta falls from 1 to 0
    :param rollout_round_min_episodes: episodes collected per round, at least
    :param rollout_round_min_timesteps: env steps collected per round, at least
    :param bc_epochs_per_round: BC epochs over all data after each round
    :param scratch_dir: where imitation keeps each round's data (by default a temporary folder,
        removed when ``learn`` returns)
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    """

    algo_name = "dagger"

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        expert: str = "scripted",
        demonstrations: Demonstrations | None = None,
        learning_rate: float | Schedule = 1e-3,
        batch_size: int = 32,
        ent_weight: float = 1e-3,
        l2_weight: float = 0.0,
        standardize_observations: bool = False,
        balance_actions: float = 0.0,
        beta_rampdown: int = 15,
        rollout_round_min_episodes: int = 3,
        rollout_round_min_timesteps: int = 500,
        bc_epochs_per_round: int = 4,
        scratch_dir: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        self.expert = expert
        self.beta_rampdown = beta_rampdown
        self.rollout_round_min_episodes = rollout_round_min_episodes
        self.rollout_round_min_timesteps = rollout_round_min_timesteps
        self.bc_epochs_per_round = bc_epochs_per_round
        self.scratch_dir = scratch_dir
        self.round_num = 0
        super().__init__(
            policy=policy,
            env=env,
            demonstrations=demonstrations,
            learning_rate=learning_rate,
            batch_size=batch_size,
            ent_weight=ent_weight,
            l2_weight=l2_weight,
            standardize_observations=standardize_observations,
            balance_actions=balance_actions,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _make_dagger_trainer(
        self, venv: VecEnv, expert: Any, initial: list[Any], scratch_dir: str, imitation_logger: Any
    ) -> Any:
        """imitation's ``SimpleDAggerTrainer``, continuing this run's rounds and logging them with its env steps.

        Each ``learn`` makes a new trainer whose rounds count from 0 (imitation's scratch folder
        holds only this call's data); the beta schedule and the logged round number go on from
        :attr:`round_num`.
        """
        from imitation.algorithms import dagger

        adapter, first_round = self, self.round_num
        schedule = dagger.LinearBetaSchedule(self.beta_rampdown)

        class Trainer(dagger.SimpleDAggerTrainer):
            def create_trajectory_collector(self) -> dagger.InteractiveTrajectoryCollector:
                collector = super().create_trajectory_collector()
                self.logger.record("dagger/beta", collector.beta)
                # The round's start, from which _round_learning_rates sets the rate.
                adapter._update_current_progress_remaining(adapter.num_timesteps, adapter._total_timesteps)
                return collector

            def extend_and_update(self, bc_train_kwargs: dict | None = None) -> int:
                # imitation's loop logs its own counts (from 0, episode steps only): these are the run's.
                self.logger.record("dagger/round_num", first_round + self.round_num)
                self.logger.record("dagger/total_timesteps", adapter.num_timesteps)
                on_batch_end = adapter._round_learning_rates(self.bc_trainer, bc_train_kwargs or {})
                return super().extend_and_update({**(bc_train_kwargs or {}), "on_batch_end": on_batch_end})

        return Trainer(
            venv=venv,
            scratch_dir=scratch_dir,
            expert_policy=expert,
            rng=self._rng(),
            expert_trajs=initial or None,
            beta_schedule=lambda round_num: schedule(first_round + round_num),
            bc_trainer=self._make_bc_trainer(None, imitation_logger),
            custom_logger=imitation_logger,
        )

    def _round_learning_rates(self, trainer: Any, bc_train_kwargs: dict[str, Any]) -> Callable[[], None]:
        """Set the round's first learning rate; return the ``on_batch_end`` that moves it along the round.

        The rate goes linearly, gradient step by gradient step, from the schedule's value at the
        round's start (the progress remaining set when the round began collecting) to its value at
        the round's end (after its env steps). The last round overshoots ``total_timesteps``; its
        rate ends at the schedule's value at the end of training (0 for ``lin_*``), never past it.

        :param trainer: imitation's BC trainer of the round
        :param bc_train_kwargs: the round's ``BC.train`` arguments (``n_epochs``)
        """
        start = self._current_progress_remaining
        self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
        first, last = self.lr_schedule(start), self.lr_schedule(max(0.0, self._current_progress_remaining))
        state = {"batch": 0, "batches": None}

        def set_rate(rate: float) -> None:
            for group in trainer.optimizer.param_groups:
                group["lr"] = rate
            self.logger.record("train/learning_rate", rate)

        def on_batch_end() -> None:
            if state["batches"] is None:  # the round's data is loaded by now
                try:
                    per_epoch = len(trainer._demo_data_loader)
                except TypeError:  # a loader of unknown length: the round keeps its first rate
                    per_epoch = 0
                state["batches"] = int(bc_train_kwargs.get("n_epochs", 1)) * per_epoch
            if not state["batches"]:
                return
            state["batch"] += 1
            set_rate(first + (last - first) * min(1.0, state["batch"] / state["batches"]))

        set_rate(first)
        return on_batch_end

    def learn(
        self: SelfDAgger,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "DAgger",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDAgger:
        """Train by DAgger: rounds of imitation's own loop until ``total_timesteps`` env steps are taken.

        :param total_timesteps: env steps (the last round is finished, so a few more may be taken)
        :param callback: SB3 callback(s), called after every env step; a stop request ends training
            once the current round is collected and trained on
        :param log_interval: write the BC loss every this many gradient steps
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        import datasets

        assert self.env is not None, "DAgger needs an env to learn"
        datasets.disable_progress_bars()  # imitation saves each round's data as a dataset
        initial = self._load_demonstrations(required=False)
        expert = _expert(self.expert, self.env)
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        stop = {"requested": False}

        def on_step() -> None:
            self.num_timesteps += self.env.num_envs
            callback.update_locals({"self": self})
            stop["requested"] = stop["requested"] or not callback.on_step()

        bc_kwargs = {"n_epochs": self.bc_epochs_per_round, "log_rollouts_venv": None, "progress_bar": False}
        # imitation keeps each round's data on disk; without a scratch_dir, in a folder removed afterwards.
        with tempfile.TemporaryDirectory(prefix="sb3-behave-dagger-") as temporary:
            venv = _StepCallbacks(self.env, on_step)
            trainer = self._make_dagger_trainer(venv, expert, initial, self.scratch_dir or temporary, self._imitation_logger())
            while self.num_timesteps < total_timesteps and not stop["requested"]:
                with imitation_bc_warning_silenced():
                    trainer.train(  # total_timesteps=1: exactly one round (collect, label, train)
                        1,
                        rollout_round_min_episodes=self.rollout_round_min_episodes,
                        rollout_round_min_timesteps=self.rollout_round_min_timesteps,
                        bc_train_kwargs={**bc_kwargs, "log_interval": log_interval},
                    )
            self.round_num += trainer.round_num
        callback.on_training_end()
        return self
