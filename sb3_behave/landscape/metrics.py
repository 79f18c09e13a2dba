"""How much the IL and the RL landscapes agree."""

from __future__ import annotations

import math

import numpy as np
import torch as th


def _is_flat(surface: np.ndarray) -> bool:
    """A surface with no variation beyond float rounding (its correlation is undefined)."""
    spread = float(np.max(surface) - np.min(surface))
    return not np.isfinite(spread) or spread <= 1e-9 * max(1.0, float(np.max(np.abs(surface))))


def argmin_location(surface: np.ndarray, alphas: np.ndarray, betas: np.ndarray) -> tuple[float, float]:
    """``(alpha, beta)`` of the grid point with the lowest loss.

    :param surface: ``surface[i, j]`` is the loss at ``alphas[j], betas[i]``
    :param alphas: coordinates of the columns
    :param betas: coordinates of the rows
    """
    i, j = np.unravel_index(int(np.argmin(surface)), surface.shape)
    return float(alphas[j]), float(betas[i])


def standardize(surface: np.ndarray) -> np.ndarray:
    """``(surface - mean) / std``; zeros for a flat surface.

    :param surface: any array
    """
    if _is_flat(surface):
        return np.zeros_like(surface)
    return (surface - surface.mean()) / surface.std()


def agreement(
    il: np.ndarray,
    rl: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    grad_il: th.Tensor | None = None,
    grad_rl: th.Tensor | None = None,
) -> dict[str, float | list[float] | None]:
    """Agreement metrics of two surfaces on one grid.

    - ``pearson``, ``spearman``: correlation of the two surfaces over the grid points (``None``
      when a surface is flat: the correlation is undefined);
    - ``il_argmin``, ``rl_argmin``: ``(alpha, beta)`` of each surface's lowest grid point, and
      ``minima_distance``, the Euclidean distance between them in grid coordinates;
    - ``gradient_cosine``: cosine of the IL and RL gradients at ``theta0`` (full actor gradient
      vectors; ``None`` if either is zero or not given).

    :param il: the IL surface
    :param rl: the RL surface
    :param alphas: coordinates of the columns
    :param betas: coordinates of the rows
    :param grad_il: flat IL gradient at the origin
    :param grad_rl: flat RL gradient at the origin
    """
    from scipy import stats

    flat = _is_flat(il) or _is_flat(rl)
    pearson = None if flat else float(stats.pearsonr(il.ravel(), rl.ravel())[0])
    spearman = None if flat else float(stats.spearmanr(il.ravel(), rl.ravel())[0])
    a_il, a_rl = argmin_location(il, alphas, betas), argmin_location(rl, alphas, betas)
    cosine = None
    if grad_il is not None and grad_rl is not None:
        norms = float(grad_il.norm()) * float(grad_rl.norm())
        cosine = float(grad_il @ grad_rl) / norms if norms > 0 else None
    return {
        "pearson": pearson,
        "spearman": spearman,
        "il_argmin": list(a_il),
        "rl_argmin": list(a_rl),
        "minima_distance": math.dist(a_il, a_rl),
        "gradient_cosine": cosine,
    }
