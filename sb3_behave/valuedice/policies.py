"""ValueDICE policies: an actor (tanh-squashed Gaussian or categorical) and the nu network beside it.

Every network sees *network states*: observations flattened, normalized with the expert
statistics (``obs_mean``, ``obs_std``, saved with the policy), and, when absorbing states are
used, followed by an absorbing indicator (0 for the env's states, 1 for the absorbing state,
whose observation part is zeroed). :meth:`ValueDICEPolicy.predict` adds the indicator and applies
the normalization itself, so callers pass plain env observations.

nu sees actions as vectors: Box actions scaled to ``[-1, 1]`` (as SB3 stores them in its replay
buffer), Discrete actions one-hot. At the absorbing state the action vector is zeroed: nothing
the agent does there matters, so nu(s_abs, a) does not depend on a.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.type_aliases import Schedule
from torch import nn
from torch.nn import functional as F

#: Bounds of the Box actor's log standard deviation.
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def _linear_layers(module: nn.Module) -> list[nn.Linear]:
    return [layer for layer in module.modules() if isinstance(layer, nn.Linear)]


class SquashedGaussianActor(nn.Module):
    """pi(a|s) for Box actions: a Gaussian with state-dependent mean and std, squashed by tanh into ``[-1, 1]``.

    :param state_dim: size of the network state
    :param action_dim: size of the action
    :param net_arch: hidden layer sizes
    :param activation_fn: activation after each hidden layer
    """

    def __init__(self, state_dim: int, action_dim: int, net_arch: list[int], activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*create_mlp(state_dim, -1, net_arch, activation_fn))
        latent_dim = net_arch[-1] if net_arch else state_dim
        self.mu = nn.Linear(latent_dim, action_dim)
        self.log_std = nn.Linear(latent_dim, action_dim)
        self.distribution = SquashedDiagGaussianDistribution(action_dim)

    @property
    def weight_layers(self) -> list[nn.Linear]:
        """Every linear layer of the actor (all are under orthogonal regularization)."""
        return _linear_layers(self)

    def forward(self, states: th.Tensor, deterministic: bool = False) -> th.Tensor:
        """Actions in ``[-1, 1]``: ``tanh(mean)`` if ``deterministic``, else a reparametrized sample.

        :param states: network states, shape ``(n, state_dim)``
        :param deterministic: take the mode instead of sampling
        """
        latent = self.trunk(states)
        # tanh maps the raw output smoothly onto [LOG_STD_MIN, LOG_STD_MAX] (a clamp would stop its gradient)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (th.tanh(self.log_std(latent)) + 1.0)
        return self.distribution.actions_from_params(self.mu(latent), log_std, deterministic=deterministic)


class CategoricalActor(nn.Module):
    """pi(a|s) for Discrete actions: a categorical distribution over ``n_actions`` logits.

    :param state_dim: size of the network state
    :param n_actions: number of actions
    :param net_arch: hidden layer sizes
    :param activation_fn: activation after each hidden layer
    """

    def __init__(self, state_dim: int, n_actions: int, net_arch: list[int], activation_fn: type[nn.Module]) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*create_mlp(state_dim, -1, net_arch, activation_fn))
        self.logits = nn.Linear(net_arch[-1] if net_arch else state_dim, n_actions)

    @property
    def weight_layers(self) -> list[nn.Linear]:
        """Every linear layer of the actor (all are under orthogonal regularization)."""
        return _linear_layers(self)

    def probabilities(self, states: th.Tensor) -> th.Tensor:
        """pi(.|s), shape ``(n, n_actions)``.

        :param states: network states, shape ``(n, state_dim)``
        """
        return F.softmax(self.logits(self.trunk(states)), dim=-1)

    def forward(self, states: th.Tensor, deterministic: bool = False) -> th.Tensor:
        """Action indices: the argmax if ``deterministic``, else a sample.

        :param states: network states, shape ``(n, state_dim)``
        :param deterministic: take the most probable action instead of sampling
        """
        probabilities = self.probabilities(states)
        if deterministic:
            return probabilities.argmax(dim=-1)
        return th.multinomial(probabilities, 1).squeeze(-1)


class ValueDICEPolicy(BasePolicy):
    """The actor pi and the nu network of ValueDICE, with the expert normalization statistics.

    :param observation_space: a ``Box`` observation space (flattened for the networks)
    :param action_space: ``Box`` (tanh-squashed Gaussian actor) or ``Discrete`` (categorical actor)
    :param lr_schedule: the actor's learning rate schedule (kept for SB3's policy signature; the
        optimizers are created by :class:`~sb3_behave.valuedice.ValueDICE`)
    :param net_arch: hidden layers of both networks (a list), or ``dict(pi=[...], nu=[...])``;
        256x256 by default, as in the paper's code
    :param activation_fn: activation of the hidden layers
    :param absorbing_state: whether network states end with an absorbing indicator
    :param normalize_images: unused (image observations are not supported); SB3's signature
    :param optimizer_class: optimizer class for the actor and nu (Adam)
    :param optimizer_kwargs: optimizer keyword arguments, except the learning rate
    """

    actor: SquashedGaussianActor | CategoricalActor
    nu: nn.Sequential
    obs_mean: th.Tensor
    obs_std: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        absorbing_state: bool = True,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(observation_space, spaces.Box):
            raise ValueError(f"ValueDICE needs a Box observation space, not {observation_space}")
        if not isinstance(action_space, (spaces.Box, spaces.Discrete)):
            raise ValueError(f"ValueDICE supports Box and Discrete action spaces, not {action_space}")
        if isinstance(action_space, spaces.Discrete) and action_space.start != 0:
            raise ValueError(f"ValueDICE needs Discrete actions numbered from 0, not {action_space}")
        super().__init__(
            observation_space,
            action_space,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            squash_output=isinstance(action_space, spaces.Box),
            normalize_images=normalize_images,
        )
        if net_arch is None:
            net_arch = [256, 256]
        self.net_arch = net_arch
        pi_arch, nu_arch = (net_arch["pi"], net_arch["nu"]) if isinstance(net_arch, dict) else (net_arch, net_arch)
        self.activation_fn = activation_fn
        self.absorbing_state = absorbing_state

        self.obs_dim = int(np.prod(observation_space.shape))
        self.state_dim = self.obs_dim + int(absorbing_state)
        if isinstance(action_space, spaces.Box):
            self.action_dim = int(np.prod(action_space.shape))
            self.actor = SquashedGaussianActor(self.state_dim, self.action_dim, pi_arch, activation_fn)
        else:
            self.action_dim = int(action_space.n)
            self.actor = CategoricalActor(self.state_dim, self.action_dim, pi_arch, activation_fn)
        self.nu = nn.Sequential(*create_mlp(self.state_dim + self.action_dim, 1, nu_arch, activation_fn))
        # Orthogonal initialization of every layer (gain 1, zero biases), as in the paper's code.
        self.apply(self.init_weights)
        self.register_buffer("obs_mean", th.zeros(self.obs_dim))
        self.register_buffer("obs_std", th.ones(self.obs_dim))

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            absorbing_state=self.absorbing_state,
            lr_schedule=self._dummy_schedule,
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
        )
        return data

    # ------------------------------------------------------------------ states and actions
    def set_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Set the statistics applied to every observation (flattened shape ``(obs_dim,)``).

        :param mean: mean of the expert observations
        :param std: their standard deviation (already kept away from zero)
        """
        self.obs_mean.copy_(th.as_tensor(np.reshape(mean, -1), dtype=th.float32))
        self.obs_std.copy_(th.as_tensor(np.reshape(std, -1), dtype=th.float32))

    def with_indicator(self, observations: th.Tensor) -> th.Tensor:
        """Env observations as *raw states*: flattened, with a 0 absorbing indicator if used.

        :param observations: shape ``(n, *observation_space.shape)``
        """
        flat = observations.float().reshape(len(observations), -1)
        if not self.absorbing_state:
            return flat
        return th.cat([flat, th.zeros(len(flat), 1, device=flat.device)], dim=1)

    def network_state(self, raw_states: th.Tensor) -> th.Tensor:
        """Normalize raw states ``[obs, indicator]``; the absorbing state's observation part becomes 0.

        :param raw_states: shape ``(n, state_dim)``
        """
        if not self.absorbing_state:
            return (raw_states - self.obs_mean) / self.obs_std
        observation, indicator = raw_states[:, :-1], raw_states[:, -1:]
        return th.cat([(observation - self.obs_mean) / self.obs_std * (1.0 - indicator), indicator], dim=1)

    def _not_absorbing(self, states: th.Tensor) -> th.Tensor:
        if not self.absorbing_state:
            return th.ones(len(states), 1, device=states.device)
        return 1.0 - states[:, -1:]

    def encode_actions(self, actions: th.Tensor, states: th.Tensor) -> th.Tensor:
        """Actions as nu's input vectors: scaled Box actions or one-hot, zeroed at the absorbing state.

        :param actions: Box actions scaled to ``[-1, 1]`` or Discrete indices, batch first
        :param states: the network states they were taken in
        """
        if isinstance(self.action_space, spaces.Discrete):
            vectors = F.one_hot(actions.long().reshape(-1), self.action_dim).float()
        else:
            vectors = actions.float().reshape(len(actions), -1)
        return vectors * self._not_absorbing(states)

    # ------------------------------------------------------------------ nu
    def nu_value(self, states: th.Tensor, action_vectors: th.Tensor) -> th.Tensor:
        """nu(s, a), shape ``(n,)``.

        :param states: network states
        :param action_vectors: actions from :meth:`encode_actions`
        """
        return self.nu(th.cat([states, action_vectors], dim=1)).squeeze(-1)

    def expected_nu(self, states: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """E_{a ~ pi(.|s)} nu(s, a), differentiable with respect to the actor, and an action drawn from pi.

        Discrete actions: the exact expectation ``sum_a pi(a|s) nu(s, a)``, no sampling. Box actions:
        ``nu(s, a)`` for one reparametrized sample ``a ~ pi(.|s)``.

        :param states: network states, shape ``(n, state_dim)``
        :return: the expectation ``(n,)`` and an encoded action ``a ~ pi(.|s)`` (for the gradient penalty)
        """
        keep = self._not_absorbing(states)
        if isinstance(self.actor, CategoricalActor):
            n, k = len(states), self.action_dim
            probabilities = self.actor.probabilities(states)  # pi(a|s), (n, k)
            every_action = th.eye(k, device=states.device).repeat(n, 1) * keep.repeat_interleave(k, dim=0)
            nu_all = self.nu_value(states.repeat_interleave(k, dim=0), every_action).reshape(n, k)  # nu(s, a) for every a
            drawn = F.one_hot(th.multinomial(probabilities.detach(), 1).squeeze(-1), k).float() * keep
            return (probabilities * nu_all).sum(dim=1), drawn
        action = self.actor(states) * keep
        return self.nu_value(states, action), action

    # ------------------------------------------------------------------ acting
    def forward(self, obs: th.Tensor, deterministic: bool = False) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, observation: th.Tensor, deterministic: bool = False) -> th.Tensor:  # type: ignore[override]
        states = self.network_state(self.with_indicator(observation))
        return self.actor(states, deterministic=deterministic)


MlpPolicy = ValueDICEPolicy

__all__ = ["CategoricalActor", "MlpPolicy", "SquashedGaussianActor", "ValueDICEPolicy"]
