"""What every adapter shares: an SB3 ``BaseAlgorithm`` around one of imitation's trainers.

:class:`ImitationAlgorithm` is built from ``(policy, env, tensorboard_log=, seed=, verbose=,
device=, **hyperparams)`` like any SB3 algorithm, so the RL Zoo can drive it; ``learn``,
``predict``, ``save``, ``load``, ``get_env`` and ``get_vec_normalize_env`` behave as SB3's. It owns
the policy (an ``ActorCriticPolicy``, which imitation's trainers train in place), the
demonstrations (read through :func:`sb3_behave.demos.load_demonstrations`), and imitation's logger
on top of the run's SB3 logger, so that both write to one TensorBoard run folder.
"""

from __future__ import annotations

import tempfile
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_normalize

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.stack import require_imitation


def silent_imitation_logger() -> Any:
    """imitation's ``HierarchicalLogger`` with nowhere to write.

    For the trainers whose inner SB3 algorithm logs to the run's SB3 logger instead (SQIL's DQN or
    SAC, the density generator): imitation's own scalars would only duplicate them.
    """
    from imitation.util.logger import HierarchicalLogger

    return HierarchicalLogger(Logger(None, []), format_strs=())


class ImitationAlgorithm(BaseAlgorithm):
    """What the four adapters share: the policy, the demonstrations, logging and callbacks.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"`` or an ActorCriticPolicy class
    :param env: the env (a VecEnv from the zoo, a gymnasium env or an env id)
    :param demonstrations: what :func:`sb3_behave.demos.load_demonstrations` reads: a demo
        folder or file, a Minari dataset, an imitation dataset, several of these, or imitation
        trajectories
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
        demonstrations: Demonstrations | None = None,
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
            policy=policy,
            env=env,
            learning_rate=learning_rate,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            support_multi_env=True,
            supported_action_spaces=(gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary),
        )
        self.demonstrations = demonstrations
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
        """Use another env (the same spaces), as SB3's ``set_env``; one that normalizes observations is refused.

        :param env: the new env
        :param force_reset: reset it before the next ``learn`` (as SB3's)
        """
        super().set_env(env, force_reset)
        self._check_env_normalization(self.env)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy"], []

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    # ------------------------------------------------------------------ demonstrations and logging
    def _load_demonstrations(self, required: bool = True) -> list[Any]:
        """The trajectories of ``demonstrations``, read and checked against the env by the one loader."""
        from sb3_behave.demos import load_demonstrations

        demos = self.demonstrations
        if demos is None or (isinstance(demos, (list, tuple)) and len(demos) == 0):
            if required:
                raise ValueError(f"{self.algo_name}: the `demonstrations` hyperparameter is missing: give one path or a list")
            return []
        return load_demonstrations(self.demonstrations, env=self.env)

    def _imitation_logger(self) -> Any:
        """imitation's HierarchicalLogger on top of this run's SB3 logger (same TensorBoard run folder)."""
        from imitation.util.logger import HierarchicalLogger

        logger = self.logger
        has_tensorboard = any(type(f).__name__ == "TensorBoardOutputFormat" for f in logger.output_formats)
        if logger.dir is None:
            # imitation keeps per-phase logs in sub-folders; without a run folder they go to a temporary one.
            logger = Logger(tempfile.mkdtemp(prefix=f"sb3-behave-{self.algo_name}-"), logger.output_formats)
        return HierarchicalLogger(logger, format_strs=("tensorboard",) if has_tensorboard else ())
