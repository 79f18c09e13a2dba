"""The 2-D slice of the weights: ``theta(alpha, beta) = theta0 + alpha * d1 + beta * d2``.

Three ways to choose ``d1`` and ``d2``, all over the actor's parameters only (see
:class:`~sb3_behave.landscape.actor.PolicyActor`; the critic is never perturbed):

- ``weights``: two chosen scalar weights, as in the package's founding experiment. ``d1`` and
  ``d2`` are one-hot: ``alpha`` and ``beta`` are added to the two weights, in weight units.
  Default: ``action_net.weight[0,0]`` and ``action_net.weight[0,1]``, the weights from the
  last hidden layer's units 0 and 1 to the first action's logit (or mean).
- ``filter``: random Gaussian directions with *filter normalization* (Li et al. 2018, "Visualizing
  the Loss Landscape of Neural Nets"): for each weight matrix, each filter (row ``i``: the
  incoming weights of output unit ``i``) of the direction is rescaled to the norm of the same row
  of ``theta0``. One-dimensional parameters (biases, ``log_std``) get a zero direction, Li et
  al.'s ``ignore="biasbn"`` default, or (``bias="copy"``) the parameter itself, their other
  option. ``d1`` and ``d2`` are drawn independently and not orthogonalized, as in the paper.
- ``gradients``: ``d1`` is the IL gradient at ``theta0`` and ``d2`` the RL gradient with its
  component along ``d1`` removed (Gram-Schmidt), both of unit norm over all actor parameters.
  ``alpha > 0`` goes uphill in the IL loss. If the RL gradient is (anti-)parallel to the IL
  one, ``d2`` is a filter-normalized random direction orthogonalized against ``d1``, and the
  description says so.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import torch as th

from sb3_behave.landscape.actor import PolicyActor

KINDS = ("weights", "filter", "gradients")
#: The default scalar weights of the ``weights`` directions.
DEFAULT_WEIGHTS = ("action_net.weight[0,0]", "action_net.weight[0,1]")


@dataclass
class Directions:
    """Two directions in the actor's parameter space.

    :param kind: ``"weights"``, ``"filter"`` or ``"gradients"``
    :param d1: direction of ``alpha``, a tensor for each actor parameter name
    :param d2: direction of ``beta``
    :param description: how they were made
    :param labels: axis labels for ``alpha`` and ``beta``
    """

    kind: str
    d1: dict[str, th.Tensor]
    d2: dict[str, th.Tensor]
    description: str = ""
    labels: tuple[str, str] = ("alpha", "beta")
    info: dict[str, object] = field(default_factory=dict)

    def perturbed(self) -> list[str]:
        """Names of the parameters that change anywhere on the slice."""
        return [name for name in self.d1 if bool(self.d1[name].any()) or bool(self.d2[name].any())]


# --------------------------------------------------------------------------- weights
_WEIGHT_SPEC = re.compile(r"^\s*([\w.]+)\s*\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]\s*$")


def parse_weight(spec: str, actor: PolicyActor) -> tuple[str, tuple[int, ...]]:
    """``"action_net.weight[0,1]"`` -> ``("action_net.weight", (0, 1))``, checked against the actor.

    :param spec: ``NAME[i,j,...]``
    :param actor: the actor whose parameter it must be
    :raises ValueError: naming the spec and what the actor has
    """
    match = _WEIGHT_SPEC.match(spec)
    if match is None:
        raise ValueError(f"weight {spec!r}: expected NAME[i,j,...], e.g. action_net.weight[0,1]")
    name, index = match.group(1), tuple(int(i) for i in match.group(2).split(","))
    params = actor.parameters()
    if name not in params:
        raise ValueError(f"weight {spec!r}: {name!r} is not an actor parameter; the actor has {', '.join(params)}")
    shape = tuple(params[name].shape)
    if len(index) != len(shape) or any(not -n <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"weight {spec!r}: index {list(index)} is outside {name} of shape {list(shape)}")
    return name, index


def weight_directions(actor: PolicyActor, weights: Sequence[str] = DEFAULT_WEIGHTS) -> Directions:
    """Two one-hot directions: ``alpha`` moves one scalar weight, ``beta`` another.

    :param actor: the actor
    :param weights: two specs ``NAME[i,j]`` (see :data:`DEFAULT_WEIGHTS`)
    """
    if len(weights) != 2:
        raise ValueError(f"weights: expected two NAME[i,j] specs, got {len(weights)}")
    (n1, i1), (n2, i2) = (parse_weight(w, actor) for w in weights)
    if (n1, i1) == (n2, i2):
        raise ValueError(f"weights: {weights[0]!r} and {weights[1]!r} are the same weight; choose two")
    zeros = {name: th.zeros_like(p) for name, p in actor.parameters().items()}
    d1 = {k: v.clone() for k, v in zeros.items()}
    d2 = {k: v.clone() for k, v in zeros.items()}
    d1[n1][i1] = 1.0
    d2[n2][i2] = 1.0
    labels = (f"{n1}[{','.join(map(str, i1))}] + alpha", f"{n2}[{','.join(map(str, i2))}] + beta")
    return Directions("weights", d1, d2, f"two scalar weights: {weights[0]} (alpha) and {weights[1]} (beta)", labels)


# --------------------------------------------------------------------------- filter
def filter_normalized(params: dict[str, th.Tensor], generator: th.Generator, bias: str = "zero") -> dict[str, th.Tensor]:
    """One random Gaussian direction, filter-normalized to ``params`` (Li et al. 2018).

    :param params: the actor's parameters ``theta0``
    :param generator: the random generator
    :param bias: ``"zero"`` or ``"copy"`` for one-dimensional parameters
    """
    direction = {}
    for name, p in params.items():
        if p.dim() <= 1:
            direction[name] = th.zeros_like(p) if bias == "zero" else p.clone()
            continue
        d = th.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device)
        # Each filter (row i: the weights into output unit i) gets the norm of theta0's row i.
        row_norms = p.reshape(len(p), -1).norm(dim=1)
        d_norms = d.reshape(len(d), -1).norm(dim=1)
        direction[name] = d * (row_norms / (d_norms + 1e-10)).reshape(-1, *([1] * (p.dim() - 1)))
    return direction


def filter_directions(actor: PolicyActor, seed: int = 0, bias: str = "zero") -> Directions:
    """Two independent filter-normalized random Gaussian directions (Li et al. 2018).

    :param actor: the actor
    :param seed: seed of the random directions
    :param bias: ``"zero"`` (Li et al.'s default) or ``"copy"`` for biases and ``log_std``
    """
    if bias not in ("zero", "copy"):
        raise ValueError(f"bias: expected 'zero' or 'copy', got {bias!r}")
    generator = th.Generator().manual_seed(seed)
    params = actor.parameters()
    d1 = filter_normalized(params, generator, bias)
    d2 = filter_normalized(params, generator, bias)
    description = f"filter-normalized random Gaussian directions (Li et al. 2018), seed {seed}, 1-D parameters: {bias}"
    return Directions("filter", d1, d2, description, ("alpha (random direction 1)", "beta (random direction 2)"))


# --------------------------------------------------------------------------- gradients
def gradient_directions(actor: PolicyActor, grad_il: th.Tensor, grad_rl: th.Tensor, seed: int = 0) -> Directions:
    """``d1``: the unit IL gradient; ``d2``: the RL gradient orthogonalized against ``d1``, unit norm.

    :param actor: the actor
    :param grad_il: the IL gradient at ``theta0``, flat (see :meth:`PolicyActor.flatten`)
    :param grad_rl: the RL gradient at ``theta0``, flat
    :param seed: seed of the random fallback for ``d2``
    """
    if float(grad_il.norm()) == 0.0:
        raise ValueError("the IL gradient is zero at theta0: gradient directions are undefined; use --directions filter")
    u1 = grad_il / grad_il.norm()
    u2 = grad_rl - (grad_rl @ u1) * u1
    note = "d2: the RL gradient minus its projection on d1"
    if float(u2.norm()) <= 1e-6 * max(float(grad_rl.norm()), 1e-30):
        random = actor.flatten(filter_normalized(actor.parameters(), th.Generator().manual_seed(seed)))
        u2 = random - (random @ u1) * u1
        note = "d2: the RL gradient is (anti-)parallel to the IL gradient, so a filter-normalized random direction"
        warnings.warn(f"gradient directions: {note}", stacklevel=2)
    u2 = u2 / u2.norm()
    description = f"gradient directions: d1 = IL gradient / its norm; {note}, orthogonalized and of unit norm"
    return Directions(
        "gradients",
        actor.unflatten(u1),
        actor.unflatten(u2),
        description,
        ("alpha (IL gradient)", "beta (RL gradient, orthogonalized)"),
    )
