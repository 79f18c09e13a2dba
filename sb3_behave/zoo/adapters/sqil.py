"""SQIL: imitation's ``sqil.SQIL`` (DQN or SAC on a replay buffer half made of demonstrations) as an SB3 algorithm.

imitation builds the RL algorithm, DQN for ``Discrete`` actions or SAC for ``Box`` actions, with its
``SQILReplayBuffer``: every batch is half demonstrations (reward 1) and half the agent's own
experience (reward 0). :class:`SQIL` keeps that algorithm for the adapter's lifetime, so its
replay buffer, exploration schedule and target networks carry over from one ``learn`` to the next;
its policy is the adapter's policy.
"""

from __future__ import annotations

import inspect
import io
import pathlib
from collections.abc import Iterable
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import maybe_make_env
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.zoo.adapters.base import ImitationAlgorithm, silent_imitation_logger
from sb3_behave.zoo.adapters.generator import ForwardCallback

SelfSQIL = TypeVar("SelfSQIL", bound="SQIL")

#: The RL algorithms SQIL trains, by the name used in YAML (``rl_algo: sac``), with the actions each takes.
RL_ALGOS = {"dqn": gym.spaces.Discrete, "sac": gym.spaces.Box}
#: Counters of the RL algorithm that are not in its networks, saved with the adapter.
_RL_STATE = ("exploration_rate", "_n_calls", "_n_updates", "_episode_num", "target_entropy")


def rl_algorithm_class(name: str) -> type[OffPolicyAlgorithm]:
    """The SB3 class of an RL algorithm named in YAML (``dqn`` or ``sac``).

    :param name: the name, in any case
    :raises ValueError: an unknown name, with the known ones
    """
    from sb3_behave.agents import algorithm_class

    key = str(name).lower()
    if key not in RL_ALGOS:
        raise ValueError(f"rl_algo: {name!r}: expected dqn (Discrete actions) or sac (Box actions)")
    return algorithm_class(key)


def _choose_rl_algo(rl_algo: str | None, action_space: gym.spaces.Space | None) -> str | None:
    """``rl_algo`` checked against the env's actions; by default DQN for ``Discrete`` actions, SAC for ``Box``."""
    name = None if rl_algo is None else str(rl_algo).lower()
    if name is not None:
        rl_algorithm_class(name)  # an unknown name is refused here
    if action_space is None:
        return name
    fitting = [key for key, space in RL_ALGOS.items() if isinstance(action_space, space)]
    if not fitting:
        raise ValueError(
            f"sqil: the env's actions are {action_space}: SQIL trains DQN (Discrete actions) or SAC (Box actions)"
        )
    if name is not None and name not in fitting:
        raise ValueError(f"sqil: rl_algo {name} needs {RL_ALGOS[name].__name__} actions, but the env's are {action_space}")
    return fitting[0]


def _no_demonstrations(observation_space: gym.spaces.Space, action_space: gym.spaces.Space) -> Any:
    """Zero transitions: what the replay buffer holds until ``learn`` gives it the demonstrations."""
    from imitation.data.types import Transitions

    obs = np.zeros((0, *observation_space.shape), dtype=observation_space.dtype)
    acts = np.zeros((0, *action_space.shape), dtype=action_space.dtype)
    return Transitions(obs=obs, acts=acts, infos=np.array([], dtype=object), next_obs=obs, dones=np.zeros(0, dtype=bool))


def _make_replay_buffer_class() -> type:
    from imitation.algorithms import sqil
    from imitation.util.util import split_in_half
    from stable_baselines3.common.buffers import ReplayBuffer
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    class SQILReplayBuffer(sqil.SQILReplayBuffer):
        """imitation's SQIL replay buffer (half demonstrations with reward 1, half own experience with reward 0).

        Its batches are put together as imitation's, but a field that SB3's plain replay buffers leave
        empty (``discounts``, which SB3 >= 2.6 fills for n-step returns only) stays empty, where
        imitation 1.0.1 fails to concatenate it; and the demonstrations' buffer, which imitation
        makes on its default device (CUDA when there is one), gives its tensors on this buffer's
        device (the RL algorithm's), so that the two halves of a batch can be put together.
        """

        def set_demonstrations(self, demonstrations: Any) -> None:
            """Replace the demonstrations (reward 1) that fill half of every batch.

            :param demonstrations: imitation ``Transitions`` or a list of ``Trajectory``
            """
            super().set_demonstrations(demonstrations)
            self.expert_buffer.device = self.device

        def sample(self, batch_size: int, env: Any = None) -> ReplayBufferSamples:
            """Half of the batch from the agent's own experience (reward 0), half from the demonstrations (reward 1).

            :param batch_size: the size of the batch (an odd one: the demonstrations' half is one larger)
            :param env: the VecNormalize env to normalize the observations and rewards with, if any
            :return: the batch, the agent's transitions first
            """
            own_size, expert_size = split_in_half(batch_size)
            own = ReplayBuffer.sample(self, own_size, env)
            expert = self.expert_buffer.sample(expert_size, env)
            return ReplayBufferSamples(*(None if a is None else th.cat((a, b)) for a, b in zip(own, expert)))

    SQILReplayBuffer.__module__ = __name__
    return SQILReplayBuffer


def __getattr__(name: str) -> Any:  # PEP 562: the replay buffer class subclasses imitation's, so it is made on first use
    if name == "SQILReplayBuffer":
        globals()[name] = _make_replay_buffer_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SQIL(ImitationAlgorithm):
    """Soft Q imitation learning (imitation's ``sqil.SQIL``) with DQN or SAC, as an SB3 algorithm.

    Every keyword argument this class does not know goes to the constructor of DQN or SAC
    (``learning_rate``, ``batch_size``, ``gamma``, ``train_freq``, ``buffer_size``,
    ``learning_starts``, ``exploration_fraction``, ``target_update_interval``, ``tau``, ...), so a
    SQIL entry in YAML reads like a DQN or SAC entry plus ``demonstrations``; a key neither takes is
    refused with its name. They can be read back as attributes (``model.train_freq``), as can the
    RL algorithm's own (``model.exploration_rate``, ``model.actor``); the algorithm itself is
    :attr:`rl_model`. ``learn(total_timesteps)`` counts env steps; the demonstrations are read when
    learning starts, so a saved model loads and acts without them.

    :param policy: the policy class or alias of DQN or SAC (``"MlpPolicy"``, ``"CnnPolicy"``); ``Dict``
        observations (``"MultiInputPolicy"``) are refused: imitation's SQIL replay buffer does not take them
    :param env: the env (a VecEnv from the zoo, a gymnasium env or an env id)
    :param demonstrations: one path or several (see :class:`~sb3_behave.zoo.adapters.base.ImitationAlgorithm`)
    :param rl_algo: ``"dqn"`` (``Discrete`` actions) or ``"sac"`` (``Box`` actions); by default the
        one that fits the env's actions
    :param policy_kwargs: keyword arguments of the policy (``net_arch``, ...)
    :param tensorboard_log: the TensorBoard folder (runs go to ``<folder>/<tb_log_name>_<n>``)
    :param verbose: 0 silent, 1 training tables
    :param seed: seed of the networks, the exploration and the env
    :param device: torch device
    :param _init_setup_model: build the networks now (``load`` builds them later)
    :param rl_kwargs: the hyperparameters of DQN or SAC
    """

    algo_name = "sqil"

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
        rl_algo: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        **rl_kwargs: Any,
    ) -> None:
        if env is not None:  # its actions choose DQN or SAC, and the policy aliases with them
            env = self._wrap_env(maybe_make_env(env, verbose), verbose)
            if isinstance(env.observation_space, gym.spaces.Dict):
                raise ValueError(
                    f"sqil: the env's observations are a Dict space ({', '.join(env.observation_space.spaces)}), which "
                    "imitation's SQIL replay buffer does not take: flatten them (gymnasium's FlattenObservation)"
                )
        if policy == "MultiInputPolicy":
            raise ValueError("sqil: policy MultiInputPolicy is for Dict observations, which SQIL does not take: use MlpPolicy")
        self.rl_algo = _choose_rl_algo(rl_algo, None if env is None else env.action_space)
        default_rate: Any = 1e-4
        if self.rl_algo is not None:
            rl_class = rl_algorithm_class(self.rl_algo)
            self._check_rl_kwargs(rl_class, rl_kwargs)
            default_rate = inspect.signature(rl_class.__init__).parameters["learning_rate"].default
        self.rl_kwargs = rl_kwargs
        self._trainer: Any = None
        self._has_demonstrations = False
        self._stop_requested = False
        self._rl_state: dict[str, Any] = {}
        super().__init__(
            policy=policy,
            env=env,
            demonstrations=demonstrations,
            learning_rate=rl_kwargs.get("learning_rate", default_rate),
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    @staticmethod
    def _check_rl_kwargs(rl_class: type[OffPolicyAlgorithm], rl_kwargs: dict[str, Any]) -> None:
        for key in ("replay_buffer_class", "replay_buffer_kwargs"):
            if key in rl_kwargs:
                raise ValueError(f"sqil: {key} cannot be set: SQIL's replay buffer is imitation's SQILReplayBuffer")
        own = {"self", "policy", "env", "_init_setup_model", "replay_buffer_class", "replay_buffer_kwargs"}
        unknown = sorted(set(rl_kwargs) - (set(inspect.signature(rl_class.__init__).parameters) - own))
        if unknown:
            raise ValueError(
                f"sqil: unknown hyperparameter(s) {', '.join(unknown)}: expected sqil's own or those of {rl_class.__name__}"
            )

    @property
    def policy_aliases(self) -> dict[str, type[BasePolicy]]:  # type: ignore[override]
        """DQN's or SAC's policy aliases."""
        return {} if self.rl_algo is None else rl_algorithm_class(self.rl_algo).policy_aliases

    @property
    def rl_model(self) -> OffPolicyAlgorithm:
        """The DQN or SAC that imitation built with its SQIL replay buffer (its ``policy`` is this model's)."""
        return self._trainer.rl_algo

    def __getattr__(self, name: str) -> Any:
        # Only called when the usual lookup fails: a hyperparameter of the RL algorithm as it was given
        # (``model.train_freq`` is 4, not SB3's TrainFreq), then a public attribute of the RL algorithm.
        state = self.__dict__
        if name in state.get("rl_kwargs", ()):
            return state["rl_kwargs"][name]
        if state.get("_trainer") is not None and not name.startswith("_"):
            return getattr(state["_trainer"].rl_algo, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ set-up, saving
    def _setup_model(self) -> None:
        from imitation.algorithms.sqil import SQIL as ImitationSQIL

        self._setup_lr_schedule()
        rl_kwargs = {
            "policy_kwargs": dict(self.policy_kwargs),
            "verbose": self.verbose,
            "seed": self.seed,
            "device": self.device,
        }
        rl_kwargs.update(self.rl_kwargs, _init_setup_model=False)
        self._trainer = ImitationSQIL(
            venv=self.env,  # type: ignore[arg-type]
            demonstrations=None,
            policy=self.policy_class,
            custom_logger=silent_imitation_logger(),  # the RL algorithm logs to the run's logger
            rl_algo_class=rl_algorithm_class(self.rl_algo),  # type: ignore[arg-type]
            rl_kwargs=rl_kwargs,
        )
        rl = self.rl_model
        if self.env is None:  # loaded without an env: the saved spaces
            rl.observation_space, rl.action_space, rl.n_envs = self.observation_space, self.action_space, self.n_envs
        # No demonstrations yet (learn reads them): the replay buffer starts with none.
        rl.replay_buffer_class = globals().get("SQILReplayBuffer") or __getattr__("SQILReplayBuffer")
        rl.replay_buffer_kwargs = {"demonstrations": _no_demonstrations(self.observation_space, self.action_space)}
        for key, value in self._rl_state.items():  # a loaded model's counters (SAC's target entropy: no env needed)
            setattr(rl, key, value)
        rl._setup_model()  # as SB3's load does: networks, replay buffer, schedules, seeds
        self._keep_rl_state()
        self._has_demonstrations = False
        self.policy = rl.policy  # type: ignore[assignment]

    def _keep_rl_state(self) -> None:
        """What the RL algorithm holds outside its networks and needs after ``load``, kept to be saved."""
        rl = self.rl_model
        self._rl_state = {key: getattr(rl, key) for key in _RL_STATE if hasattr(rl, key)}

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        def own(name: str) -> str:
            return name if name.split(".")[0] == "policy" else f"rl_model.{name}"

        state_dicts, variables = self.rl_model._get_torch_save_params()
        return [own(name) for name in state_dicts], [own(name) for name in variables]

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_trainer", "_has_demonstrations", "_stop_requested"]

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """Save the adapter, with the RL algorithm's networks, optimizers and counters as they are now.

        The counters (exploration rate, updates, ...) are read again here, so a save in the middle of
        ``learn`` (the zoo's ``--save-freq``, a ``CheckpointCallback``) holds the current ones.

        :param path: the file (``.zip`` is added when missing) or a file object
        :param exclude: names of attributes not to save, besides the default ones
        :param include: names of attributes to save that would be left out otherwise
        """
        if self._trainer is not None:
            self._keep_rl_state()
        super().save(path, exclude=exclude, include=include)

    def set_env(self, env: GymEnv, force_reset: bool = True) -> None:
        """Use another env (the same spaces), for this adapter and its RL algorithm.

        :param env: the new env
        :param force_reset: reset it before the next ``learn`` (as SB3's)
        """
        super().set_env(env, force_reset)
        if self._trainer is not None:
            self.rl_model.set_env(self.env, force_reset)  # type: ignore[arg-type]
            self._trainer.venv = self.env

    # ------------------------------------------------------------------ acting and learning
    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """The action of DQN (epsilon-greedy unless ``deterministic``) or SAC; see SB3's ``predict``.

        :param observation: the observation(s)
        :param state: the recurrent state (not used: DQN's and SAC's policies have none)
        :param episode_start: whether each observation starts an episode (not used)
        :param deterministic: the greedy action (DQN) or the mean action (SAC)
        :return: the action(s) and the state
        """
        return self.rl_model.predict(observation, state, episode_start, deterministic)

    def learn(
        self: SelfSQIL,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "SQIL",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfSQIL:
        """Train DQN or SAC on the SQIL replay buffer (imitation's ``SQIL.train``) for ``total_timesteps`` env steps.

        :param total_timesteps: env steps
        :param callback: SB3 callback(s), called after every env step
        :param log_interval: write the RL algorithm's logs every this many episodes
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        assert self.env is not None, "sqil needs an env to learn"
        if not self._has_demonstrations:
            self._trainer.set_demonstrations(self._load_demonstrations())
            self._has_demonstrations = True
        self._stop_requested = False
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        rl = self.rl_model
        rl.set_logger(self.logger)  # its scalars go to this run's folder
        rl.num_timesteps = self.num_timesteps
        # The RL algorithm steps the env from where this adapter left it (reset by _setup_learn when asked).
        rl._last_obs, rl._last_episode_starts = self._last_obs, self._last_episode_starts  # type: ignore[assignment]
        rl._last_original_obs = self._last_original_obs
        if total_timesteps > self.num_timesteps:
            self._trainer.train(
                total_timesteps=total_timesteps - self.num_timesteps,
                tb_log_name=tb_log_name,
                callback=ForwardCallback(self, callback),
                log_interval=log_interval,
                reset_num_timesteps=False,  # this adapter's count, set above
                progress_bar=False,  # the adapter's own, among its callbacks
            )
        self.num_timesteps = rl.num_timesteps
        self._last_obs, self._last_episode_starts = rl._last_obs, rl._last_episode_starts
        self._last_original_obs = rl._last_original_obs
        self._keep_rl_state()
        callback.on_training_end()
        return self


__all__ = ["RL_ALGOS", "SQIL", "rl_algorithm_class"]
