"""The actor of an SB3 policy as a function of its parameters.

A loss landscape perturbs the parameters the action distribution depends on (the *actor*), and
only those: the critic of an actor-critic policy plays no part in the imitation or the
policy-gradient loss. For SB3's ``ActorCriticPolicy`` (PPO, A2C, TRPO) the actor is

    features = features_extractor(preprocess(obs))      # no parameters for the default MlpPolicy
    latent   = mlp_extractor.forward_actor(features)    # mlp_extractor.policy_net
    out      = action_net(latent)                       # logits (Discrete) or the mean (Box)

plus ``log_std`` for Box actions. :class:`PolicyActor` finds these parameters by autograd (every
parameter the output depends on), and evaluates the actor with any parameters through
``torch.func.functional_call``, one parameter set or (with ``vmap``) many at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch as th
from torch import nn

#: Layers of an MLP actor the fast path of :mod:`sb3_behave.landscape.surface` evaluates itself.
FAST_ACTIVATIONS = (nn.Tanh, nn.ReLU, nn.Identity)


@dataclass
class ActorOutput:
    """What the actor gives for a batch of observations.

    Leading dimensions are free: ``[B, A]`` for one parameter set, ``[P, B, A]`` for ``P`` grid points.

    :param kind: ``"categorical"`` (Discrete actions) or ``"gaussian"`` (Box actions)
    :param net: the action net's output: logits (categorical) or the mean action (gaussian), ``[..., B, A]``
    :param log_std: the log standard deviation of each action dimension, ``[..., A]`` (gaussian only)
    """

    kind: str
    net: th.Tensor
    log_std: th.Tensor | None = None

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """``log pi(a_t | s_t)`` for each transition, shape ``[..., B]``.

        :param actions: ``[B]`` action indices (categorical) or ``[B, A]`` actions (gaussian)
        """
        if self.kind == "categorical":
            # log softmax(logits)[a] = logits[a] - log sum_b exp(logits[b])
            index = actions.long().reshape(*(1,) * (self.net.dim() - 2), -1, 1).expand(*self.net.shape[:-1], 1)
            if self.net.shape[-1] == 2:  # the same, in one fused op
                log_normalizer = th.logaddexp(self.net[..., 0], self.net[..., 1])
            else:
                log_normalizer = th.logsumexp(self.net, dim=-1)
            return self.net.gather(-1, index).squeeze(-1) - log_normalizer
        assert self.log_std is not None
        log_std = self.log_std.unsqueeze(-2)  # [..., 1, A], the same for every transition
        z = (actions - self.net) * th.exp(-log_std)
        # A diagonal Gaussian: the sum over action dimensions of log N(a_i; mean_i, std_i).
        return (-0.5 * z.pow(2) - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)

    def probs(self) -> th.Tensor:
        """The action probabilities ``[..., B, A]`` (categorical only)."""
        if self.kind != "categorical":
            raise ValueError("action probabilities exist for Discrete actions only")
        return th.softmax(self.net, dim=-1)


class _ActorModule(nn.Module):
    """The policy's actor as a module whose ``forward`` maps observations to the action net's output.

    Its submodules keep the names they have in the policy, so its parameter names are the
    policy's (``mlp_extractor.policy_net.0.weight``, ``action_net.bias``, ``log_std``, ...).
    """

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self._shared = bool(getattr(policy, "share_features_extractor", True))
        if self._shared:
            self.features_extractor = policy.features_extractor
        else:
            self.pi_features_extractor = policy.pi_features_extractor
        self.mlp_extractor = policy.mlp_extractor
        self.action_net = policy.action_net
        if isinstance(getattr(policy, "log_std", None), nn.Parameter):
            self.log_std = policy.log_std
        self.observation_space = policy.observation_space
        self.normalize_images = policy.normalize_images

    def features_module(self) -> nn.Module:
        """The features extractor of the actor."""
        return self.features_extractor if self._shared else self.pi_features_extractor

    def preprocess(self, obs: th.Tensor) -> th.Tensor:
        """SB3's observation preprocessing (one-hot for Discrete, scaling of images, float cast).

        :param obs: observations as the policy takes them
        """
        from stable_baselines3.common.preprocessing import preprocess_obs

        return preprocess_obs(obs, self.observation_space, normalize_images=self.normalize_images)

    def forward(self, obs: th.Tensor) -> th.Tensor:
        """The action net's output: logits (Discrete) or the mean action (Box).

        :param obs: observations as the policy takes them
        """
        features = self.features_module()(self.preprocess(obs))
        return self.action_net(self.mlp_extractor.forward_actor(features))


class PolicyActor:
    """The actor of an SB3 ``ActorCriticPolicy``: its parameters, and its output for any parameters.

    :param policy: an ``ActorCriticPolicy`` (the policy of PPO, A2C, TRPO) with Discrete or Box
        (diagonal Gaussian, no gSDE) actions and an array observation space
    :param obs_transform: applied to observations (numpy) before the policy sees them, e.g. a
        VecNormalize's ``normalize_obs``
    :raises ValueError: for other policies or action distributions, naming what was found
    """

    def __init__(self, policy: Any, obs_transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        from gymnasium import spaces
        from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
        from stable_baselines3.common.policies import ActorCriticPolicy

        if not isinstance(policy, ActorCriticPolicy):
            raise ValueError(f"loss landscapes need an actor-critic policy (PPO, A2C, TRPO), got {type(policy).__name__}")
        if isinstance(policy.observation_space, spaces.Dict):
            raise ValueError("loss landscapes support array observations, not a Dict observation space")
        if type(policy.action_dist) is CategoricalDistribution:
            self.kind = "categorical"
        elif type(policy.action_dist) is DiagGaussianDistribution:
            self.kind = "gaussian"
        else:
            raise ValueError(
                f"loss landscapes support Discrete (categorical) and Box (diagonal Gaussian) actions; "
                f"this policy has {type(policy.action_dist).__name__} for {policy.action_space}"
            )
        self.policy = policy
        self.obs_transform = obs_transform
        self.module = _ActorModule(policy)
        self.device = policy.device
        self.names = self._find_actor_parameters()

    # ------------------------------------------------------------------ parameters
    def _find_actor_parameters(self) -> list[str]:
        """Names of the parameters the action distribution depends on (found by autograd)."""
        named = {name: p for name, p in self.module.named_parameters() if p.requires_grad}  # frozen ones stay put
        sample = self.observations(np.stack([self.policy.observation_space.sample() for _ in range(2)]))
        with th.enable_grad():
            out = self.module(sample)
            total = out.sum() + (self.module.log_std.sum() if self.kind == "gaussian" else 0.0)
            grads = th.autograd.grad(total, list(named.values()), allow_unused=True)
        return [name for name, grad in zip(named, grads) if grad is not None]

    def parameters(self) -> dict[str, th.Tensor]:
        """A detached copy of the actor's current parameters ``theta0``, by name."""
        named = dict(self.module.named_parameters())
        return {name: named[name].detach().clone() for name in self.names}

    def flatten(self, tensors: dict[str, th.Tensor]) -> th.Tensor:
        """One vector of the actor's parameters (or of tensors shaped like them), in the order of ``names``.

        :param tensors: a tensor per actor parameter name
        """
        return th.cat([tensors[name].reshape(-1) for name in self.names])

    def unflatten(self, vector: th.Tensor) -> dict[str, th.Tensor]:
        """The inverse of :meth:`flatten`.

        :param vector: a flat vector of the actor's size
        """
        shapes = {name: p.shape for name, p in self.module.named_parameters() if name in self.names}
        out, start = {}, 0
        for name in self.names:
            size = int(np.prod(shapes[name]))
            out[name] = vector[start : start + size].reshape(shapes[name])
            start += size
        return out

    # ------------------------------------------------------------------ data
    def observations(self, obs: np.ndarray) -> th.Tensor:
        """A batch of observations as the tensor the policy takes.

        :param obs: numpy observations ``[B, *obs_shape]`` (``obs_transform`` is applied)
        """
        obs = np.asarray(obs)
        if self.obs_transform is not None:
            obs = self.obs_transform(obs)
        tensor, _ = self.policy.obs_to_tensor(obs)
        return tensor

    def actions(self, acts: np.ndarray) -> th.Tensor:
        """Demonstrated actions as a tensor: ``[B]`` indices (Discrete) or ``[B, A]`` floats (Box).

        :param acts: numpy actions
        """
        acts = np.asarray(acts)
        if self.kind == "categorical":
            return th.as_tensor(acts.reshape(len(acts)), dtype=th.long, device=self.device)
        return th.as_tensor(acts.reshape(len(acts), -1), dtype=th.float32, device=self.device)

    # ------------------------------------------------------------------ evaluation
    def output(self, obs: th.Tensor, params: dict[str, th.Tensor] | None = None) -> ActorOutput:
        """The actor's output for one parameter set (differentiable; autograd works through it).

        :param obs: observations from :meth:`observations`
        :param params: actor parameters by name (missing ones: the policy's own); default the policy's
        """
        from torch.func import functional_call

        params = params or {}
        net = functional_call(self.module, params, (obs,))
        log_std = None
        if self.kind == "gaussian":
            log_std = params.get("log_std", self.module.log_std)
        return ActorOutput(self.kind, net, log_std)

    def batched_output(self, obs: th.Tensor, stacked: dict[str, th.Tensor]) -> ActorOutput:
        """The actor's output for ``P`` parameter sets at once (``torch.func.vmap``): ``net`` is ``[P, B, A]``.

        :param obs: observations ``[B, ...]``, shared by all parameter sets
        :param stacked: actor parameters by name, each with a leading dimension ``P``
        """
        from torch.func import functional_call, vmap

        def one(params: dict[str, th.Tensor], x: th.Tensor) -> th.Tensor:
            return functional_call(self.module, params, (x,))

        net = vmap(one, in_dims=(0, None))(stacked, obs)
        log_std = None
        if self.kind == "gaussian":
            log_std = stacked["log_std"] if "log_std" in stacked else self.module.log_std.expand(net.shape[0], -1)
        return ActorOutput(self.kind, net, log_std)

    def mlp_layers(self) -> list[tuple[str, nn.Module]] | None:
        """The actor after its features extractor as ``(name, layer)`` pairs, if it is a plain MLP.

        Plain means ``mlp_extractor.forward_actor`` is SB3's ``MlpExtractor.policy_net``, a
        ``Sequential`` of ``Linear`` layers and :data:`FAST_ACTIVATIONS`, followed by the linear
        ``action_net``. ``None`` otherwise (the surface is then evaluated with ``vmap``).
        """
        from stable_baselines3.common.torch_layers import MlpExtractor

        extractor = self.module.mlp_extractor
        if type(extractor) is not MlpExtractor or not isinstance(extractor.policy_net, nn.Sequential):
            return None
        layers = [(f"mlp_extractor.policy_net.{i}", layer) for i, layer in enumerate(extractor.policy_net)]
        layers.append(("action_net", self.module.action_net))
        if not all(isinstance(layer, (nn.Linear, *FAST_ACTIVATIONS)) for _, layer in layers):
            return None
        if not isinstance(self.module.action_net, nn.Linear):
            return None
        return layers

    def features(self, obs: th.Tensor) -> th.Tensor:
        """The features extractor's output with the current parameters (what the MLP reads).

        :param obs: observations from :meth:`observations`
        """
        return self.module.features_module()(self.module.preprocess(obs))

    def features_names(self) -> list[str]:
        """Names of the actor parameters that belong to the features extractor."""
        prefix = "features_extractor." if self.module._shared else "pi_features_extractor."
        return [name for name in self.names if name.startswith(prefix)]

    def describe(self) -> str:
        """A one-line description: which parameters make the actor, and how many numbers."""
        sizes = {name: p.numel() for name, p in self.module.named_parameters() if name in self.names}
        return f"{len(self.names)} actor tensors, {sum(sizes.values()):,} numbers: " + ", ".join(
            f"{name} {tuple(p.shape)}" for name, p in self.module.named_parameters() if name in self.names
        )


def fresh_policy(env: Any, algo: str = "ppo", seed: int = 0) -> Any:
    """A fresh random init of the algorithm's default ``MlpPolicy`` for ``env``.

    :param env: a gymnasium env (or VecEnv)
    :param algo: an RL Zoo algorithm name with an actor-critic policy (``ppo``, ``a2c``, ``trpo``)
    :param seed: seed of the initialisation
    """
    from sb3_behave.agents import algorithm_class

    model = algorithm_class(algo)("MlpPolicy", env, seed=seed, device="cpu")
    return model.policy


def load_policy(
    source: str, env: Any, algo: str | None = None, seed: int = 0
) -> tuple[Any, Callable[[np.ndarray], np.ndarray] | None, str]:
    """The policy to draw landscapes of: ``"fresh"`` or a saved model (``.zip`` or an RL Zoo run folder).

    :param source: ``"fresh"`` for a random init of ``algo``'s default ``MlpPolicy``, or a path
    :param env: the env (its spaces; its id locates files in a zoo folder)
    :param algo: the algorithm: default ``ppo`` for a fresh policy or a ``.zip``, inferred from the
        path of a zoo folder (``logs/<algo>/...``)
    :param seed: seed of a fresh init
    :return: ``(policy, obs_transform or None, description)``; ``obs_transform`` applies the
        VecNormalize statistics of a zoo run
    """
    if source == "fresh":
        algo = algo or "ppo"
        return fresh_policy(env, algo, seed), None, f"fresh {algo.upper()} MlpPolicy (seed {seed})"
    from pathlib import Path

    from sb3_behave.agents import load_agent_from_path

    path = Path(source)
    if not path.exists():
        raise ValueError(f"--policy {source}: no such file or folder (expected 'fresh', a model .zip or an RL Zoo run folder)")
    model, normalize = load_agent_from_path(path, env, algo=algo)
    transform = normalize.normalize_obs if normalize is not None else None
    return model.policy, transform, f"{type(model).__name__} model {path}"
