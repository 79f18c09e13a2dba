"""From a policy and demonstration sets to landscapes, agreement metrics, figures, JSON and TensorBoard.

:func:`compute_landscape` is the whole computation for one demonstration set;
:func:`landscape_report` is ``sb3-behave landscape``: it loads the policy and the demonstration
folders, computes, and writes everything into one folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from sb3_behave.landscape.actor import PolicyActor
from sb3_behave.landscape.directions import (
    DEFAULT_WEIGHTS,
    KINDS,
    Directions,
    filter_directions,
    gradient_directions,
    weight_directions,
)
from sb3_behave.landscape.metrics import agreement
from sb3_behave.landscape.objectives import (
    BASELINES,
    DemoSet,
    Objective,
    imitation_objective,
    reinforce_objective,
    weights_note,
)
from sb3_behave.landscape.surface import Surfaces, actor_gradients, evaluate_surfaces, grid_axes
from sb3_behave.outputs import write_text


@dataclass
class LandscapeConfig:
    """What to draw: the slice, the grid and the two objectives.

    :param directions: ``"weights"``, ``"filter"`` or ``"gradients"`` (see :mod:`.directions`)
    :param grid: points per axis
    :param span: the grid covers ``[-span, span]`` on both axes
    :param il_loss: ``"ce"`` or ``"mse"`` (Discrete), ``"nll"`` or ``"mse"`` (Box); default CE / NLL
    :param gamma: discount of the RL loss's reward-to-go
    :param baseline: ``"none"``, ``"mean"`` or ``"time"`` (see :func:`.objectives.reinforce_weights`)
    :param normalize_returns: standardize the reward-to-go over each demonstration set
    :param weights: the two scalar weights of ``directions="weights"``
    :param seed: seed of the random ``filter`` directions (and of the ``gradients`` fallback)
    :param bias: ``"zero"`` or ``"copy"``: the filter direction of 1-D parameters
    :param method: ``"auto"``, ``"mlp"`` or ``"vmap"`` (see :mod:`.surface`)
    :param chunk_size: grid points per batch (default: automatic)
    """

    directions: str = "filter"
    grid: int = 41
    span: float = 1.0
    il_loss: str | None = None
    gamma: float = 0.99
    baseline: str = "none"
    normalize_returns: bool = False
    weights: tuple[str, str] = DEFAULT_WEIGHTS
    seed: int = 0
    bias: str = "zero"
    method: str = "auto"
    chunk_size: int | None = None

    def check(self) -> None:
        """Raise a ``ValueError`` naming the option and the valid values if a setting is wrong."""
        if self.directions not in KINDS:
            raise ValueError(f"--directions {self.directions!r}: expected one of {', '.join(KINDS)}")
        if self.baseline not in BASELINES:
            raise ValueError(f"--baseline {self.baseline!r}: expected one of {', '.join(BASELINES)}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"--gamma {self.gamma}: expected a discount in [0, 1]")
        grid_axes(self.grid, self.span)  # checks grid and span


@dataclass
class Landscape:
    """The IL and RL landscapes of one demonstration set, and how much they agree.

    :param name: the demonstration set
    :param surfaces: the grid and the surfaces (``"il"``, ``"rl"``, and any extra objectives)
    :param metrics: :func:`~sb3_behave.landscape.metrics.agreement` of ``"il"`` and ``"rl"``
    :param directions: the slice
    :param objectives: the objectives' descriptions, by name
    :param demos: counts and returns of the demonstration set
    :param gradients: each objective's gradient at the origin, flat
    :param labels: a few words on each objective, for figures
    :param note: what the RL surface means when its weights all share one sign or are zero
        (:func:`~sb3_behave.landscape.objectives.weights_note`), else ``None``
    """

    name: str
    surfaces: Surfaces
    metrics: dict[str, Any]
    directions: Directions
    objectives: dict[str, str]
    demos: dict[str, Any] = field(default_factory=dict)
    gradients: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    note: str | None = None

    @property
    def il(self) -> np.ndarray:
        """The IL surface."""
        return self.surfaces.values["il"]

    @property
    def rl(self) -> np.ndarray:
        """The RL surface."""
        return self.surfaces.values["rl"]

    def figure(self) -> Any:
        """IL | RL | difference (see :func:`~sb3_behave.landscape.plot.plot_landscape`)."""
        from sb3_behave.landscape.plot import plot_landscape

        title = f"{self.name} ({self.demos.get('transitions', '?')} transitions)"
        s = self.surfaces
        subtitles = (self.labels.get("il", ""), self.labels.get("rl", ""))
        return plot_landscape(
            s.alphas,
            s.betas,
            self.il,
            self.rl,
            title,
            self.directions.labels,
            self.metrics,
            subtitles=subtitles,
            note=self.note,
        )


def make_directions(actor: PolicyActor, config: LandscapeConfig, gradients: dict[str, Any] | None = None) -> Directions:
    """The slice of ``config.directions``.

    :param actor: the actor
    :param config: the kind of slice and its options
    :param gradients: flat ``"il"`` and ``"rl"`` gradients at ``theta0`` (needed by ``gradients``)
    """
    if config.directions == "weights":
        return weight_directions(actor, config.weights)
    if config.directions == "filter":
        return filter_directions(actor, config.seed, config.bias)
    if gradients is None:
        raise ValueError("gradient directions need the IL and RL gradients at theta0")
    return gradient_directions(actor, gradients["il"], gradients["rl"], seed=config.seed)


def objectives_for(actor: PolicyActor, demos: DemoSet, config: LandscapeConfig) -> list[Objective]:
    """The IL and RL objectives of ``config`` on ``demos``.

    :param actor: the actor (its kind of action distribution)
    :param demos: the demonstration set
    :param config: the IL loss and the RL options
    """
    return [
        imitation_objective(demos, actor.kind, config.il_loss),
        reinforce_objective(demos, config.gamma, config.baseline, config.normalize_returns),
    ]


def compute_landscape(
    actor: PolicyActor,
    demos: DemoSet,
    config: LandscapeConfig,
    directions: Directions | None = None,
    extra_objectives: Sequence[Objective] = (),
    progress: bool = False,
) -> Landscape:
    """The IL and RL landscapes of ``actor`` on one demonstration set, on one slice, with their agreement.

    :param actor: the policy's actor (``theta0`` is its current parameters)
    :param demos: the demonstration set
    :param config: the slice, grid and objectives
    :param directions: the slice to use (default: made from ``config``; ``gradients`` directions are
        made from this set's gradients)
    :param extra_objectives: more objectives to evaluate on the same grid in the same pass (their
        surfaces are in ``surfaces.values`` under their names)
    :param progress: show a progress bar
    """
    config.check()
    objectives = [*objectives_for(actor, demos, config), *extra_objectives]
    gradients = actor_gradients(actor, demos, objectives[:2])
    if directions is None:
        directions = make_directions(actor, config, gradients)
    axis = grid_axes(config.grid, config.span)
    surfaces = evaluate_surfaces(
        actor, demos, objectives, directions, axis, axis, method=config.method, chunk_size=config.chunk_size, progress=progress
    )
    metrics = agreement(surfaces.values["il"], surfaces.values["rl"], axis, axis, gradients["il"], gradients["rl"])
    return Landscape(
        demos.name,
        surfaces,
        metrics,
        directions,
        {o.name: o.description for o in objectives},
        dict(demos.info),
        gradients,
        {o.name: o.label for o in objectives},
        weights_note(objectives[1].coefficients),
    )


# --------------------------------------------------------------------------- the command
def _set_names(paths: Sequence[Path]) -> list[str]:
    """Labels of demonstration sets: their folder (or file) names, made unique and file-name safe."""
    names: list[str] = []
    for path in paths:
        base = re.sub(r"[^\w.-]+", "_", Path(path).resolve().name or "demos").strip("_.") or "demos"
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names


def _json_grid(values: np.ndarray) -> list[list[float | None]]:
    return [[float(v) if np.isfinite(v) else None for v in row] for row in values]


def landscape_json(landscapes: Sequence[Landscape], config: LandscapeConfig, about: dict[str, Any]) -> dict[str, Any]:
    """Everything of a run as plain JSON data: configuration, axes, grids and metrics per set.

    :param landscapes: one per demonstration set, on the same grid
    :param config: the configuration
    :param about: more top-level entries (env, policy, versions)
    """
    first = landscapes[0].surfaces
    return {
        **about,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "layout": "surface[i][j] is the loss at alpha = axes.alpha[j], beta = axes.beta[i]",
        "axes": {"alpha": first.alphas.tolist(), "beta": first.betas.tolist()},
        "sets": {
            ls.name: {
                "demonstrations": ls.demos,
                "directions": {
                    "kind": ls.directions.kind,
                    "description": ls.directions.description,
                    "labels": list(ls.directions.labels),
                    "perturbed": ls.directions.perturbed(),
                },
                "objectives": ls.objectives,
                "note": ls.note,
                "metrics": ls.metrics,
                "seconds": round(ls.surfaces.seconds, 3),
                "method": ls.surfaces.method,
                "il": _json_grid(ls.il),
                "rl": _json_grid(ls.rl),
            }
            for ls in landscapes
        },
    }


def write_tensorboard(
    landscapes: Sequence[Landscape], folder: Path, step: int = 0, text: str = "", figures: Sequence[Any] | None = None
) -> Path:
    """Figures (``landscape/<set>``) and metrics (``landscape/<set>/<metric>``) as TensorBoard events.

    :param landscapes: the landscapes
    :param folder: the event folder
    :param step: the global step of the records
    :param text: a text record (``landscape/config``)
    :param figures: the landscapes' figures, if already drawn (closed after logging)
    """
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(folder))
    try:
        if text:
            writer.add_text("landscape/config", text, step)
        for k, ls in enumerate(landscapes):
            for key, value in ls.metrics.items():
                if isinstance(value, (int, float)):
                    writer.add_scalar(f"landscape/{ls.name}/{key}", value, step)
            writer.add_figure(f"landscape/{ls.name}", figures[k] if figures else ls.figure(), step, close=True)
    finally:
        writer.close()
    return folder


def load_demo_set(name: str, path: Any, env: Any) -> DemoSet:
    """Load one demonstration set (checked against ``env``, with rewards) as a :class:`DemoSet`.

    :param name: the set's label
    :param path: a demo folder or file, or a Minari dataset (folder or id)
    :param env: the env the demonstrations must fit (spaces, id and kwargs)
    :raises ValueError: naming the path and the problem
    """
    from sb3_behave.demos import DemonstrationError

    try:
        return DemoSet.load(name, path, env)
    except DemonstrationError as error:
        if "env kwargs" in str(error):  # the RL loss needs the rewards of the env they were recorded in
            raise DemonstrationError(f"{error}; pass the recording's kwargs with --env-kwargs KEY=VALUE") from None
        raise


def landscape_report(
    env_id: str,
    demo_paths: Sequence[Any],
    out: Any,
    config: LandscapeConfig | None = None,
    policy: str = "fresh",
    algo: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    tensorboard: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
) -> dict[str, Any]:
    """``sb3-behave landscape``: landscapes of one policy on each demonstration set, written to ``out``.

    Writes ``out/<set>.png`` (IL | RL | difference per set), ``out/landscape.json`` (grids,
    axes, metrics, configuration) and TensorBoard events in ``out/tensorboard``.

    :param env_id: the env (its spaces; demonstrations are checked against it with ``env_kwargs``)
    :param demo_paths: one demonstration folder (or file) per set
    :param out: the output folder
    :param config: what to draw (default :class:`LandscapeConfig`)
    :param policy: ``"fresh"`` (a random init of ``algo``'s ``MlpPolicy``, seeded by ``config.seed``)
        or a model ``.zip`` / RL Zoo run folder
    :param algo: the algorithm: default ``ppo`` for a fresh policy or a ``.zip``, inferred for a zoo folder
    :param env_kwargs: keyword arguments of ``gym.make`` (``reward_mode=score``, say)
    :param tensorboard: also write TensorBoard events
    :param overwrite: replace an earlier report in ``out`` (its figures, JSON and TensorBoard events;
        other files stay); without it a non-empty ``out`` is refused before any work. The earlier
        report is removed only once the new one is computed
    :param progress: progress bars
    :param log: where to print what is done
    :return: the JSON data written
    """
    import gymnasium as gym

    from sb3_behave import __version__
    from sb3_behave.landscape.actor import load_policy
    from sb3_behave.outputs import check_output, save_figure
    from sb3_behave.registration import make_env

    config = config or LandscapeConfig()
    config.check()
    out = check_output(out, overwrite)
    if not demo_paths:
        raise ValueError("--demos: give at least one demonstration folder")
    try:
        env = make_env(env_id, env_kwargs)
    except gym.error.Error as error:
        raise ValueError(f"--env {env_id!r}: cannot make it ({error})") from None
    names = _set_names([Path(p) for p in demo_paths])
    sets = [load_demo_set(name, path, env) for name, path in zip(names, demo_paths)]
    model_policy, transform, description = load_policy(policy, env, algo=algo, seed=config.seed)
    actor = PolicyActor(model_policy, transform)
    log(f"policy: {description}; perturbed: {actor.describe()}")
    # weights and filter slices are shared by all sets; gradient slices are each set's own.
    shared = None if config.directions == "gradients" else make_directions(actor, config)
    landscapes = []
    for demos in sets:
        ls = compute_landscape(actor, demos, config, directions=shared, progress=progress)
        landscapes.append(ls)
        m = ls.metrics
        log(
            f"{demos.name}: {len(demos)} transitions, {demos.info['episodes']} episodes, mean return "
            f"{demos.info['mean_return']:.2f}; Pearson {_num(m['pearson'])}, Spearman {_num(m['spearman'])}, "
            f"gradient cosine {_num(m['gradient_cosine'])}, minima {m['minima_distance']:.3f} apart "
            f"({ls.surfaces.seconds:.1f} s, {ls.surfaces.method})"
        )
        if ls.note is not None:
            log(f"  note: {ls.note}")
    _remove_earlier_report(out)
    out.mkdir(parents=True, exist_ok=True)
    about = {
        "sb3_behave_version": __version__,
        "env_id": env_id,
        "env_kwargs": env_kwargs or {},
        "policy": description,
        "algo": algo or ("ppo" if policy == "fresh" else None),
        "actor": actor.describe(),
    }
    data = landscape_json(landscapes, config, about)
    figures = [ls.figure() for ls in landscapes]
    for ls, figure in zip(landscapes, figures):
        figure_path = out / f"{ls.name}.png"
        save_figure(figure, figure_path)
        data["sets"][ls.name]["figure"] = figure_path.name
        log(f"figure: {figure_path}")
    json_path = out / "landscape.json"
    write_text(json_path, json.dumps(data, indent=1, allow_nan=False) + "\n")
    log(f"grids and metrics: {json_path}")
    if tensorboard:
        folder = write_tensorboard(landscapes, out / "tensorboard", text=json.dumps(data["config"]), figures=figures)
        log(f"TensorBoard: {folder}  (tensorboard --logdir {folder})")
    return data


def _remove_earlier_report(out: Path) -> None:
    """Remove what an earlier report wrote in ``out`` (named by its ``landscape.json``), so no stale figure stays."""
    import shutil

    old = out / "landscape.json"
    if not old.is_file():
        return
    try:
        sets = json.loads(old.read_text()).get("sets", {})
        figures = [out / Path(str(entry.get("figure", ""))).name for entry in sets.values() if isinstance(entry, dict)]
    except (ValueError, AttributeError):  # damaged: its figures are unknown, and stay
        figures = []
    for path in figures:
        if path.suffix == ".png" and path.is_file():
            path.unlink()
    if (out / "tensorboard").is_dir():
        shutil.rmtree(out / "tensorboard")
    old.unlink()


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"
