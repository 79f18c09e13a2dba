"""Adapters whose policy is trained by an RL algorithm from SB3 or sb3-contrib on a learned reward.

GAIL, AIRL, density-based reward modelling and preference comparisons all do this: imitation
learns a reward, and an RL algorithm (the *generator*: PPO, A2C or TRPO, named by ``gen_algo``)
trains the adapter's own policy on it. :class:`GeneratorAlgorithm` holds what they share: the
generator's hyperparameters, checked against its constructor; building the generator around the
adapter's policy; and forwarding each of its env steps to the adapter's callbacks.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.zoo.adapters.base import ImitationAlgorithm

#: Generators, by the name used in YAML (``gen_algo: ppo``).
GENERATORS = ("ppo", "a2c", "trpo")


def generator_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 / sb3-contrib class of a generator named in YAML (``ppo``, ``a2c`` or ``trpo``).

    :param name: the name, in any case
    :raises ValueError: an unknown name, with the known ones
    """
    from sb3_behave.agents import algorithm_class

    key = str(name).lower()
    if key not in GENERATORS:
        raise ValueError(f"gen_algo: {name!r}: expected one of {', '.join(GENERATORS)}")
    return algorithm_class(key)


class ForwardCallback(BaseCallback):
    """Given to a generator's ``learn``: forwards each of its steps to the adapter's callbacks.

    When the adapter's callbacks ask to stop, ``adapter._stop_requested`` is set and the generator stops.

    :param adapter: the adapter whose ``num_timesteps`` follows the inner algorithm's (it sets
        ``adapter._stop_requested``; SQIL uses this too, for its DQN or SAC)
    :param outer: the adapter's callbacks (as ``_setup_learn`` returned them)
    """

    def __init__(self, adapter: BaseAlgorithm, outer: BaseCallback) -> None:
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


class GeneratorAlgorithm(ImitationAlgorithm):
    """An imitation trainer whose policy a generator from SB3 / sb3-contrib trains on a learned reward.

    Every keyword argument a subclass does not know goes to the generator's constructor
    (``n_steps``, ``batch_size``, ``ent_coef``, ``gamma``, ...), so an entry in YAML reads like a
    PPO entry plus the algorithm's own keys; a key the generator does not take either is refused
    with its name.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env
    :param demonstrations: one path or several (see :class:`~sb3_behave.zoo.adapters.base.ImitationAlgorithm`)
    :param gen_algo: the generator: ``"ppo"``, ``"a2c"`` or ``"trpo"`` (sb3-contrib)
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    :param gen_kwargs: the generator's hyperparameters (``n_steps``, ``learning_rate``, ``ent_coef``, ...)
    """

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        demonstrations: Demonstrations | None = None,
        gen_algo: str = "ppo",
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
        self._stop_requested = False
        default_rate = inspect.signature(gen_class.__init__).parameters["learning_rate"].default
        if gen_kwargs.get("use_sde"):  # the generator trains this adapter's policy, so it needs gSDE's distribution
            policy_kwargs = {**(policy_kwargs or {}), "use_sde": True}
        super().__init__(
            policy=policy,
            env=env,
            demonstrations=demonstrations,
            learning_rate=gen_kwargs.get("learning_rate", default_rate),
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_stop_requested"]

    def _make_generator(self, env: Any = None) -> BaseAlgorithm:
        """The generator, built on ``env`` (this adapter's env by default) around this adapter's policy."""
        gen_class = generator_class(self.gen_algo)
        gen_kwargs = {"verbose": self.verbose, "device": self.device, "seed": self.seed, **self.gen_kwargs}
        policy_kwargs = {key: value for key, value in self.policy_kwargs.items() if key != "use_sde"}  # given as use_sde
        gen = gen_class(type(self.policy), self.env if env is None else env, policy_kwargs=policy_kwargs, **gen_kwargs)
        gen.policy = self.policy  # the generator trains the adapter's own policy
        gen.num_timesteps = self.num_timesteps
        return gen


__all__ = ["GENERATORS", "ForwardCallback", "GeneratorAlgorithm", "generator_class"]
