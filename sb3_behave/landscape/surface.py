"""Loss surfaces over a grid of the slice ``theta0 + alpha * d1 + beta * d2``, evaluated in batches.

Grid point ``k`` has coefficients ``c_k = (1, alpha_k, beta_k)``, and every perturbed tensor is
``c_k . (theta0, d1, d2)``. The grid is evaluated in tiles of ``P`` points by ``B`` transitions:

- ``method="mlp"`` (the default when the actor is SB3's ``MlpExtractor`` MLP): the forward is
  written out for a tile. Everything before the first perturbed layer is computed once per
  block of transitions (for two weights of ``action_net`` that is the whole network). The first
  perturbed linear layer is linear in ``(alpha, beta)``: three matrix products per block,
  ``h @ (W0, D1, D2)^T``, mixed for all the tile's points in one product. Each later layer is
  one batched matrix product (``torch.bmm``) with each point's own weights; ``tanh`` layers are
  rewritten as in-place ``sigmoid`` with the factors folded into the weights (the same function
  to float rounding; ``torch.tanh`` costs several times ``torch.sigmoid`` on CPU), and work
  tensors are reused from tile to tile (see ``_PlaneMLP``).
- ``method="vmap"`` (any actor): ``torch.func.functional_call`` under ``torch.func.vmap`` over
  the stacked parameters of the ``P`` points.

A tile gives the actor's output for all its points; every objective is then a matrix product of
the per-transition terms with the objectives' coefficients (:mod:`.objectives`), so the IL and
all RL variants cost one forward. :func:`evaluate_surfaces_loop` is the one-point-at-a-time
reference (``load_state_dict``, then the policy's own forward) the tests and the benchmark
compare against.
"""

from __future__ import annotations

import copy
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch as th
from torch import nn

from sb3_behave.landscape.actor import ActorOutput, PolicyActor
from sb3_behave.landscape.directions import Directions
from sb3_behave.landscape.objectives import DemoSet, Objective, transition_terms

METHODS = ("auto", "mlp", "vmap")
#: Whether torch runs its CPU operations on OpenMP (per-thread thread counts: see evaluate_surfaces).
_OPENMP = "parallel backend: OpenMP" in th.__config__.parallel_info()
#: Rows (points x transitions) of one tile: big enough to amortize each op, small enough to stay in cache.
TILE_ROWS = 8192


def grid_axes(grid: int, span: float) -> np.ndarray:
    """``grid`` evenly spaced coordinates from ``-span`` to ``span`` (0 is on the grid for odd ``grid``).

    :param grid: points per axis, at least 2
    :param span: half the width of the axis, positive
    """
    if grid < 2:
        raise ValueError(f"grid: expected at least 2 points per axis, got {grid}")
    if not span > 0:
        raise ValueError(f"span: expected a positive number, got {span}")
    return np.linspace(-span, span, grid)


@dataclass
class Surfaces:
    """Loss surfaces of several objectives on one grid.

    ``values[name][i, j]`` is the loss at ``alpha = alphas[j]``, ``beta = betas[i]`` (rows: beta).

    :param alphas: coordinates along ``d1``
    :param betas: coordinates along ``d2``
    :param values: a ``[len(betas), len(alphas)]`` array per objective name
    :param method: how it was evaluated (``"mlp"``, ``"vmap"`` or ``"loop"``)
    :param seconds: wall-clock time of the evaluation
    """

    alphas: np.ndarray
    betas: np.ndarray
    values: dict[str, np.ndarray]
    method: str
    seconds: float
    info: dict[str, object] = field(default_factory=dict)


def _coefficients(alphas: np.ndarray, betas: np.ndarray) -> th.Tensor:
    """``(1, alpha, beta)`` for each grid point, row-major over ``(beta, alpha)``: ``[K, 3]``."""
    aa, bb = np.meshgrid(alphas, betas)  # [len(betas), len(alphas)] each
    return th.as_tensor(np.stack([np.ones(aa.size), aa.ravel(), bb.ravel()], axis=1), dtype=th.float32)


def _stack(theta0: th.Tensor, d1: th.Tensor, d2: th.Tensor) -> th.Tensor:
    return th.stack([theta0, d1, d2]).reshape(3, -1)


def _first_perturbed_linear(layers: Sequence[tuple[str, nn.Module]], perturbed: set[str]) -> int:
    """Index in ``layers`` of the first linear layer the slice moves (the last linear layer if none)."""
    linear = [i for i, (_, layer) in enumerate(layers) if isinstance(layer, nn.Linear)]
    touched = [i for i in linear if {f"{layers[i][0]}.weight", f"{layers[i][0]}.bias"} & perturbed]
    return touched[0] if touched else linear[-1]


def _tiles_are_heavy(actor: PolicyActor, directions: Directions) -> bool:
    """Whether an MLP tile multiplies hidden layers point by point: a linear layer between the first
    one the slice moves and the output layer. Else a tile is little more than the output layer, cheap
    enough that Python's per-tile overhead dominates and threads would only contend."""
    layers = actor.mlp_layers()
    assert layers is not None
    n_linear = sum(isinstance(layer, nn.Linear) for _, layer in layers)
    first = _first_perturbed_linear(layers, set(directions.perturbed()))
    return sum(isinstance(layer, nn.Linear) for _, layer in layers[: first + 1]) < n_linear - 1


class _PlaneMLP:
    """The MLP actor on the plane, evaluated layer by layer for a chunk of points at once.

    Layers from the first perturbed one on are kept as stacks ``(theta0, d1, d2)``, so a point's
    weights are ``c @ stack``. Before evaluation the stacks are rewritten without changing the
    function (all rewrites are linear in the stacks):

    - ``tanh(z) = 2 sigmoid(2z) - 1``: a linear layer followed by ``tanh`` is scaled by 2, the
      ``tanh`` becomes one in-place ``sigmoid_``, and the next linear layer absorbs the ``2s - 1``:
      ``W (2s - 1) + b = (2W) s + (b - W 1)``;
    - homogeneous coordinates: the input of the second perturbed linear layer carries a last column
      of ones and its bias is the last row of its (transposed) weight, so that layer is one ``bmm``.
    """

    def __init__(self, actor: PolicyActor, directions: Directions) -> None:
        layers = actor.mlp_layers()
        assert layers is not None
        theta0 = actor.parameters()
        perturbed = set(directions.perturbed())
        self.actor, self.kind = actor, actor.kind
        first = _first_perturbed_linear(layers, perturbed)
        # The layers before the first perturbed one, at theta0: computed once per block of transitions.
        self.prefix = [(layer, theta0.get(f"{name}.weight"), theta0.get(f"{name}.bias")) for name, layer in layers[:first]]
        # The others as operations on stacks: ["linear", W [3, out, in], b [3, out]] or ["tanh" | "relu" | "identity"].
        ops: list[list] = []
        for name, layer in layers[first:]:
            if isinstance(layer, nn.Linear):
                w, b = f"{name}.weight", f"{name}.bias"
                if layer.bias is not None:
                    bias = th.stack([theta0[b], directions.d1[b], directions.d2[b]])
                else:
                    bias = th.zeros(3, layer.out_features, device=actor.device)
                ops.append(["linear", th.stack([theta0[w], directions.d1[w], directions.d2[w]]), bias])
            else:
                ops.append([{nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "identity"}[type(layer)]])
        for i, op in enumerate(ops):  # tanh -> sigmoid, folded into the linear layers around it
            if op[0] == "tanh" and i > 0 and ops[i - 1][0] == "linear" and i + 1 < len(ops) and ops[i + 1][0] == "linear":
                ops[i - 1][1], ops[i - 1][2] = 2 * ops[i - 1][1], 2 * ops[i - 1][2]
                nxt = ops[i + 1]
                nxt[1], nxt[2] = 2 * nxt[1], nxt[2] - nxt[1].sum(-1)
                op[0] = "sigmoid"
        # Homogeneous coordinates for the layer after the first perturbed one: the first layer's output
        # gets one more column (set to ones before use), and the next layer's bias becomes the last
        # row of its weight. Later layers (deeper MLPs) add their bias in baddbmm.
        n_linear = sum(op[0] == "linear" for op in ops)
        self.first, self.steps, seen, ones = None, [], 0, False
        for op in ops:
            if op[0] != "linear":
                self.steps.append((op[0], None))
                continue
            _, w, b = op
            seen += 1
            output = seen == n_linear  # the action net
            if self.first is None:  # computed per block of transitions in prepare(): W^T and b, each with the extra column
                extra = int(not output)
                self.first = (
                    th.cat([w.transpose(1, 2), w.new_zeros(3, w.shape[2], extra)], 2),
                    th.cat([b, b.new_zeros(3, extra)], 1),
                )
                ones = bool(extra)
                continue
            w_t, bias = (th.cat([w.transpose(1, 2), b.unsqueeze(1)], 1), None) if ones else (w.transpose(1, 2), b)
            ones = False
            if output:  # the action net's output is computed as [P, A, B]
                w_t = w_t.transpose(1, 2)
            self.steps.append(("output" if output else "linear", (w_t.reshape(3, -1), tuple(w_t.shape[1:]), bias)))
        self.log_std = None
        if self.kind == "gaussian":
            self.log_std = _stack(theta0["log_std"], directions.d1["log_std"], directions.d2["log_std"])
        self._buffers: dict[int, th.Tensor] = {}

    def prepare(self, obs: th.Tensor) -> th.Tensor:
        """Per block of transitions: the first perturbed layer's output for theta0, d1 and d2, ``[3, B, H]``."""
        h = self.actor.features(obs)
        for layer, weight, bias in self.prefix:
            h = th.nn.functional.linear(h, weight, bias) if isinstance(layer, nn.Linear) else layer(h)
        w_t, b = self.first
        return th.matmul(h.unsqueeze(0), w_t) + b.unsqueeze(1)  # h W^T + b for each of the 3

    def _buffer(self, step: int, shape: tuple[int, ...]) -> th.Tensor:
        """A work tensor reused from tile to tile (fresh large tensors cost page faults each time)."""
        buffer = self._buffers.get(step)
        if buffer is None or tuple(buffer.shape) != shape:
            buffer = self._buffers[step] = th.empty(shape, device=self.actor.device)
        return buffer

    def output(self, z3: th.Tensor, c: th.Tensor) -> ActorOutput:
        """The actor's output at the points with coefficients ``c`` (``[P, 3]``): ``net`` is ``[P, B, A]``."""
        n_points, (_, n, width) = len(c), z3.shape
        # First perturbed layer: z(alpha, beta) = z0 + alpha z1 + beta z2, one product over the 3 terms.
        h = self._buffer(-1, (n_points, n, width))
        th.mm(c, z3.reshape(3, -1), out=h.view(n_points, -1))
        for i, (kind, weights) in enumerate(self.steps):
            if kind == "sigmoid":
                h.sigmoid_()
            elif kind == "tanh":
                h.tanh_()
            elif kind == "relu":
                h.relu_()
            elif kind in ("linear", "output"):
                stack, shape, bias = weights
                w = (c @ stack).reshape(n_points, *shape)  # each point's W^T (or W), with the bias row if homogeneous
                if bias is None:
                    h[..., -1] = 1.0  # the ones column
                if kind == "linear":
                    out = self._buffer(i, (n_points, n, shape[1]))
                    h = th.bmm(h, w, out=out) if bias is None else th.baddbmm((c @ bias).unsqueeze(1), h, w, out=out)
                else:  # action net: [P, A, B], then viewed as [P, B, A] (fast reductions over A)
                    out = self._buffer(i, (n_points, shape[0], n))
                    if bias is None:
                        h = th.bmm(w, h.transpose(1, 2), out=out).transpose(1, 2)
                    else:
                        h = th.baddbmm((c @ bias).unsqueeze(2), w, h.transpose(1, 2), out=out).transpose(1, 2)
        log_std = (c @ self.log_std) if self.log_std is not None else None
        return ActorOutput(self.kind, h, log_std)


class _PlaneVmap:
    """Any actor on the plane: ``functional_call`` under ``vmap`` over the points' stacked parameters."""

    def __init__(self, actor: PolicyActor, directions: Directions) -> None:
        theta0 = actor.parameters()
        self.actor = actor
        self.stacks = {n: (_stack(p, directions.d1[n], directions.d2[n]), tuple(p.shape)) for n, p in theta0.items()}

    def prepare(self, obs: th.Tensor) -> th.Tensor:
        return obs

    def output(self, obs: th.Tensor, c: th.Tensor) -> ActorOutput:
        stacked = {name: (c @ stack).reshape(len(c), *shape) for name, (stack, shape) in self.stacks.items()}
        return self.actor.batched_output(obs, stacked)


def choose_method(actor: PolicyActor, directions: Directions, method: str = "auto") -> str:
    """``"mlp"`` when the actor is a plain MLP and its features extractor is not perturbed, else ``"vmap"``.

    :param actor: the actor
    :param directions: the slice
    :param method: ``"auto"`` (choose), or ``"mlp"`` / ``"vmap"`` to force one (``"mlp"`` is checked)
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    fast_ok = actor.mlp_layers() is not None and not set(actor.features_names()) & set(directions.perturbed())
    if method == "mlp" and not fast_ok:
        raise ValueError(
            "method 'mlp' needs an MlpExtractor actor of Linear/Tanh/ReLU layers and an unperturbed features extractor"
        )
    if method == "auto":
        return "mlp" if fast_ok else "vmap"
    return method


def evaluate_surfaces(
    actor: PolicyActor,
    demos: DemoSet,
    objectives: Sequence[Objective],
    directions: Directions,
    alphas: np.ndarray,
    betas: np.ndarray,
    method: str = "auto",
    chunk_size: int | None = None,
    block_size: int | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> Surfaces:
    """Every objective on every grid point, in batches.

    :param actor: the policy's actor at ``theta0``
    :param demos: the demonstration set (its ``N`` transitions)
    :param objectives: the losses to evaluate (all from one forward per tile)
    :param directions: ``d1`` and ``d2``
    :param alphas: grid coordinates along ``d1``
    :param betas: grid coordinates along ``d2``
    :param method: ``"auto"``, ``"mlp"`` or ``"vmap"`` (see the module docstring)
    :param chunk_size: grid points per tile (default: from :data:`TILE_ROWS`)
    :param block_size: transitions per tile (default: up to 1024 for ``mlp``, up to 8192 for ``vmap``)
    :param progress: show a tqdm progress bar over tiles
    :param workers: for ``mlp`` on CPU, threads that evaluate tiles side by side, each with one
        torch thread (default: torch's thread count when a tile multiplies hidden layers point by
        point, else 1). An MLP tile is too small for torch to split well between threads; whole
        tiles in parallel keep every core busy. Ignored by ``vmap``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    method = choose_method(actor, directions, method)
    coeffs = _coefficients(np.asarray(alphas), np.asarray(betas)).to(actor.device)
    n, n_points = len(demos), len(coeffs)
    block = block_size or min(n, 1024 if method == "mlp" else 8192)
    chunk = chunk_size or max(1, TILE_ROWS // block)
    obs, acts = actor.observations(demos.obs), actor.actions(demos.acts)
    # Objectives grouped by their per-transition term: coefficient matrices [N, J_term].
    groups: dict[str, tuple[list[int], th.Tensor]] = {}
    for j, objective in enumerate(objectives):
        if len(objective.coefficients) != n:
            raise ValueError(
                f"objective {objective.name!r} has {len(objective.coefficients)} coefficients for {n} transitions"
            )
        groups.setdefault(objective.term, ([], []))[0].append(j)
    matrices = {
        term: th.as_tensor(np.stack([objectives[j].coefficients for j in idx], axis=1), dtype=th.float32, device=actor.device)
        for term, (idx, _) in groups.items()
    }
    losses = th.zeros(len(objectives), n_points, dtype=th.float64)
    chunks = list(range(0, n_points, chunk))
    threads = th.get_num_threads()
    # MLP tiles run in worker threads with one torch thread each (torch splits these small products
    # poorly): as many workers as torch threads where tiles are heavy (a hidden layer's product per
    # point), else one. vmap tiles are large ops that torch's own threads split well. Only torch's
    # OpenMP backend (the CPU wheels') keeps a thread count per thread: with another, tiles run here.
    mlp_on_cpu = method == "mlp" and actor.device.type == "cpu" and _OPENMP
    if workers is None:
        workers = threads if mlp_on_cpu and _tiles_are_heavy(actor, directions) else 1
    workers = max(1, min(workers, len(chunks))) if mlp_on_cpu else 1
    inline = workers == 1 and (threads == 1 or not mlp_on_cpu)
    lock = threading.Lock()

    def evaluate(first_points: list[int], bar: tqdm) -> None:
        """The tiles of the chunks starting at ``first_points``, for every block of transitions.

        Each worker computes ``prepare`` itself, on purpose: one shared ``prepare`` per block, made
        by the calling thread, measured slower (0.54 s against 0.48 s on a 21 x 21 filter grid),
        the workers then reading its output from the shared cache instead of their own.
        """
        plane = _PlaneMLP(actor, directions) if method == "mlp" else _PlaneVmap(actor, directions)
        with th.no_grad():
            for lo in range(0, n, block):
                state = plane.prepare(obs[lo : lo + block])
                block_acts = acts[lo : lo + block]
                for p in first_points:
                    out = plane.output(state, coeffs[p : p + chunk])
                    for term, (idx, _) in groups.items():
                        terms = transition_terms(out, block_acts, term)  # [P, B]
                        losses[idx, p : p + chunk] += (terms @ matrices[term][lo : lo + block]).T.double().cpu()
                    with lock:
                        bar.update()

    def evaluate_alone(first_points: list[int], bar: tqdm) -> None:
        th.set_num_threads(1)  # this thread's OpenMP and MKL; the caller restores torch's count after
        evaluate(first_points, bar)

    n_tiles = -(-n // block) * len(chunks)
    with tqdm(total=n_tiles, desc=f"landscape {demos.name}", unit="tile", disable=not progress) as bar:
        if inline:
            evaluate(chunks, bar)
        else:
            try:
                # Contiguous shares of the grid (each worker writes its own columns of ``losses``).
                shares = [part.tolist() for part in np.array_split(chunks, workers)]
                with ThreadPoolExecutor(workers) as pool:
                    for future in [pool.submit(evaluate_alone, share, bar) for share in shares]:
                        future.result()
            finally:
                th.set_num_threads(threads)
    shape = (len(betas), len(alphas))
    values = {objective.name: losses[j].numpy().reshape(shape) for j, objective in enumerate(objectives)}
    info = {"chunk_size": chunk, "block_size": block, "points": n_points, "transitions": n, "workers": workers}
    return Surfaces(np.asarray(alphas), np.asarray(betas), values, method, time.perf_counter() - start, info)


def evaluate_surfaces_loop(
    actor: PolicyActor,
    demos: DemoSet,
    objectives: Sequence[Objective],
    directions: Directions,
    alphas: np.ndarray,
    betas: np.ndarray,
    points: Sequence[int] | None = None,
    api: str = "distribution",
) -> Surfaces:
    """The one-point-at-a-time reference: per grid point, ``load_state_dict`` and the policy's forward.

    :param actor: the actor at ``theta0``
    :param demos: the demonstration set
    :param objectives: the losses
    :param directions: ``d1`` and ``d2``
    :param alphas: grid coordinates along ``d1``
    :param betas: grid coordinates along ``d2``
    :param points: evaluate only these grid points (row-major indices); the others are NaN
    :param api: ``"distribution"``: ``policy.get_distribution(obs)`` (the actor alone), one forward
        for all objectives; ``"evaluate_actions"``: ``policy.evaluate_actions(obs, acts)``, the call
        SB3's PPO and imitation's BC make (it also runs the critic), for ``-log pi`` objectives only
    """
    start = time.perf_counter()
    policy = copy.deepcopy(actor.policy)  # never touch the caller's policy
    coeffs = _coefficients(np.asarray(alphas), np.asarray(betas))
    obs, acts = actor.observations(demos.obs), actor.actions(demos.acts)
    theta0, names = actor.parameters(), actor.names
    if api == "evaluate_actions" and any(o.term != "nll" for o in objectives):
        raise ValueError("api 'evaluate_actions' gives log pi only: use it for CE, NLL and REINFORCE objectives")
    losses = np.full((len(objectives), len(coeffs)), np.nan)
    for k in range(len(coeffs)) if points is None else points:
        _, alpha, beta = coeffs[k].tolist()
        state = {name: theta0[name] + alpha * directions.d1[name] + beta * directions.d2[name] for name in names}
        policy.load_state_dict(state, strict=False)
        with th.no_grad():
            if api == "evaluate_actions":
                _, log_prob, _ = policy.evaluate_actions(obs, acts)
                for j, objective in enumerate(objectives):
                    c = th.as_tensor(objective.coefficients, dtype=th.float32, device=log_prob.device)
                    losses[j, k] = float(-(log_prob * c).sum())
                continue
            distribution = policy.get_distribution(obs).distribution
            if actor.kind == "categorical":
                out = ActorOutput("categorical", distribution.logits)
            else:
                out = ActorOutput("gaussian", distribution.mean, policy.log_std)
            for j, objective in enumerate(objectives):
                losses[j, k] = float(objective.loss(out, acts))
    shape = (len(betas), len(alphas))
    values = {objective.name: losses[j].reshape(shape) for j, objective in enumerate(objectives)}
    return Surfaces(np.asarray(alphas), np.asarray(betas), values, "loop", time.perf_counter() - start, {"api": api})


def actor_gradients(
    actor: PolicyActor, demos: DemoSet, objectives: Sequence[Objective], block_size: int = 16384
) -> dict[str, th.Tensor]:
    """The gradient of each objective at ``theta0`` over all actor parameters, flat (:meth:`PolicyActor.flatten`).

    Uses ``torch.autograd.grad``: the policy's ``.grad`` fields are left alone.

    :param actor: the actor
    :param demos: the demonstration set
    :param objectives: the losses
    :param block_size: transitions per backward pass (the losses are sums over transitions)
    """
    params = {name: p.requires_grad_(True) for name, p in actor.parameters().items()}
    obs, acts = actor.observations(demos.obs), actor.actions(demos.acts)
    totals = {o.name: th.zeros(sum(p.numel() for p in params.values()), device=actor.device) for o in objectives}
    with th.enable_grad():
        for lo in range(0, len(demos), block_size):
            out = actor.output(obs[lo : lo + block_size], params)
            for objective in objectives:
                part = Objective(objective.name, objective.term, objective.coefficients[lo : lo + block_size])
                loss = part.loss(out, acts[lo : lo + block_size])
                grads = th.autograd.grad(loss, list(params.values()), retain_graph=True, allow_unused=True)
                totals[objective.name] += th.cat(
                    [(g if g is not None else th.zeros_like(p)).reshape(-1) for g, p in zip(grads, params.values())]
                )
    return totals
