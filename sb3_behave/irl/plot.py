"""Heat maps of the true and the recovered reward over the grid of a toy-text env.

On FrozenLake and CliffWalking each cell shows the reward of arriving in it, labelled S (start),
G (goal), H (hole) or C (cliff; a fall costs the reward of the model's "fell off the cliff" state,
which every cliff cell shows). Cells no policy reaches are grey: MCE IRL learns nothing there.
Taxi's states (taxi position, passenger, destination) are not one grid: its figure plots each
reachable model state's recovered reward against its true reward instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sb3_behave.irl.tabular import TabularModel


def _grid_panel(fig: Any, ax: Any, model: TabularModel, reward: np.ndarray, title: str) -> None:
    grid = model.grid
    assert grid is not None
    rows, cols = grid.shape
    states = grid.cell_states
    shown = (states >= 0) & model.reachable[np.maximum(states, 0)]
    values = np.where(shown, reward[np.maximum(states, 0)], np.nan).reshape(rows, cols)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="0.8")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=lo, vmax=hi)
    small = 7 if rows * cols > 32 else 9
    for cell in range(rows * cols):
        r, c = divmod(cell, cols)
        label = grid.labels[cell] if grid.labels[cell] != "F" else ""
        value = values[r, c]
        dark = np.isfinite(value) and (value - lo) / (hi - lo) < 0.55
        color = "white" if dark else "black"
        if label:
            ax.text(c, r - 0.12, label, ha="center", va="center", fontsize=small + 3, fontweight="bold", color=color)
        if np.isfinite(value):
            ax.text(
                c,
                r + (0.25 if label else 0.0),
                f"{value:.3g}" if abs(value) >= 10 else f"{value:.2g}",
                ha="center",
                va="center",
                fontsize=small,
                color=color,
            )
    ax.set_xticks(np.arange(cols))
    ax.set_yticks(np.arange(rows))
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="both", length=0, labelsize=8)
    ax.set_xlabel("column", fontsize=8)
    ax.set_ylabel("row", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046 if cols <= rows else 0.02, pad=0.02, format="%.3g")


def plot_reward(model: TabularModel, recovered: np.ndarray, title: str | None = None) -> Any:
    """Draw the true reward and the recovered reward side by side (a grid heat map, or a scatter for Taxi).

    :param model: the tabular model (:func:`sb3_behave.irl.tabular_model`)
    :param recovered: the recovered reward per model state, ``(S,)``
    :param title: the figure's title (default: the env id and its keyword arguments)
    :return: a ``matplotlib.figure.Figure`` (not managed by pyplot: save it with :func:`save_reward_plot`)
    """
    from matplotlib.figure import Figure

    recovered = np.asarray(recovered, dtype=float)
    if recovered.shape != (model.n_states,):
        raise ValueError(f"recovered reward: expected shape ({model.n_states},), got {recovered.shape}")
    kwargs = ", ".join(f"{k}={v}" for k, v in model.env_kwargs.items())
    title = title or f"{model.env_id}" + (f" ({kwargs})" if kwargs else "")
    end = f"end state: true {model.reward[model.end_state]:.3g}, recovered {recovered[model.end_state]:.3g}"
    if model.grid is not None:
        rows, cols = model.grid.shape
        wide = cols > 2 * rows
        fig = Figure(
            figsize=(0.55 * cols + 1.5, 1.2 * rows + 1.8) if wide else (1.3 * cols + 3, 0.75 * rows + 1.3),
            layout="constrained",
        )
        axes = fig.subplots(2, 1) if wide else fig.subplots(1, 2)
        _grid_panel(fig, axes[0], model, model.reward, "true reward (of arriving in a cell)")
        _grid_panel(fig, axes[1], model, recovered, "recovered reward (MCE IRL)")
        fig.suptitle(f"{title}\n{end}; grey: unreachable", fontsize=10)
        return fig
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    live = model.reachable
    ax.scatter(model.reward[live], recovered[live], s=12, alpha=0.6)
    ax.set_xlabel("true reward of arriving in the state")
    ax.set_ylabel("recovered reward")
    ax.set_title(f"{title}: {int(live.sum())} reachable model states\n{end}", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def save_reward_plot(
    model: TabularModel, recovered: np.ndarray, path: str | Path, title: str | None = None, dpi: int = 100
) -> Path:
    """:func:`plot_reward`, saved as a PNG.

    :param model: the tabular model
    :param recovered: the recovered reward per model state
    :param path: the PNG file (its folder is created)
    :param title: the figure's title
    :param dpi: resolution
    :return: ``path``
    """
    import matplotlib.pyplot as plt

    from sb3_behave.outputs import save_figure

    figure = plot_reward(model, recovered, title)
    save_figure(figure, path, dpi=dpi)
    plt.close(figure)
    return Path(path)


__all__ = ["plot_reward", "save_reward_plot"]
