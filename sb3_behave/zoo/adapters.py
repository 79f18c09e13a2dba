"""imitation's BC, DAgger, GAIL and AIRL in the shape of an SB3 algorithm, so that the RL Zoo can drive them.

Each adapter is a :class:`~stable_baselines3.common.base_class.BaseAlgorithm`: it is built from
``(policy, env, tensorboard_log=, seed=, verbose=, device=, **hyperparams)``, and ``learn``,
``predict``, ``save``, ``load``, ``get_env`` and ``get_vec_normalize_env`` behave as SB3's. The
training itself is imitation's (``bc.BC``, ``dagger.SimpleDAggerTrainer``'s loop,
``adversarial.gail.GAIL``, ``adversarial.airl.AIRL``); the generators are SB3's PPO and A2C or
sb3-contrib's TRPO. SB3 callbacks (the zoo's evaluation, checkpoints, progress bar) see every
step, and imitation's metrics go to the same TensorBoard run folder as the generator's.

What a "timestep" is:

* ``BC``: one gradient step (a batch of demonstrations); the env is used for evaluation only.
* ``DAgger``, ``GAIL``, ``AIRL``: one env step, as for PPO.
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize, unwrap_vec_normalize

from sb3_behave.stack import require_imitation

PathLike = str | Path

#: Generators for GAIL and AIRL, by the name used in YAML (``gen_algo: ppo``).
GENERATORS = ("ppo", "a2c", "trpo")


def generator_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 / sb3-contrib class of a generator named in YAML (``ppo``, ``a2c`` or ``trpo``)."""
    key = str(name).lower()
    if key == "ppo":
        from stable_baselines3 import PPO

        return PPO
    if key == "a2c":
        from stable_baselines3 import A2C

        return A2C
    if key == "trpo":
        from sb3_contrib import TRPO

        return TRPO
    raise ValueError(f"gen_algo: {name!r}: expected one of {', '.join(GENERATORS)}")


class _StopTraining(Exception):
    """A callback asked training to stop (``on_step`` returned False)."""


class _StepCallbacks(VecEnvWrapper):
    """Runs SB3 callbacks after each step of a VecEnv that imitation drives (DAgger's rollouts)."""

    def __init__(self, venv: VecEnv, on_step: Callable[[], bool]) -> None:
        super().__init__(venv)
        self._on_step = on_step

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        result = self.venv.step_wait()
        self._on_step()  # a stop request is kept by the adapter and ends the current round
        return result


class _ForwardCallback(BaseCallback):
    """Given to a generator's ``learn``: forwards each step to the adapter's callbacks."""

    def __init__(self, adapter: ImitationAlgorithm, outer: BaseCallback) -> None:
        super().__init__()
        self.adapter = adapter
        self.outer = outer

    def _on_rollout_start(self) -> None:
        self.outer.on_rollout_start()

    def _on_rollout_end(self) -> None:
        self.outer.on_rollout_end()

    def _on_step(self) -> bool:
        self.adapter.num_timesteps = self.model.num_timesteps
        self.outer.update_locals(self.locals)
        keep_going = self.outer.on_step()
        self.adapter._stop_requested = not keep_going
        return keep_going


class _ExpertPolicy(BasePolicy):
    """A numpy ``observations -> actions`` function with the SB3 policy interface imitation expects."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, act: Callable[[np.ndarray], np.ndarray]):
        super().__init__(observation_space, action_space)
        self._act = act

    def _predict(self, observation: th.Tensor, deterministic: bool = False) -> th.Tensor:
        raise NotImplementedError("predict() is overridden")

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False) -> Any:
        return self._act(np.asarray(observation)), state


def _env_id(env: VecEnv) -> str | None:
    spec = env.get_attr("spec", indices=[0])[0]
    return spec.id if spec is not None else None


def make_expert_policy(expert: str, env: VecEnv) -> BasePolicy:
    """DAgger's expert: ``"scripted"`` (the Flappy Bird expert), a model ``.zip`` or an RL Zoo run folder.

    :param expert: what the ``expert:`` key of the YAML names
    :param env: the training VecEnv (its spaces, and its env id to find files in a zoo folder)
    """
    if expert == "scripted":
        from sb3_behave.envs import FlappyBirdExpert

        rule = FlappyBirdExpert()
        return _ExpertPolicy(env.observation_space, env.action_space, rule.act)
    if not Path(expert).exists():
        raise ValueError(f"expert: {expert!r}: expected 'scripted', a model .zip or an RL Zoo run folder")
    from sb3_behave.demos.record import model_policy

    env_id = _env_id(env)
    single = gym.make(env_id) if env_id else None
    act = model_policy(expert, single if single is not None else env)  # VecNormalize statistics applied
    if single is not None:
        single.close()
    return _ExpertPolicy(env.observation_space, env.action_space, lambda obs: act(obs, single))


def _demonstration_paths(demonstrations: Any) -> PathLike | list[PathLike]:
    if demonstrations is None:
        return []
    if isinstance(demonstrations, (str, Path)):
        return demonstrations
    return list(demonstrations)


class ImitationAlgorithm(BaseAlgorithm):
    """What the four adapters share: the policy, the demonstrations, logging and callbacks.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"`` or an ActorCriticPolicy class
    :param env: the env (a VecEnv from the zoo, a gymnasium env or an env id)
    :param demonstrations: one path or several: sb3-behave demo folders or episode files, or
        datasets saved by ``imitation`` (see :func:`sb3_behave.demos.load_demonstrations`), or
        imitation trajectories
    :param learning_rate: learning rate of the policy's optimizer
    :param policy_kwargs: keyword arguments of the policy (``net_arch``, ...)
    :param tensorboard_log: the TensorBoard folder (runs go to ``<folder>/<ALGO>_<n>``)
    :param verbose: 0 silent, 1 training tables
    :param seed: seed of the policy, imitation's random generator and the env
    :param device: torch device
    :param _init_setup_model: build the networks now (``load`` builds them later)
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    policy: ActorCriticPolicy
    #: The name of the algorithm in the zoo and in error messages.
    algo_name: ClassVar[str] = ""

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Any = None,
        learning_rate: float | Schedule = 1e-3,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        require_imitation()
        super().__init__(
            policy,
            env,
            learning_rate,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            support_multi_env=True,
            supported_action_spaces=(gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary),
        )
        self.demonstrations = demonstrations
        self._stop_requested = False
        if env is not None:
            self._check_env_normalization(self.env)
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ set-up
    def _check_env_normalization(self, env: VecEnv | None) -> None:
        normalize = unwrap_vec_normalize(env) if env is not None else None
        if isinstance(normalize, VecNormalize) and normalize.norm_obs:
            raise ValueError(
                f"{self.algo_name}: the env normalizes observations (`normalize: true` in the zoo config), but the "
                "demonstrations hold raw observations: remove `normalize` or use `normalize: \"{'norm_obs': False}\"`"
            )

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs
        ).to(self.device)

    def set_env(self, env: GymEnv, force_reset: bool = True) -> None:
        super().set_env(env, force_reset)
        self._check_env_normalization(self.env)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_stop_requested"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy"], []

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _load_demonstrations(self, required: bool = True) -> list[Any]:
        """The trajectories of ``demonstrations``, loaded with sb3-behave's checked loader."""
        from imitation.data.types import Trajectory

        from sb3_behave.demos import load_demonstrations

        demos = self.demonstrations
        if isinstance(demos, Sequence) and not isinstance(demos, str) and demos and isinstance(demos[0], Trajectory):
            return list(demos)
        paths = _demonstration_paths(demos)
        if required and paths == []:
            raise ValueError(f"{self.algo_name}: the `demonstrations` hyperparameter is missing: give one path or a list")
        if paths == []:
            return []
        return load_demonstrations(paths, self.env)

    def _imitation_logger(self) -> Any:
        """imitation's HierarchicalLogger on top of this run's SB3 logger (same TensorBoard run folder)."""
        from imitation.util.logger import HierarchicalLogger

        logger = self.logger
        has_tensorboard = any(type(f).__name__ == "TensorBoardOutputFormat" for f in logger.output_formats)
        if logger.dir is None:
            # imitation keeps per-phase logs in sub-folders; without a run folder they go to a temporary one.
            logger = Logger(tempfile.mkdtemp(prefix=f"sb3-behave-{self.algo_name}-"), logger.output_formats)
        return HierarchicalLogger(logger, format_strs=("tensorboard",) if has_tensorboard else ())

    def _begin(
        self, total_timesteps: int, callback: MaybeCallback, reset_num_timesteps: bool, tb_log_name: str, progress_bar: bool
    ) -> tuple[int, BaseCallback]:
        self._stop_requested = False
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        return total_timesteps, callback

    def _step_callback(self, callback: BaseCallback, steps: int) -> bool:
        """Count ``steps`` timesteps and run the callbacks once; False when they ask to stop."""
        self.num_timesteps += steps
        callback.update_locals({"self": self})
        keep_going = callback.on_step()
        self._stop_requested = self._stop_requested or not keep_going
        return keep_going


class BC(ImitationAlgorithm):
    """Behavioural cloning (imitation's ``bc.BC``) as an SB3 algorithm.

    ``learn(total_timesteps)`` takes ``total_timesteps`` gradient steps on batches of
    demonstrations; the env serves the zoo's evaluation only.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env the policy will act in (spaces, evaluation)
    :param demonstrations: one path or several (see :class:`ImitationAlgorithm`)
    :param learning_rate: Adam's learning rate
    :param batch_size: demonstrations per gradient step
    :param ent_weight: weight of the entropy bonus in imitation's BC loss
    :param l2_weight: weight of the L2 penalty on the policy's weights
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
        demonstrations: Any = None,
        learning_rate: float | Schedule = 1e-3,
        batch_size: int = 32,
        ent_weight: float = 1e-3,
        l2_weight: float = 0.0,
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
        super().__init__(
            policy, env, demonstrations, learning_rate, policy_kwargs, tensorboard_log, verbose, seed, device,
            _init_setup_model,
        )

    def _make_bc_trainer(self, demonstrations: Any, imitation_logger: Any) -> Any:
        from imitation.algorithms import bc

        return bc.BC(
            observation_space=self.observation_space,
            action_space=self.action_space,
            rng=self._rng(),
            policy=self.policy,
            demonstrations=demonstrations,
            batch_size=self.batch_size,
            optimizer_kwargs={"lr": self.lr_schedule(1.0)},
            ent_weight=self.ent_weight,
            l2_weight=self.l2_weight,
            device=self.device,
            custom_logger=imitation_logger,
        )

    def learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "BC",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> BC:
        """Train by behavioural cloning.

        :param total_timesteps: gradient steps (batches of demonstrations)
        :param callback: SB3 callback(s), called after every gradient step
        :param log_interval: write the BC loss every this many gradient steps
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        demonstrations = self._load_demonstrations()
        total_timesteps, callback = self._begin(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        trainer = self._make_bc_trainer(demonstrations, self._imitation_logger())

        def on_batch_end() -> None:
            if not self._step_callback(callback, 1):
                raise _StopTraining

        n_batches = total_timesteps - self.num_timesteps
        if n_batches > 0:
            try:
                trainer.train(
                    n_batches=n_batches, on_batch_end=on_batch_end, log_interval=max(log_interval, 1), progress_bar=False
                )
            except _StopTraining:
                pass
        callback.on_training_end()
        return self


class DAgger(BC):
    """DAgger (imitation's ``SimpleDAggerTrainer`` loop) as an SB3 algorithm.

    Each round the policy plays with probability ``1 - beta`` (beta falls linearly from 1 to 0
    over ``beta_rampdown`` rounds), the expert labels every visited state, and BC trains on all
    labels so far. ``learn(total_timesteps)`` counts env steps.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param expert: ``"scripted"`` (the Flappy Bird expert), a model ``.zip`` or an RL Zoo run folder
    :param demonstrations: optional demonstrations added to the first round's data
    :param learning_rate: Adam's learning rate
    :param batch_size: labels per gradient step
    :param ent_weight: weight of the entropy bonus in the BC loss
    :param l2_weight: weight of the L2 penalty
    :param beta_rampdown: rounds over which beta falls from 1 to 0
    :param rollout_round_min_episodes: episodes collected per round, at least
    :param rollout_round_min_timesteps: env steps collected per round, at least
    :param bc_epochs_per_round: BC epochs over all data after each round
    :param scratch_dir: where imitation keeps each round's data (a temporary folder by default)
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
        demonstrations: Any = None,
        learning_rate: float | Schedule = 1e-3,
        batch_size: int = 32,
        ent_weight: float = 1e-3,
        l2_weight: float = 0.0,
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
            policy,
            env,
            demonstrations,
            learning_rate,
            batch_size,
            ent_weight,
            l2_weight,
            policy_kwargs,
            tensorboard_log,
            verbose,
            seed,
            device,
            _init_setup_model,
        )

    def learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "DAgger",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> DAgger:
        """Train by DAgger.

        :param total_timesteps: env steps (the last round is finished, so a few more may be taken)
        :param callback: SB3 callback(s), called after every env step
        :param log_interval: write the BC loss every this many gradient steps
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        from imitation.algorithms import dagger
        from imitation.data import rollout

        assert self.env is not None, "DAgger needs an env to learn"
        import datasets

        datasets.disable_progress_bars()  # imitation saves each round's data as a dataset
        initial = self._load_demonstrations(required=False)
        expert_policy = make_expert_policy(self.expert, self.env)
        total_timesteps, callback = self._begin(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        venv = _StepCallbacks(self.env, lambda: self._step_callback(callback, self.env.num_envs))
        imitation_logger = self._imitation_logger()
        bc_trainer = self._make_bc_trainer(None, imitation_logger)
        scratch = self.scratch_dir or tempfile.mkdtemp(prefix="sb3-behave-dagger-")
        trainer = dagger.SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=scratch,
            expert_policy=expert_policy,
            rng=self._rng(),
            expert_trajs=initial or None,
            beta_schedule=dagger.LinearBetaSchedule(self.beta_rampdown),
            bc_trainer=bc_trainer,
            custom_logger=imitation_logger,
        )
        trainer.round_num = self.round_num
        while self.num_timesteps < total_timesteps and not self._stop_requested:
            collector = trainer.create_trajectory_collector()
            sample_until = rollout.make_sample_until(
                min_timesteps=max(self.rollout_round_min_timesteps, self.batch_size),
                min_episodes=self.rollout_round_min_episodes,
            )
            trajectories = rollout.generate_trajectories(
                policy=expert_policy, venv=collector, sample_until=sample_until, deterministic_policy=True, rng=collector.rng
            )
            for trajectory in trajectories:
                imitation_logger.record_mean("dagger/mean_episode_reward", float(np.sum(trajectory.rews)))
            imitation_logger.record("dagger/round_num", trainer.round_num)
            imitation_logger.record("dagger/beta", collector.beta)
            imitation_logger.record("dagger/total_timesteps", self.num_timesteps)
            imitation_logger.dump(self.num_timesteps)
            bc_kwargs = {"n_epochs": self.bc_epochs_per_round, "log_rollouts_venv": None, "progress_bar": False}
            trainer.extend_and_update({**bc_kwargs, "log_interval": log_interval})
            self.round_num = trainer.round_num
        callback.on_training_end()
        return self


class _AdversarialAlgorithm(ImitationAlgorithm):
    """GAIL and AIRL: imitation's trainer, a generator from SB3 / sb3-contrib, a reward net saved with the policy.

    Every keyword argument this class does not know goes to the generator's constructor
    (``n_steps``, ``batch_size``, ``ent_coef``, ``gamma``, ...), so a GAIL entry in YAML reads
    like a PPO entry plus the GAIL keys.
    """

    reward_net: th.nn.Module

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Any = None,
        gen_algo: str = "ppo",
        demo_batch_size: int = 1024,
        n_disc_updates_per_round: int = 4,
        gen_train_timesteps: int | None = None,
        gen_replay_buffer_capacity: int | None = None,
        disc_learning_rate: float = 5e-4,
        reward_net_kwargs: dict[str, Any] | None = None,
        allow_variable_horizon: bool = True,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        **gen_kwargs: Any,
    ) -> None:
        self.gen_algo = str(gen_algo).lower()
        gen_class = generator_class(self.gen_algo)
        accepted = set(inspect.signature(gen_class.__init__).parameters) - {"self", "policy", "env", "_init_setup_model"}
        unknown = sorted(set(gen_kwargs) - accepted)
        if unknown:
            raise ValueError(
                f"{self.algo_name}: unknown hyperparameter(s) {', '.join(unknown)}: expected {self.algo_name}'s own "
                f"or those of the generator {gen_class.__name__}"
            )
        self.gen_kwargs = gen_kwargs
        self.demo_batch_size = demo_batch_size
        self.n_disc_updates_per_round = n_disc_updates_per_round
        self.gen_train_timesteps = gen_train_timesteps
        self.gen_replay_buffer_capacity = gen_replay_buffer_capacity
        self.disc_learning_rate = disc_learning_rate
        self.reward_net_kwargs = reward_net_kwargs or {}
        self.allow_variable_horizon = allow_variable_horizon
        self.round_num = 0
        default_rate = inspect.signature(gen_class.__init__).parameters["learning_rate"].default
        learning_rate = gen_kwargs.get("learning_rate", default_rate)
        if gen_kwargs.get("use_sde"):  # the generator trains this adapter's policy, so it needs gSDE's distribution
            policy_kwargs = {**(policy_kwargs or {}), "use_sde": True}
        super().__init__(
            policy, env, demonstrations, learning_rate, policy_kwargs, tensorboard_log, verbose, seed, device, False
        )
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.reward_net = self._make_reward_net().to(self.device)

    def _classes(self) -> tuple[type, type]:
        """imitation's trainer class and reward net class."""
        raise NotImplementedError

    def _make_reward_net(self) -> th.nn.Module:
        from imitation.util.networks import RunningNorm

        kwargs = {"normalize_input_layer": RunningNorm, **self.reward_net_kwargs}
        return self._classes()[1](self.observation_space, self.action_space, **kwargs)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "reward_net"], []

    def _make_trainer(self, demonstrations: Any, gen: BaseAlgorithm, imitation_logger: Any) -> Any:
        return self._classes()[0](
            demonstrations=demonstrations,
            demo_batch_size=self.demo_batch_size,
            venv=self.env,
            gen_algo=gen,
            reward_net=self.reward_net,
            n_disc_updates_per_round=self.n_disc_updates_per_round,
            gen_train_timesteps=self.gen_train_timesteps,
            gen_replay_buffer_capacity=self.gen_replay_buffer_capacity,
            disc_opt_kwargs={"lr": self.disc_learning_rate},
            custom_logger=imitation_logger,
            allow_variable_horizon=self.allow_variable_horizon,
        )

    def _make_generator(self) -> BaseAlgorithm:
        gen_class = generator_class(self.gen_algo)
        gen_kwargs = {"verbose": self.verbose, "device": self.device, "seed": self.seed, **self.gen_kwargs}
        policy_kwargs = {key: value for key, value in self.policy_kwargs.items() if key != "use_sde"}  # given as use_sde
        gen = gen_class(type(self.policy), self.env, policy_kwargs=policy_kwargs, **gen_kwargs)
        gen.policy = self.policy  # the generator trains the adapter's own policy
        gen.num_timesteps = self.num_timesteps
        return gen

    def learn(
        self: _AdversarialAlgorithm,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> _AdversarialAlgorithm:
        """Alternate generator rounds (the RL algorithm on the discriminator's reward) and discriminator updates.

        :param total_timesteps: env steps
        :param callback: SB3 callback(s), called after every env step of the generator
        :param log_interval: write imitation's metrics every this many rounds
        :param tb_log_name: name of the TensorBoard run (the algorithm's name by default)
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        from imitation.util import networks

        assert self.env is not None, f"{self.algo_name} needs an env to learn"
        demonstrations = self._load_demonstrations()
        tb_log_name = tb_log_name or type(self).__name__
        total_timesteps, callback = self._begin(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        imitation_logger = self._imitation_logger()
        gen = self._make_generator()
        trainer = self._make_trainer(demonstrations, gen, imitation_logger)
        forward = _ForwardCallback(self, callback)
        trainer.gen_callback = CallbackList([c for c in (trainer.gen_callback, forward) if c is not None])
        while self.num_timesteps + trainer.gen_train_timesteps <= total_timesteps and not self._stop_requested:
            trainer.train_gen(trainer.gen_train_timesteps)
            if self._stop_requested:
                break
            for _ in range(self.n_disc_updates_per_round):
                with networks.training(trainer.reward_train):
                    trainer.train_disc()
            self.round_num += 1
            imitation_logger.record("round", self.round_num)
            if self.round_num % max(log_interval, 1) == 0:
                imitation_logger.dump(self.num_timesteps)
        callback.on_training_end()
        return self


class GAIL(_AdversarialAlgorithm):
    """GAIL (imitation's ``adversarial.gail.GAIL``) as an SB3 algorithm; the generator is chosen by ``gen_algo``.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param demonstrations: one path or several (see :class:`ImitationAlgorithm`)
    :param gen_algo: the generator: ``"ppo"``, ``"a2c"`` or ``"trpo"`` (sb3-contrib, as in the GAIL paper)
    :param demo_batch_size: demonstrations per discriminator update
    :param n_disc_updates_per_round: discriminator updates after each generator round
    :param gen_train_timesteps: env steps per generator round (default: one rollout, ``n_steps * n_envs``)
    :param gen_replay_buffer_capacity: generator samples kept for the discriminator (default: one round)
    :param disc_learning_rate: Adam's learning rate for the discriminator
    :param reward_net_kwargs: keyword arguments of imitation's ``BasicRewardNet`` (``hid_sizes``, ...)
    :param allow_variable_horizon: allow episodes of different lengths (imitation warns that this
        can leak the episode end as a reward signal; the envs of this package end on crashes)
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    :param gen_kwargs: the generator's hyperparameters (``n_steps``, ``learning_rate``, ``ent_coef``, ...)
    """

    algo_name = "gail"

    def _classes(self) -> tuple[type, type]:
        from imitation.algorithms.adversarial.gail import GAIL as ImitationGAIL
        from imitation.rewards.reward_nets import BasicRewardNet

        return ImitationGAIL, BasicRewardNet


class AIRL(_AdversarialAlgorithm):
    """AIRL (imitation's ``adversarial.airl.AIRL``) as an SB3 algorithm; the generator is chosen by ``gen_algo``.

    The parameters are GAIL's (see :class:`GAIL`); ``reward_net_kwargs`` go to imitation's
    ``BasicShapedRewardNet`` (``reward_hid_sizes``, ``potential_hid_sizes``, ``discount_factor``).
    """

    algo_name = "airl"

    def _classes(self) -> tuple[type, type]:
        from imitation.algorithms.adversarial.airl import AIRL as ImitationAIRL
        from imitation.rewards.reward_nets import BasicShapedRewardNet

        return ImitationAIRL, BasicShapedRewardNet
