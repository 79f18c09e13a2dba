"""GAIL and AIRL: imitation's adversarial trainers, with a generator from SB3 or sb3-contrib, as SB3 algorithms."""

from __future__ import annotations

import functools
import inspect
from typing import Any, TypeVar

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.zoo.adapters.generator import ForwardCallback, GeneratorAlgorithm
from sb3_behave.zoo.adapters.positive import check_generator_reward, positive_reward_net

SelfAdversarial = TypeVar("SelfAdversarial", bound="AdversarialAlgorithm")


class AdversarialAlgorithm(GeneratorAlgorithm):
    """GAIL and AIRL: imitation's trainer, a generator from SB3 / sb3-contrib, a reward net saved with the policy.

    Every keyword argument this class does not know goes to the generator's constructor
    (``n_steps``, ``batch_size``, ``ent_coef``, ``gamma``, ...), so a GAIL entry in YAML reads
    like a PPO entry plus the GAIL keys (see :class:`~sb3_behave.zoo.adapters.generator.GeneratorAlgorithm`).

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param demonstrations: one path or several (see :class:`~sb3_behave.zoo.adapters.base.ImitationAlgorithm`)
    :param gen_algo: the generator: ``"ppo"``, ``"a2c"`` or ``"trpo"`` (sb3-contrib, as in the GAIL paper)
    :param demo_batch_size: demonstrations per discriminator update
    :param n_disc_updates_per_round: discriminator updates after each generator round
    :param gen_train_timesteps: env steps per generator round (default: one rollout, ``n_steps * n_envs``)
    :param gen_replay_buffer_capacity: generator samples kept for the discriminator (default: one round)
    :param disc_learning_rate: Adam's learning rate for the discriminator
    :param reward_net_kwargs: keyword arguments of the reward net (imitation's ``BasicRewardNet``
        for GAIL: ``hid_sizes``, ...; ``BasicShapedRewardNet`` for AIRL: ``reward_hid_sizes``,
        ``potential_hid_sizes``, ``discount_factor``)
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

    reward_net: th.nn.Module

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
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
        self.demo_batch_size = demo_batch_size
        self.n_disc_updates_per_round = n_disc_updates_per_round
        self.gen_train_timesteps = gen_train_timesteps
        self.gen_replay_buffer_capacity = gen_replay_buffer_capacity
        self.disc_learning_rate = disc_learning_rate
        self.reward_net_kwargs = reward_net_kwargs or {}
        self.allow_variable_horizon = allow_variable_horizon
        self.round_num = 0
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

    def _classes(self) -> tuple[type, type]:
        """imitation's trainer class and reward net class (imported when asked for)."""
        raise NotImplementedError

    def _setup_model(self) -> None:
        super()._setup_model()
        from imitation.util.networks import RunningNorm

        kwargs = {"normalize_input_layer": RunningNorm, **self.reward_net_kwargs}
        self.reward_net = self._classes()[1](self.observation_space, self.action_space, **kwargs).to(self.device)

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

    def learn(
        self: SelfAdversarial,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfAdversarial:
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
        self._stop_requested = False
        tb_log_name = tb_log_name or type(self).__name__
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        imitation_logger = self._imitation_logger()
        trainer = self._make_trainer(demonstrations, self._make_generator(), imitation_logger)
        forward = ForwardCallback(self, callback)
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


class GAIL(AdversarialAlgorithm):
    """GAIL (imitation's ``adversarial.gail.GAIL``) as an SB3 algorithm; the generator is chosen by ``gen_algo``.

    The parameters are :class:`AdversarialAlgorithm`'s; ``reward_net_kwargs`` go to imitation's
    ``BasicRewardNet`` (``hid_sizes``, ...).
    """

    algo_name = "gail"

    def _classes(self) -> tuple[type, type]:
        from imitation.algorithms.adversarial.gail import GAIL as ImitationGAIL
        from imitation.rewards.reward_nets import BasicRewardNet

        return ImitationGAIL, BasicRewardNet


@functools.cache
def _positive_airl_class() -> type:
    from imitation.algorithms.adversarial.airl import AIRL as ImitationAIRL

    class PositiveAIRL(ImitationAIRL):
        """imitation's AIRL whose generator is paid :func:`~sb3_behave.zoo.adapters.positive.positive_reward`
        of the reward net's output."""

        @property
        def reward_train(self) -> Any:
            if getattr(self, "_positive_reward_train", None) is None:
                self._positive_reward_train = positive_reward_net(self._reward_net)
            return self._positive_reward_train

    return PositiveAIRL


class AIRL(AdversarialAlgorithm):
    """AIRL (imitation's ``adversarial.airl.AIRL``) as an SB3 algorithm; the generator is chosen by ``gen_algo``.

    The parameters are :class:`AdversarialAlgorithm`'s, and ``generator_reward``; ``reward_net_kwargs``
    go to imitation's ``BasicShapedRewardNet`` (``reward_hid_sizes``, ``potential_hid_sizes``,
    ``discount_factor``).

    :param generator_reward: what the generator is trained on: ``"logit"`` (imitation's AIRL: the
        shaped reward net's output ``f``, mostly negative, so that in an env whose episodes end on
        failure the generator learns to end them at once) or ``"positive"``
        (:func:`~sb3_behave.zoo.adapters.positive.positive_reward` of ``f``).
        The discriminator is trained the same way with either
    """

    algo_name = "airl"

    def __init__(self, *args: Any, generator_reward: str = "logit", **kwargs: Any) -> None:
        self.generator_reward = check_generator_reward("airl", generator_reward)
        super().__init__(*args, **kwargs)

    def _classes(self) -> tuple[type, type]:
        from imitation.algorithms.adversarial.airl import AIRL as ImitationAIRL
        from imitation.rewards.reward_nets import BasicShapedRewardNet

        # The generator's env is built on the trainer's reward_train; the discriminator reads the net itself.
        trainer = _positive_airl_class() if self.generator_reward == "positive" else ImitationAIRL
        return trainer, BasicShapedRewardNet


def _with_generator_reward(signature: inspect.Signature) -> inspect.Signature:
    """:class:`AdversarialAlgorithm`'s signature plus AIRL's ``generator_reward`` (what the zoo's config checks read)."""
    parameters = list(signature.parameters.values())
    extra = inspect.Parameter("generator_reward", inspect.Parameter.KEYWORD_ONLY, default="logit", annotation="str")
    return signature.replace(parameters=[*parameters[:-1], extra, parameters[-1]])


AIRL.__init__.__signature__ = _with_generator_reward(inspect.signature(AdversarialAlgorithm.__init__))  # type: ignore[attr-defined]
