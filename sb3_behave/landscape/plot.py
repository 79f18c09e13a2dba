"""Figures: the IL and RL landscapes of one demonstration set side by side, and their difference."""

from __future__ import annotations

import textwrap
from typing import Any, Sequence

import numpy as np

from sb3_behave.landscape.metrics import argmin_location, standardize


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _panel(
    fig: Any, ax: Any, alphas: np.ndarray, betas: np.ndarray, z: np.ndarray, title: str, cmap: str, symmetric: bool
) -> None:
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if symmetric:  # at least +-2 standard deviations: small differences stay pale
        bound = max(abs(lo), abs(hi), 2.0)
        lo, hi = -bound, bound
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):  # a flat surface: one colour, no contour lines
        hi = lo + max(1e-12, abs(lo) * 1e-9)
        image = ax.imshow(z, extent=(alphas[0], alphas[-1], betas[0], betas[-1]), origin="lower", cmap=cmap, vmin=lo, vmax=hi)
        ax.set_aspect("auto")
        title += " (flat)"
    else:
        levels = np.linspace(lo, hi, 21)
        image = ax.contourf(alphas, betas, z, levels=levels, cmap=cmap)
        ax.contour(alphas, betas, z, levels=levels[::2], colors="k", linewidths=0.4, alpha=0.6)
    from matplotlib.ticker import MaxNLocator

    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, ticks=MaxNLocator(6), format="%.5g")
    ax.set_title(title, fontsize=10)


def plot_landscape(
    alphas: np.ndarray,
    betas: np.ndarray,
    il: np.ndarray,
    rl: np.ndarray,
    title: str = "",
    labels: Sequence[str] = ("alpha", "beta"),
    metrics: dict[str, Any] | None = None,
    names: Sequence[str] = ("IL", "RL"),
    subtitles: Sequence[str] = ("", ""),
    note: str | None = None,
) -> Any:
    """IL | RL | z(IL) - z(RL): filled contours with contour lines, the minima and the origin marked.

    The difference panel subtracts the *standardized* surfaces (each minus its mean, over its
    standard deviation), so it compares shapes, whatever the units of the two losses: near zero
    where they agree, up to about ``+-2 * 2`` where one is the other upside down.

    :param alphas: coordinates of the columns
    :param betas: coordinates of the rows
    :param il: the IL surface ``[len(betas), len(alphas)]``
    :param rl: the RL surface
    :param title: the figure's title (the demonstration set, say)
    :param labels: axis labels of ``alpha`` and ``beta``
    :param metrics: agreement metrics (:func:`~sb3_behave.landscape.metrics.agreement`), shown in the title
    :param names: short names of the two surfaces
    :param subtitles: what each loss is (shown under its name)
    :param note: a line under the title that says how to read the figure
    :return: a ``matplotlib.figure.Figure`` (not managed by pyplot; save it or log it)
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(13.5, 4.1), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    il_min, rl_min = argmin_location(il, alphas, betas), argmin_location(rl, alphas, betas)
    for ax, z, name, subtitle in zip(axes[:2], (il, rl), names, subtitles):
        _panel(fig, ax, alphas, betas, z, f"{name} loss" + (f": {subtitle}" if subtitle else ""), "viridis", False)
    _panel(fig, axes[2], alphas, betas, standardize(il) - standardize(rl), f"z({names[0]}) - z({names[1]})", "RdBu_r", True)
    for ax in axes:
        ax.plot(0, 0, marker="+", color="white", markersize=10, markeredgewidth=1.5)
        # The star is drawn larger, so both marks show when the minima coincide.
        ax.plot(*il_min, marker="*", color="white", markeredgecolor="black", markersize=17, clip_on=False, zorder=5)
        ax.plot(*rl_min, marker="X", color="tab:red", markeredgecolor="black", markersize=8, clip_on=False, zorder=6)
        ax.set_xlabel(labels[0], fontsize=9)
    axes[0].set_ylabel(labels[1], fontsize=9)
    marker = {"linestyle": "", "markeredgecolor": "black"}
    handles = [
        Line2D([], [], marker="*", color="white", markersize=11, label=f"{names[0]} minimum", **marker),
        Line2D([], [], marker="X", color="tab:red", markersize=9, label=f"{names[1]} minimum", **marker),
        Line2D([], [], marker="+", color="gray", markersize=9, linestyle="", label="theta0"),
    ]
    axes[2].legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.8)
    if metrics:
        title = (
            f"{title}    Pearson {_fmt(metrics.get('pearson'))}   Spearman {_fmt(metrics.get('spearman'))}   "
            f"gradient cosine {_fmt(metrics.get('gradient_cosine'))}   minima {metrics.get('minima_distance', 0):.2f} apart"
        )
    if note:
        title += "\n" + textwrap.fill(f"Note: {note}", 160, break_on_hyphens=False)
    fig.suptitle(title, fontsize=11 if not note else 9)
    return fig


