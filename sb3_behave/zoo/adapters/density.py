"""Density-based reward modelling: imitation's ``density.DensityAlgorithm`` with a generator from SB3 or sb3-contrib.

A kernel density estimate (scikit-learn's ``KernelDensity``) is fitted to the demonstrations, of
their states, state-action pairs or state-next-state pairs; the generator (PPO, A2C or TRPO)
trains the adapter's policy on its log-density as the reward (or, with ``generator_reward:
positive``, on ``softplus`` of it: ``log(1 + density)``, which pays for every step lived).
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback

from sb3_behave.checks import is_number, is_whole_number
from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.zoo.adapters.base import silent_imitation_logger
from sb3_behave.zoo.adapters.generator import ForwardCallback, GeneratorAlgorithm
from sb3_behave.zoo.adapters.positive import check_generator_reward, positive_reward

SelfDensity = TypeVar("SelfDensity", bound="Density")

#: What the density is of, by the name used in YAML, and imitation's ``DensityType`` member for it.
DENSITY_TYPES = {"state": "STATE_DENSITY", "state_action": "STATE_ACTION_DENSITY", "state_state": "STATE_STATE_DENSITY"}
#: The kernels of scikit-learn's ``KernelDensity``.
KERNELS = ("gaussian", "tophat", "epanechnikov", "exponential", "linear", "cosine")


class _DropFinishedEpisodes(BaseCallback):
    """Empties imitation's episode buffer after each rollout.

    imitation keeps every episode of ``train_policy`` for a fixed-horizon check that variable
    horizons skip; dropping them keeps memory bounded on long runs.

    :param buffering_wrapper: the ``BufferingWrapper`` of imitation's ``DensityAlgorithm``
    """

    def __init__(self, buffering_wrapper: Any) -> None:
        super().__init__()
        self.buffering_wrapper = buffering_wrapper

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.buffering_wrapper.pop_finished_trajectories()


class Density(GeneratorAlgorithm):
    """Density-based reward modelling (imitation's ``density.DensityAlgorithm``) as an SB3 algorithm.

    The first ``learn`` fits the density to the demonstrations; the density's inputs (the
    demonstrations' flattened states, state-action or state-state pairs) are saved with the model,
    and a loaded model refits its density to them, which gives the same reward without reading the
    demonstrations again (a kernel density estimate is its data and its bandwidth). Every keyword
    argument this class does not know goes to the generator (``n_steps``, ``batch_size``,
    ``ent_coef``, ...), as for GAIL. Episodes may have different lengths (imitation's
    ``allow_variable_horizon``); mind that the log-density is mostly negative, which rewards ending
    episodes early in envs that end on failure (``generator_reward="positive"`` pays ``log(1 + density)`` instead).

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param demonstrations: one path or several (see :class:`~sb3_behave.zoo.adapters.base.ImitationAlgorithm`)
    :param density_type: what the density is of: ``"state"``, ``"state_action"`` or ``"state_state"``
    :param kernel: the kernel of scikit-learn's ``KernelDensity``: ``"gaussian"``, ``"tophat"``,
        ``"epanechnikov"``, ``"exponential"``, ``"linear"`` or ``"cosine"``
    :param kernel_bandwidth: the kernel's bandwidth (in standard deviations with ``standardise_inputs``)
    :param standardise_inputs: scale the density's inputs to zero mean and unit variance over the demonstrations
    :param is_stationary: one density for every time step; only ``True`` is supported (imitation
        1.0.1's reward wrapper does not give the time step a per-step density needs)
    :param reward_floor: the reward of a transition whose log-density is lower (outside the support
        of a compact kernel, tophat, epanechnikov, linear or cosine, it is minus infinity, on which
        the generator cannot train); ``None``: imitation's log-density as it is
    :param generator_reward: what the generator is trained on: ``"log_density"`` (imitation's, floored
        at ``reward_floor``) or ``"positive"`` (:func:`~sb3_behave.zoo.adapters.positive.positive_reward`
        of the log-density, ``log(1 + density)``: never below 0, so ending an episode never pays
        in an env that ends on failure; ``reward_floor`` is then not used)
    :param kernel_rtol: relative tolerance of the kernel density (scikit-learn's ``rtol``): 0 computes
        it exactly; ``0.01`` scores a transition several times faster, within 1%
    :param max_kernel_centres: fit the density to at most this many of the demonstrations'
        transitions, drawn with the model's seed (a kernel density costs time in its number of
        centres); ``None``: all
    :param gen_algo: the generator: ``"ppo"``, ``"a2c"`` or ``"trpo"`` (sb3-contrib)
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    :param gen_kwargs: the generator's hyperparameters (``n_steps``, ``learning_rate``, ``ent_coef``, ...)
    """

    algo_name = "density"

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
        density_type: str = "state_action",
        kernel: str = "gaussian",
        kernel_bandwidth: float = 0.5,
        standardise_inputs: bool = True,
        is_stationary: bool = True,
        reward_floor: float | None = -100.0,
        generator_reward: str = "log_density",
        kernel_rtol: float = 0.0,
        max_kernel_centres: int | None = None,
        gen_algo: str = "ppo",
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        **gen_kwargs: Any,
    ) -> None:
        if density_type not in DENSITY_TYPES:
            raise ValueError(f"density: density_type {density_type!r}: expected one of {', '.join(DENSITY_TYPES)}")
        if kernel not in KERNELS:
            raise ValueError(f"density: kernel {kernel!r}: expected one of {', '.join(KERNELS)}")
        if not is_number(kernel_bandwidth) or not kernel_bandwidth > 0:
            raise ValueError(f"density: kernel_bandwidth {kernel_bandwidth!r}: expected a number above 0")
        if not is_stationary:
            raise ValueError(
                "density: is_stationary: False needs the time step of each transition, which imitation 1.0.1's "
                "reward wrapper does not give: use True"
            )
        if not is_number(kernel_rtol) or not 0 <= kernel_rtol < 1:
            raise ValueError(f"density: kernel_rtol {kernel_rtol!r}: expected a number in [0, 1)")
        if max_kernel_centres is not None and not is_whole_number(max_kernel_centres):
            raise ValueError(f"density: max_kernel_centres {max_kernel_centres!r}: expected a whole number above 0, or null")
        self.generator_reward = check_generator_reward("density", generator_reward)
        self.kernel_rtol = float(kernel_rtol)
        self.max_kernel_centres = max_kernel_centres
        self.density_type = density_type
        self.kernel = kernel
        self.kernel_bandwidth = kernel_bandwidth
        self.standardise_inputs = standardise_inputs
        self.is_stationary = is_stationary
        self.reward_floor = reward_floor
        #: The density's inputs, fitted on the first ``learn`` (saved with the model).
        self.density_inputs: np.ndarray | None = None
        self._trainer: Any = None
        super().__init__(
            policy=policy,
            env=env,
            demonstrations=demonstrations,
            gen_algo=gen_algo,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
            **gen_kwargs,
        )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_trainer"]

    def set_env(self, env: GymEnv, force_reset: bool = True) -> None:
        """Use another env (the same spaces); imitation's trainer is made again on it, from the saved density inputs.

        :param env: the new env
        :param force_reset: reset it before the next ``learn`` (as SB3's)
        """
        super().set_env(env, force_reset)
        self._trainer = None  # made again on the new env

    def _density_trainer(self) -> Any:
        """imitation's ``DensityAlgorithm`` on this env, its density fitted (to the saved inputs once there are some)."""
        if self._trainer is None:
            from imitation.algorithms.density import DensityAlgorithm, DensityType

            if self.env is None:
                raise ValueError("density: the model has no env: load it with env= (or call set_env) to learn or give rewards")
            fitted = self.density_inputs is not None
            trainer = DensityAlgorithm(
                demonstrations=None if fitted else self._load_demonstrations(),
                venv=self.env,
                rng=self._rng(),
                density_type=DensityType[DENSITY_TYPES[self.density_type]],
                kernel=self.kernel,
                kernel_bandwidth=self.kernel_bandwidth,
                is_stationary=self.is_stationary,
                standardise_inputs=self.standardise_inputs,
                custom_logger=silent_imitation_logger(),  # the generator logs to the run's logger
                allow_variable_horizon=True,
            )
            if fitted:
                trainer.transitions = {None: self.density_inputs}
            elif self.max_kernel_centres is not None and len(trainer.transitions[None]) > self.max_kernel_centres:
                inputs = trainer.transitions[None]
                keep = np.sort(self._rng().choice(len(inputs), self.max_kernel_centres, replace=False))
                trainer.transitions = {None: inputs[keep]}
            trainer.train()  # the scaler and the kernel density: deterministic, from the inputs alone
            trainer._density_models[None].set_params(rtol=self.kernel_rtol)  # read when scoring
            trainer.venv_wrapped.reward_fn = self._generator_reward  # what the generator is trained on
            self.density_inputs = trainer.transitions[None]
            self._trainer = trainer
        return self._trainer

    def reward(self, obs: np.ndarray, acts: np.ndarray, next_obs: np.ndarray, dones: np.ndarray | None = None) -> np.ndarray:
        """The learned reward of a batch of transitions, as the generator gets it (``generator_reward``): the
        log-density of the density's inputs, floored at ``reward_floor``, or its positive transform.

        The first call fits the density (reading the demonstrations) if ``learn`` has not; making
        imitation's trainer resets the env, as its reward wrapper does when it is made.

        :param obs: observations, shape ``(n, *obs_shape)``
        :param acts: the actions taken in them
        :param next_obs: the observations that followed
        :param dones: whether each transition ended its episode (not used by the density)
        :return: the rewards, shape ``(n,)``
        """
        dones = np.zeros(len(obs), dtype=bool) if dones is None else np.asarray(dones)
        return self._generator_reward(np.asarray(obs), np.asarray(acts), np.asarray(next_obs), dones)

    def log_density(self, obs: np.ndarray, acts: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        """The density's log at a batch of transitions, scored in one call (imitation scores them one by one).

        :param obs: observations, shape ``(n, *obs_shape)``
        :param acts: the actions taken in them
        :param next_obs: the observations that followed
        :return: ``log p``, shape ``(n,)`` (float32)
        """
        from imitation.data import types

        trainer = self._density_trainer()
        states, next_states = types.maybe_wrap_in_dictobs(obs), types.maybe_wrap_in_dictobs(next_obs)
        rows = [trainer._preprocess_transition(o, a, n) for o, a, n in zip(states, acts, next_states)]
        scaled = trainer._scaler.transform(np.stack(rows))
        return trainer._density_models[None].score_samples(scaled).astype(np.float32)

    def _generator_reward(self, obs: np.ndarray, acts: np.ndarray, next_obs: np.ndarray, dones: np.ndarray) -> np.ndarray:
        rewards = self.log_density(obs, acts, next_obs)
        if self.generator_reward == "positive":
            return positive_reward(rewards).astype(np.float32)
        return rewards if self.reward_floor is None else np.maximum(rewards, np.float32(self.reward_floor))

    def learn(
        self: SelfDensity,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "Density",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDensity:
        """Fit the density (first call only), then train the generator on its log-density for ``total_timesteps`` env steps.

        TensorBoard gets the generator's scalars and ``rollout/ep_rew_wrapped_mean`` (the mean
        log-density reward of an episode); ``rollout/ep_rew_mean`` is the env's own reward.

        :param total_timesteps: env steps
        :param callback: SB3 callback(s), called after every env step of the generator
        :param log_interval: write the generator's logs every this many rollouts
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        assert self.env is not None, "density needs an env to learn"
        trainer = self._density_trainer()
        self._stop_requested = False
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        generator = self._make_generator()
        generator.set_logger(self.logger)  # the generator's scalars go to this run's folder
        trainer.rl_algo = generator
        trainer.wrapper_callback = CallbackList(
            [
                trainer.venv_wrapped.make_log_callback(),  # rollout/ep_rew_wrapped_mean
                _DropFinishedEpisodes(trainer.buffering_wrapper),
                ForwardCallback(self, callback),
            ]
        )
        if total_timesteps > self.num_timesteps:
            trainer.train_policy(total_timesteps - self.num_timesteps, tb_log_name=tb_log_name, log_interval=log_interval)
        self.num_timesteps = generator.num_timesteps
        callback.on_training_end()
        return self


__all__ = ["DENSITY_TYPES", "KERNELS", "Density"]
