"""The pieces of ValueDICE's objective: the weighted log-E-exp term, the Donsker-Varadhan terms with
replay regularization, nu's gradient penalty and the actor's orthogonal regularization.

:class:`~sb3_behave.valuedice.ValueDICE` puts them together (see its module for the objective).
"""

from __future__ import annotations

from typing import Sequence

import torch as th
from torch import nn


def weighted_log_mean_exp(values: th.Tensor, weights: th.Tensor) -> th.Tensor:
    """``log sum_i w_i exp(x_i)`` (the log-E-exp under the distribution ``w``), computed stably.

    Evaluated as ``logsumexp(x + log w)``. Its gradient is ``softmax(x + log w)``, the
    self-normalized importance weights; entries with weight 0 are ignored.

    :param values: ``x``, shape ``(n,)``
    :param weights: ``w >= 0``, shape ``(n,)``, summing to 1
    """
    keep = weights > 0
    return th.logsumexp(values[keep] + th.log(weights[keep]), dim=0)


def dv_terms(
    expert_diff: th.Tensor, replay_diff: th.Tensor, nu_initial: th.Tensor, gamma: float, alpha: float
) -> tuple[th.Tensor, th.Tensor]:
    """The Donsker-Varadhan terms of ValueDICE with replay regularization (their difference is J).

    :param expert_diff: ``nu(s, a) - gamma E_pi nu(s', a')`` on expert transitions
    :param replay_diff: the same on replay transitions
    :param nu_initial: ``E_pi nu(s_0, a_0)`` on initial states
    :param gamma: discount factor
    :param alpha: replay mixing weight in ``[0, 1)``
    :return: ``(nonlinear, linear)``: ``log E_{(1-alpha) d^E + alpha d^R}[exp(diff)]`` and
        ``(1-alpha)(1-gamma) E[nu_0] + alpha E_{d^R}[diff]``
    """
    n_e, n_r = len(expert_diff), len(replay_diff)
    weights = th.cat([expert_diff.new_full((n_e,), (1 - alpha) / n_e), replay_diff.new_full((n_r,), alpha / n_r)])
    nonlinear = weighted_log_mean_exp(th.cat([expert_diff, replay_diff]), weights)
    linear = (1 - alpha) * (1 - gamma) * nu_initial.mean() + alpha * replay_diff.mean()
    return nonlinear, linear


def gradient_penalty(network: nn.Module, inputs: th.Tensor) -> th.Tensor:
    """``mean((||grad_x f(x)||_2 - 1)^2)`` over the rows of ``inputs`` (differentiable in f's weights).

    :param network: f, mapping ``(n, d)`` to ``(n, 1)``
    :param inputs: points x, shape ``(n, d)``
    """
    inputs = inputs.detach().requires_grad_(True)
    (gradient,) = th.autograd.grad(network(inputs).sum(), inputs, create_graph=True)
    norm = th.sqrt(gradient.pow(2).sum(dim=1) + 1e-12)
    return (norm - 1.0).pow(2).mean()


def orthogonal_regularization(layers: Sequence[nn.Linear]) -> th.Tensor:
    """Sum over layers of the squared off-diagonal entries of ``W W^T`` (Brock et al., 2019, Eq. 3).

    For a torch weight ``W`` of shape ``(out, in)``, ``W W^T`` holds the inner products of the
    output units' weight vectors: zero off the diagonal when they are orthogonal.

    :param layers: linear layers
    """
    total = th.zeros(())
    for layer in layers:
        gram = layer.weight @ layer.weight.T
        total = total.to(gram.device) + (gram * (1 - th.eye(len(gram), device=gram.device))).pow(2).sum()
    return total
