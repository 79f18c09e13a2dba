"""Offline RL: learn from the rewards recorded with demonstrations, without a single env step.

Behavioural cloning copies a dataset's actions, its crashes included; offline RL optimises the
rewards the dataset recorded, with a Q-function kept conservative where the data says nothing
(conservative Q-learning, CQL), so that from a poor or mixed dataset it can learn to avoid what
the demonstrator did wrong. The learning is d3rlpy's (``pip install 'sb3-behave[offline]'``):

- :class:`CQL`: d3rlpy's ``DiscreteCQL`` for ``Discrete`` actions (Flappy Bird), ``CQL`` for ``Box`` actions;
- :class:`IQL`: d3rlpy's implicit Q-learning, ``Box`` actions only (7 times cheaper per update than CQL on a CPU).

Each is an SB3 algorithm, so the RL Zoo trains it from YAML (``sb3-behave train --algo cql``,
``zoo_configs/cql.yml``), with its progress bar, evaluation and TensorBoard scalars, and its
saved ``.zip`` is an ordinary SB3 model: ``enjoy``, ``record-video``, ``record-demos --expert`` and
``load_agent`` use it as they use a DQN or a SAC agent. The networks d3rlpy trains are copied, after
every update, into an SB3 policy of the same shape: a ``DQNPolicy`` (its Q-network) for
``Discrete`` actions, a ``SACPolicy`` (actor and critics) for ``Box`` actions. Nothing d3rlpy
pickles is written or read. A "timestep" is one gradient step: the env is used for evaluation only.

Training a loaded model again starts d3rlpy's optimizers (and CQL's temperature) afresh from the
saved networks; the demonstrations are not saved with it (set ``model.demonstrations`` again).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.sac.policies import SACPolicy

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.stack import float_schedule, require_d3rlpy

#: The default hidden layers of the networks, as SB3's ``net_arch`` (d3rlpy's default too).
NET_ARCH = [256, 256]


def _import_d3rlpy() -> Any:
    """d3rlpy, imported with its INFO logs (a line per build and per epoch) silenced, unless the
    program configured structlog itself."""
    import structlog

    if not structlog.is_configured():
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    import d3rlpy

    return d3rlpy


def transitions(trajectories: list[Any], algo_name: str) -> Any:
    """A d3rlpy ``MDPDataset`` of the transitions of ``trajectories`` (imitation's ``TrajectoryWithRew``).

    An episode that ended by a termination (a crash) ends with ``terminals=1``: nothing is
    bootstrapped past it; one cut by a time limit (or a recording's end) with ``timeouts=1``.

    :param trajectories: episodes with rewards, as :func:`sb3_behave.demos.load_demonstrations` returns them
    :param algo_name: for messages
    :raises ValueError: no episode, an episode without rewards, or observations that are not vectors
    """
    _import_d3rlpy()
    from d3rlpy.dataset import MDPDataset

    if not trajectories:
        raise ValueError(f"{algo_name}: the demonstrations hold no episode")
    for index, trajectory in enumerate(trajectories):
        if getattr(trajectory, "rews", None) is None:
            raise ValueError(
                f"{algo_name}: episode {index} of the demonstrations has no rewards: offline RL learns from the rewards "
                "recorded with the actions (record them with `sb3-behave record-demos`, which keeps the env's rewards)"
            )
        if np.asarray(trajectory.obs).ndim != 2:
            raise ValueError(
                f"{algo_name}: observations of shape {np.asarray(trajectory.obs).shape[1:]}: offline RL here takes "
                "vector observations (Flappy Bird's features or lidar, not images)"
            )
    observations = np.concatenate([np.asarray(t.obs[:-1], dtype=np.float32) for t in trajectories])
    actions = np.concatenate([np.asarray(t.acts) for t in trajectories])
    rewards = np.concatenate([np.asarray(t.rews, dtype=np.float32) for t in trajectories])
    ends = np.cumsum([len(t.acts) for t in trajectories]) - 1
    terminals = np.zeros(len(actions), dtype=np.float32)
    timeouts = np.zeros(len(actions), dtype=np.float32)
    for end, trajectory in zip(ends, trajectories):
        (terminals if trajectory.terminal else timeouts)[end] = 1.0
    if actions.ndim == 1 and not np.issubdtype(actions.dtype, np.integer):
        actions = actions.astype(np.int64)
    return MDPDataset(observations=observations, actions=actions, rewards=rewards, terminals=terminals, timeouts=timeouts)


class OfflineAlgorithm(BaseAlgorithm):
    """What :class:`CQL` and :class:`IQL` share: d3rlpy's learner behind an SB3 algorithm and an SB3 policy.

    :param policy: ``"MlpPolicy"`` (a ``DQNPolicy`` for Discrete actions, a ``SACPolicy`` for Box actions)
    :param env: the env (a VecEnv from the zoo, a gymnasium env or an env id): its spaces, and the zoo's evaluation
    :param demonstrations: what :func:`sb3_behave.demos.load_demonstrations` reads (demo folders, Minari
        datasets, ...), with rewards
    :param learning_rate: learning rate of every network (d3rlpy's actor, critics and Q-function)
    :param batch_size: transitions per gradient step
    :param gamma: discount factor
    :param policy_kwargs: ``net_arch``: the hidden layers of every network (default ``[256, 256]``)
    :param d3rlpy_kwargs: any other field of the d3rlpy config (``n_critics``, ``tau``, ...), by name
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed of the networks and the sampling of transitions
    :param device: torch device
    :param _init_setup_model: build the networks now (``load`` builds them later)
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": DQNPolicy}
    #: The name of the algorithm in the zoo and in error messages.
    algo_name: ClassVar[str] = ""
    #: The action spaces it learns.
    action_spaces: ClassVar[tuple[type[gym.Space], ...]] = (gym.spaces.Discrete, gym.spaces.Box)

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
        learning_rate: float = 3e-4,
        batch_size: int = 256,
        gamma: float = 0.99,
        policy_kwargs: dict[str, Any] | None = None,
        d3rlpy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "cpu",
        _init_setup_model: bool = True,
    ) -> None:
        self.check_installed()
        try:
            super().__init__(
                policy=policy,
                env=env,
                learning_rate=learning_rate,
                policy_kwargs=policy_kwargs,
                tensorboard_log=tensorboard_log,
                verbose=verbose,
                device=device,
                seed=seed,
                support_multi_env=True,
                supported_action_spaces=self.action_spaces,
            )
        except AssertionError as error:  # SB3 asserts the action space
            if "action space" not in str(error):
                raise
            names = " or ".join(space.__name__ for space in self.action_spaces)
            other = " (cql takes Discrete actions)" if self.algo_name == "iql" else ""
            raise ValueError(f"{self.algo_name}: {error}: it learns {names} actions{other}") from None
        self.demonstrations = demonstrations
        self.batch_size = batch_size
        self.gamma = gamma
        self.d3rlpy_kwargs = dict(d3rlpy_kwargs or {})
        self._learner: Any = None
        self._dataset: Any = None  # d3rlpy's buffer of the demonstrations, read at the first learn()
        self._dataset_source: Any = None  # the `demonstrations` it was read from
        self._linked: list[tuple[th.nn.Module, th.nn.Module]] = []  # (SB3 layer, d3rlpy layer), once built
        self._n_updates = 0
        if _init_setup_model:
            self._setup_model()

    @classmethod
    def check_installed(cls) -> None:
        """Raise :class:`~sb3_behave.stack.MissingDependencyError`, naming the install commands, without d3rlpy."""
        require_d3rlpy(cls.algo_name)

    # ------------------------------------------------------------------ the SB3 side
    @property
    def discrete(self) -> bool:
        """Whether the actions are ``Discrete`` (a Q-network policy) rather than ``Box`` (an actor)."""
        return isinstance(self.action_space, gym.spaces.Discrete)

    def _net_arch(self) -> list[int]:
        arch = self.policy_kwargs.get("net_arch", NET_ARCH)
        if isinstance(arch, dict):
            arch = arch.get("pi", NET_ARCH)
        return [int(units) for units in arch]

    def _setup_model(self) -> None:
        if len(getattr(self.observation_space, "shape", ()) or ()) != 1:
            raise ValueError(
                f"{self.algo_name}: observations of shape {self.observation_space.shape}: offline RL here takes vector "
                "observations (Flappy Bird's features or lidar, not images)"
            )
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        arch = self._net_arch()
        kwargs = {k: v for k, v in self.policy_kwargs.items() if k != "net_arch"}
        if self.discrete:
            self.policy_class = DQNPolicy
            self.policy = DQNPolicy(self.observation_space, self.action_space, self.lr_schedule, net_arch=arch, **kwargs)
        else:
            self.policy_class = SACPolicy
            self.policy = SACPolicy(
                self.observation_space, self.action_space, self.lr_schedule, net_arch={"pi": arch, "qf": arch}, **kwargs
            )
        self.policy = self.policy.to(self.device)

    def _excluded_save_params(self) -> list[str]:
        # The demonstrations stay where they are (a path, or trajectories): pass them again to train a loaded model.
        return [*super()._excluded_save_params(), "_learner", "_linked", "demonstrations", "_dataset", "_dataset_source"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy"], []

    # ------------------------------------------------------------------ the d3rlpy side
    def _config(self, arch: list[int]) -> Any:
        """The d3rlpy config of this algorithm for this action space."""
        raise NotImplementedError

    def _make_config(self, config_class: type, fields: dict[str, Any]) -> Any:
        """``config_class(**fields, **d3rlpy_kwargs)``, with one line for a field it does not have."""
        import dataclasses

        known = {f.name for f in dataclasses.fields(config_class)}
        for key in self.d3rlpy_kwargs:
            if key not in known:
                raise ValueError(
                    f"{self.algo_name}: d3rlpy_kwargs: {key!r} is not a field of d3rlpy's {config_class.__name__} "
                    f"(it has: {', '.join(sorted(known))})"
                )
        return config_class(**{**fields, **self.d3rlpy_kwargs})

    def _action_scaler(self) -> Any:
        """Actions scaled to [-1, 1] from the space's bounds, as SB3's SAC scales them."""
        _import_d3rlpy()
        from d3rlpy.preprocessing import MinMaxActionScaler

        space = self.action_space
        assert isinstance(space, gym.spaces.Box)
        return MinMaxActionScaler(minimum=np.asarray(space.low, np.float32), maximum=np.asarray(space.high, np.float32))

    def _build_learner(self) -> Any:
        d3rlpy = _import_d3rlpy()
        if self.seed is not None:
            d3rlpy.seed(self.seed)
        learner = self._config(self._net_arch()).create(device=str(self.device) if self.device.type != "cpu" else "cpu:0")
        action_size = int(self.action_space.n) if self.discrete else int(np.prod(self.action_space.shape))
        learner.create_impl(tuple(self.observation_space.shape), action_size)
        self._learner = learner
        self._linked = self._pairs()
        self._copy(to_policy=False)  # start from the policy's networks: fresh, or loaded
        return learner

    def _pairs(self) -> list[tuple[th.nn.Module, th.nn.Module]]:
        """(SB3 layer, d3rlpy layer) pairs of linear layers with the same shapes, in the same order."""
        modules = self._learner.impl.modules
        pairs: list[tuple[th.nn.Module, th.nn.Module]] = []

        def mlp(sequential: th.nn.Module, encoder: th.nn.Module, head: th.nn.Module | None) -> None:
            linears = [m for m in sequential if isinstance(m, th.nn.Linear)]
            theirs = [m for m in encoder._layers if isinstance(m, th.nn.Linear)]
            if head is not None:
                theirs.append(head)
            pairs.extend(zip(linears, theirs, strict=True))

        if self.discrete:
            policy: DQNPolicy = self.policy  # type: ignore[assignment]
            mlp(policy.q_net.q_net, modules.q_funcs[0]._encoder, modules.q_funcs[0]._fc)
            mlp(policy.q_net_target.q_net, modules.targ_q_funcs[0]._encoder, modules.targ_q_funcs[0]._fc)
            return pairs
        sac: SACPolicy = self.policy  # type: ignore[assignment]
        mlp(sac.actor.latent_pi, modules.policy._encoder, None)
        pairs.append((sac.actor.mu, modules.policy._mu))
        if isinstance(modules.policy._logstd, th.nn.Linear):  # CQL: a state-dependent log-std, as SAC's
            pairs.append((sac.actor.log_std, modules.policy._logstd))
        for critic, theirs in ((sac.critic, modules.q_funcs), (sac.critic_target, modules.targ_q_funcs)):
            for network, q_func in zip(critic.q_networks, theirs, strict=True):
                mlp(network, q_func._encoder, q_func._fc)
        return pairs

    @th.no_grad()
    def _copy(self, to_policy: bool) -> None:
        """Copy the networks d3rlpy trains into the SB3 policy (``to_policy``), or the policy's into d3rlpy's."""
        for ours, theirs in self._linked:
            for name in ("weight", "bias"):
                a, b = getattr(ours, name), getattr(theirs, name)
                (a if to_policy else b).copy_(b if to_policy else a)
        log_std = None if self.discrete else self._learner.impl.modules.policy._logstd
        if to_policy and isinstance(log_std, th.nn.Parameter):  # IQL: one learned log-std per action dimension
            actor = self.policy.actor  # type: ignore[attr-defined]
            actor.log_std.weight.zero_()
            actor.log_std.bias.copy_(log_std.reshape(-1))

    # ------------------------------------------------------------------ training
    def learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1000,
        tb_log_name: str = "",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> OfflineAlgorithm:
        """Train for ``total_timesteps`` gradient steps on the demonstrations' transitions.

        :param total_timesteps: gradient steps (the env is used by callbacks, for evaluation, only)
        :param callback: SB3 callback(s), called after every gradient step; ``False`` from one stops training
        :param log_interval: gradient steps between two dumps of the mean losses (TensorBoard, console)
        :param tb_log_name: name of the TensorBoard run (default: the algorithm's name)
        :param reset_num_timesteps: start counting steps from 0 (as SB3's)
        :param progress_bar: show a progress bar of the gradient steps
        :return: this model, trained
        """
        from sb3_behave.demos import load_demonstrations

        if self.demonstrations is None:
            raise ValueError(f"{self.algo_name}: the `demonstrations` hyperparameter is missing: give one path or a list")
        if self._dataset is None or self._dataset_source is not self.demonstrations:  # read once, not per call
            self._dataset = transitions(load_demonstrations(self.demonstrations, env=self.env), self.algo_name)
            self._dataset_source = self.demonstrations
        dataset = self._dataset
        learner = self._learner if self._learner is not None else self._build_learner()
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name or self.algo_name.upper(), progress_bar
        )
        callback.on_training_start(locals(), globals())
        losses: dict[str, list[float]] = defaultdict(list)
        while self.num_timesteps < total_timesteps:
            metrics = learner.update(dataset.sample_transition_batch(self.batch_size))
            self._copy(to_policy=True)
            self.num_timesteps += 1
            self._n_updates += 1
            for name, value in metrics.items():
                losses[name].append(float(value))
            callback.update_locals(locals())
            if not callback.on_step():
                break
            if log_interval > 0 and self.num_timesteps % log_interval == 0:
                self._dump(losses)
        if losses:
            self._dump(losses)
        callback.on_training_end()
        return self

    def _dump(self, losses: dict[str, list[float]]) -> None:
        for name, values in losses.items():
            self.logger.record(f"offline/{name}", float(np.mean(values)))
        self.logger.record("train/n_updates", self._n_updates)
        self.logger.dump(step=self.num_timesteps)
        losses.clear()


class CQL(OfflineAlgorithm):
    """Conservative Q-learning from demonstrations with rewards: d3rlpy's ``DiscreteCQL`` (Discrete actions) or ``CQL`` (Box).

    :param conservative_weight: how strongly Q-values of actions the data does not hold are pushed
        down (``alpha`` of DiscreteCQL, default 1; ``conservative_weight`` of CQL, default 5)
    :param target_update_interval: gradient steps between copies of the Q-network into its target (Discrete)

    The other parameters are those of :class:`OfflineAlgorithm`.
    """

    algo_name = "cql"

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        conservative_weight: float | None = None,
        target_update_interval: int = 1000,
        demonstrations: Demonstrations | None = None,
        learning_rate: float = 3e-4,
        batch_size: int = 256,
        gamma: float = 0.99,
        policy_kwargs: dict[str, Any] | None = None,
        d3rlpy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "cpu",
        _init_setup_model: bool = True,
    ) -> None:
        self.conservative_weight = conservative_weight
        self.target_update_interval = target_update_interval
        super().__init__(
            policy,
            env,
            demonstrations=demonstrations,
            learning_rate=learning_rate,
            batch_size=batch_size,
            gamma=gamma,
            policy_kwargs=policy_kwargs,
            d3rlpy_kwargs=d3rlpy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _config(self, arch: list[int]) -> Any:
        _import_d3rlpy()
        from d3rlpy.algos import CQLConfig, DiscreteCQLConfig
        from d3rlpy.models.encoders import VectorEncoderFactory

        encoder = VectorEncoderFactory(hidden_units=arch)
        rate = float(float_schedule(self.learning_rate)(1.0))
        common = {"batch_size": self.batch_size, "gamma": self.gamma}
        if self.discrete:
            fields = {**common, "learning_rate": rate, "encoder_factory": encoder}
            fields["target_update_interval"] = self.target_update_interval
            if self.conservative_weight is not None:
                fields["alpha"] = self.conservative_weight
            return self._make_config(DiscreteCQLConfig, fields)
        fields = {
            **common,
            "actor_learning_rate": rate,
            "critic_learning_rate": rate,
            "actor_encoder_factory": encoder,
            "critic_encoder_factory": encoder,
            "action_scaler": self._action_scaler(),
        }
        if self.conservative_weight is not None:
            fields["conservative_weight"] = self.conservative_weight
        return self._make_config(CQLConfig, fields)


class IQL(OfflineAlgorithm):
    """Implicit Q-learning from demonstrations with rewards (d3rlpy's ``IQL``), Box actions only.

    :param expectile: the expectile of the value function (0.5: the mean; towards 1: the best actions in the data)
    :param weight_temp: inverse temperature of the advantage-weighted actor

    The other parameters are those of :class:`OfflineAlgorithm`.
    """

    algo_name = "iql"
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": SACPolicy}
    action_spaces = (gym.spaces.Box,)

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        expectile: float = 0.7,
        weight_temp: float = 3.0,
        demonstrations: Demonstrations | None = None,
        learning_rate: float = 3e-4,
        batch_size: int = 256,
        gamma: float = 0.99,
        policy_kwargs: dict[str, Any] | None = None,
        d3rlpy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "cpu",
        _init_setup_model: bool = True,
    ) -> None:
        self.expectile = expectile
        self.weight_temp = weight_temp
        super().__init__(
            policy,
            env,
            demonstrations=demonstrations,
            learning_rate=learning_rate,
            batch_size=batch_size,
            gamma=gamma,
            policy_kwargs=policy_kwargs,
            d3rlpy_kwargs=d3rlpy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _config(self, arch: list[int]) -> Any:
        _import_d3rlpy()
        from d3rlpy.algos import IQLConfig
        from d3rlpy.models.encoders import VectorEncoderFactory

        encoder = VectorEncoderFactory(hidden_units=arch)
        rate = float(float_schedule(self.learning_rate)(1.0))
        fields = {
            "batch_size": self.batch_size,
            "gamma": self.gamma,
            "actor_learning_rate": rate,
            "critic_learning_rate": rate,
            "actor_encoder_factory": encoder,
            "critic_encoder_factory": encoder,
            "value_encoder_factory": encoder,
            "action_scaler": self._action_scaler(),
            "expectile": self.expectile,
            "weight_temp": self.weight_temp,
        }
        return self._make_config(IQLConfig, fields)


__all__ = ["CQL", "IQL", "NET_ARCH", "OfflineAlgorithm", "transitions"]
