"""The two losses of one policy on one demonstration set: imitation (IL) and policy gradient (RL).

Both are weighted sums of one per-transition term over the ``N`` demonstrated transitions::

    L(theta) = sum_t c_t * l_t(theta)

================  ====================================================  ===================
objective         per-transition term ``l_t``                           coefficient ``c_t``
================  ====================================================  ===================
IL, ``ce``        ``-log pi(a_t|s_t)`` (Discrete)                       ``1 / N``
IL, ``nll``       ``-log pi(a_t|s_t)`` (Box, Gaussian)                  ``1 / N``
IL, ``mse``       ``mean_a (pi(a|s_t) - 1[a = a_t])^2`` (Discrete)      ``1 / N``
                  or ``mean_i (mu_i(s_t) - a_t,i)^2`` (Box)
RL, REINFORCE     ``-log pi(a_t|s_t)``                                  ``w_t / N``
================  ====================================================  ===================

with ``w_t`` the demonstrations' discounted reward-to-go, optionally normalized and minus a
baseline (:func:`reinforce_weights`). Written this way, one forward pass of the actor over a
grid point gives every objective at once, and the RL loss with ``w_t = -1`` is exactly minus
the IL cross-entropy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch as th

from sb3_behave.landscape.actor import ActorOutput

#: Per-transition terms an objective can be built on.
TERMS = ("nll", "prob_mse", "mean_mse")
#: Imitation losses by action space.
IL_LOSSES = {"categorical": ("ce", "mse"), "gaussian": ("nll", "mse")}
#: Baselines of the REINFORCE weights.
BASELINES = ("none", "mean", "time")

#: Why the landscapes need rewards (said when demonstrations come without them).
RL_NEEDS_REWARDS = "the RL loss weights each step by its reward-to-go"


# --------------------------------------------------------------------------- data
@dataclass
class DemoSet:
    """One demonstration set, flattened to transitions.

    :param name: a label (the folder name on the command line)
    :param obs: observations ``s_t``, ``[N, *obs_shape]``
    :param acts: demonstrated actions ``a_t``, ``[N, *act_shape]``
    :param rews: rewards ``r_t``, ``[N]``
    :param episode: the episode index of each transition, ``[N]``
    :param step: the time step of each transition within its episode, ``[N]``
    :param source: where it was read from
    """

    name: str
    obs: np.ndarray
    acts: np.ndarray
    rews: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, name: str, demonstrations: Any, env: Any = None) -> DemoSet:
        """Read one set with the package's one loader, checked against ``env``, with rewards.

        :param name: label of the set
        :param demonstrations: what :func:`sb3_behave.demos.load_demonstrations` reads
        :param env: what the demonstrations must fit (an env, a VecEnv or an env id)
        """
        from sb3_behave.demos import load_demonstrations

        trajectories = load_demonstrations(demonstrations, env=env, require_rewards=RL_NEEDS_REWARDS)
        source = str(demonstrations) if isinstance(demonstrations, (str, os.PathLike)) else ""
        return cls.from_trajectories(name, trajectories, source=source)

    @classmethod
    def from_trajectories(cls, name: str, trajectories: Sequence[Any], source: str = "") -> DemoSet:
        """Flatten imitation ``TrajectoryWithRew`` objects (``obs`` has one more entry than ``acts``).

        :param name: label of the set
        :param trajectories: the episodes, with rewards
        :param source: where they were read from
        """
        if len(trajectories) == 0:
            raise ValueError(f"demonstration set {name!r}: no episodes")
        missing = [i for i, t in enumerate(trajectories) if getattr(t, "rews", None) is None]
        if missing:
            raise ValueError(f"demonstration set {name!r}: episode {missing[0]} has no rewards (the RL loss needs them)")
        obs = np.concatenate([np.asarray(t.obs)[: len(t.acts)] for t in trajectories])
        acts = np.concatenate([np.asarray(t.acts) for t in trajectories])
        rews = np.concatenate([np.asarray(t.rews, dtype=np.float64) for t in trajectories])
        episode = np.concatenate([np.full(len(t.acts), i) for i, t in enumerate(trajectories)])
        step = np.concatenate([np.arange(len(t.acts)) for t in trajectories])
        returns = [float(np.sum(t.rews)) for t in trajectories]
        info = {
            "episodes": len(trajectories),
            "transitions": len(acts),
            "terminated": int(sum(bool(t.terminal) for t in trajectories)),
            "mean_return": float(np.mean(returns)),
            "mean_length": float(np.mean([len(t.acts) for t in trajectories])),
        }
        return cls(name, obs, acts, rews, episode, step, source, info)

    def __len__(self) -> int:
        return len(self.acts)


# --------------------------------------------------------------------------- weights
def rewards_to_go(rews: np.ndarray, episode: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted reward-to-go ``G_t = sum_{k >= t} gamma^(k - t) r_k`` within each episode.

    An episode's last transition has ``G = r``: nothing is bootstrapped after the demonstration
    ends, also when it ended by a time limit.

    :param rews: rewards ``[N]``
    :param episode: the episode index of each transition (episodes contiguous)
    :param gamma: the discount
    """
    returns = np.zeros(len(rews), dtype=np.float64)
    running = 0.0
    for t in range(len(rews) - 1, -1, -1):
        if t == len(rews) - 1 or episode[t + 1] != episode[t]:
            running = 0.0
        running = rews[t] + gamma * running
        returns[t] = running
    return returns


def reinforce_weights(demos: DemoSet, gamma: float = 0.99, baseline: str = "none", normalize: bool = False) -> np.ndarray:
    """The weights ``w_t`` of the REINFORCE loss.

    ``w_t = G'_t - b_t``, where ``G'`` is the reward-to-go (:func:`rewards_to_go`), standardized
    over the set (zero mean, unit std) if ``normalize``, and ``b`` the baseline:

    - ``"none"``: ``b = 0``;
    - ``"mean"``: the mean of ``G'`` over the set;
    - ``"time"``: the mean of ``G'`` over the episodes at the same time step ``t``.

    Weights within float rounding of zero (``|w| <= 1e-9 max |G'|``) are set to exactly zero, so
    a baseline that explains every return leaves no spurious signal.

    :param demos: the demonstration set
    :param gamma: discount of the reward-to-go
    :param baseline: ``"none"``, ``"mean"`` or ``"time"``
    :param normalize: standardize the returns first
    """
    if baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}: expected one of {', '.join(BASELINES)}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    returns = rewards_to_go(demos.rews, demos.episode, gamma)
    if normalize:
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    if baseline == "mean":
        weights = returns - returns.mean()
    elif baseline == "time":
        sums = np.bincount(demos.step, weights=returns)
        counts = np.bincount(demos.step)
        weights = returns - (sums / counts)[demos.step]
    else:
        weights = returns.copy()
    weights[np.abs(weights) <= 1e-9 * max(float(np.abs(returns).max()), 1e-300)] = 0.0
    return weights


# --------------------------------------------------------------------------- objectives
def transition_terms(out: ActorOutput, actions: th.Tensor, term: str) -> th.Tensor:
    """The per-transition term ``l_t`` of an objective, shape ``[..., B]``.

    :param out: the actor's output (any leading dimensions)
    :param actions: the demonstrated actions of the ``B`` transitions
    :param term: ``"nll"`` (``-log pi(a_t|s_t)``), ``"prob_mse"`` (squared error of the action
        probabilities to the one-hot action, Discrete) or ``"mean_mse"`` (squared error of the mean
        action, Box), each averaged over action dimensions
    """
    if term == "nll":
        return -out.log_prob(actions)
    if term == "prob_mse":
        probs = out.probs()
        one_hot = th.nn.functional.one_hot(actions.long(), probs.shape[-1]).to(probs.dtype)
        return (probs - one_hot).pow(2).mean(-1)
    if term == "mean_mse":
        return (out.net - actions).pow(2).mean(-1)
    raise ValueError(f"unknown term {term!r}: expected one of {', '.join(TERMS)}")


@dataclass
class Objective:
    """A loss ``L(theta) = sum_t c_t * l_t(theta)`` over one demonstration set.

    :param name: a short name (``"il"``, ``"rl"``, ...)
    :param term: the per-transition term (see :func:`transition_terms`)
    :param coefficients: ``c_t`` for each transition, ``[N]``
    :param description: the formula and options, for reports
    :param label: a few words for figures
    """

    name: str
    term: str
    coefficients: np.ndarray
    description: str = ""
    label: str = ""

    def loss(self, out: ActorOutput, actions: th.Tensor) -> th.Tensor:
        """The loss for the actor's output on all ``N`` transitions (shape ``[...]``; autograd works).

        :param out: the actor's output on the ``N`` observations
        :param actions: the ``N`` demonstrated actions
        """
        c = th.as_tensor(self.coefficients, dtype=out.net.dtype, device=out.net.device)
        return (transition_terms(out, actions, self.term) * c).sum(-1)


def imitation_objective(demos: DemoSet, kind: str, loss: str | None = None) -> Objective:
    """Imitation: how far the policy is from the demonstrated actions, averaged over transitions.

    :param demos: the demonstration set
    :param kind: the actor's distribution, ``"categorical"`` (Discrete) or ``"gaussian"`` (Box)
    :param loss: ``"ce"`` (cross-entropy, the default for Discrete) or ``"mse"`` on the action
        probabilities for Discrete; ``"nll"`` (negative log-likelihood, the default for Box) or
        ``"mse"`` on the mean action for Box
    """
    loss = loss or IL_LOSSES[kind][0]
    if loss not in IL_LOSSES[kind]:
        space = "Discrete" if kind == "categorical" else "Box"
        raise ValueError(f"IL loss {loss!r} does not apply to {space} actions: expected one of {', '.join(IL_LOSSES[kind])}")
    n = len(demos)
    if loss in ("ce", "nll"):
        term, formula = "nll", "-1/N sum_t log pi(a_t|s_t)"
        label = "cross-entropy" if loss == "ce" else "negative log-likelihood"
    elif kind == "categorical":
        term, formula, label = "prob_mse", "1/N sum_t mean_a (pi(a|s_t) - 1[a=a_t])^2", "MSE of the probabilities"
    else:
        term, formula, label = "mean_mse", "1/N sum_t mean_i (mu_i(s_t) - a_t,i)^2", "MSE of the mean action"
    return Objective("il", term, np.full(n, 1.0 / n), f"IL {loss}: {formula}", label)


def weights_note(weights: np.ndarray) -> str | None:
    """What the RL surface means when its REINFORCE weights cannot contrast good steps with bad ones, else ``None``.

    With weights of one sign the RL loss is a reweighted IL loss (or its mirror image), so any
    agreement with imitation says little; with all weights zero it is flat.

    :param weights: the weights ``w_t`` of :func:`reinforce_weights`
    """
    if not np.any(weights):
        return (
            "every RL weight is 0 (each step's baseline equals its reward-to-go, as --baseline time does on "
            "episodes of one length): the RL surface is flat and its agreement n/a; use --baseline none or mean"
        )
    if np.all(weights >= 0):
        return (
            "every RL weight is positive: RL pulls towards every demonstrated action, so its loss is the IL loss "
            "reweighted and agrees with it whatever the play was worth; --baseline mean contrasts the better steps "
            "with the worse (and with alive rewards, --env-kwargs reward_mode=score counts only pipes and crashes)"
        )
    if np.all(weights <= 0):
        return (
            "every RL weight is negative: RL pushes away from every demonstrated action, so its loss is the IL loss "
            "upside down, as on play that only fails; --baseline mean contrasts the better steps with the worse"
        )
    return None


def reinforce_objective(
    demos: DemoSet, gamma: float = 0.99, baseline: str = "none", normalize: bool = False, name: str = "rl"
) -> Objective:
    """REINFORCE on the demonstrations: ``L(theta) = -1/N sum_t w_t log pi(a_t|s_t)``.

    Minimizing it raises the probability of demonstrated actions with ``w_t > 0`` and lowers it
    where ``w_t < 0``: on a player who crashes at once (negative returns) it pushes the policy away
    from what was demonstrated, on a good player (positive returns) towards it.

    :param demos: the demonstration set
    :param gamma: discount of the reward-to-go ``G_t``
    :param baseline: subtracted from ``G_t`` (see :func:`reinforce_weights`)
    :param normalize: standardize ``G_t`` over the set first
    :param name: name of the objective
    """
    weights = reinforce_weights(demos, gamma, baseline, normalize)
    options = f"gamma={gamma:g}, baseline={baseline}" + (", normalized returns" if normalize else "")
    description = f"RL REINFORCE: -1/N sum_t w_t log pi(a_t|s_t), w_t = G_t - b_t ({options})"
    label = (
        f"REINFORCE, gamma {gamma:g}"
        + (f", baseline {baseline}" if baseline != "none" else "")
        + (", normalized" if normalize else "")
    )
    return Objective(name, "nll", weights / len(demos), description, label)
