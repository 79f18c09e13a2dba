"""Loading trained agents: a model ``.zip`` or an RL Zoo run folder, with its VecNormalize statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym


def _algorithm_class(algo: str) -> Any:
    from rl_zoo3 import ALGOS

    try:
        return ALGOS[algo.lower()]
    except KeyError:
        raise ValueError(f"unknown algorithm {algo!r}: expected one of {', '.join(sorted(ALGOS))}") from None


def find_zoo_files(folder: Path, env_id: str) -> tuple[Path, Path | None]:
    """The model and VecNormalize files of a zoo run folder (``logs/<algo>/<env>_<n>``).

    The zoo saves ``<env>.zip`` at the end of training and ``best_model.zip`` when evaluating;
    the final model is preferred. Statistics are in ``<env>/vecnormalize.pkl``.
    """
    name = env_id.replace("/", "-")  # the zoo's file name for namespaced ids
    candidates = [folder / f"{name}.zip", folder / f"{env_id.split('/')[-1]}.zip", folder / "best_model.zip"]
    model = next((p for p in candidates if p.is_file()), None)
    if model is None:
        zips = sorted(folder.glob("*.zip"))
        if len(zips) != 1:
            raise ValueError(f"{folder}: no model found: expected {candidates[0].name} or best_model.zip")
        model = zips[0]
    stats = [folder / name / "vecnormalize.pkl", folder / env_id.split("/")[-1] / "vecnormalize.pkl"]
    return model, next((p for p in stats if p.is_file()), None)


def load_agent_from_path(path: str | Path, env: gym.Env, algo: str | None = None, device: str = "cpu") -> tuple[Any, Any]:
    """Load a trained SB3 agent for ``env`` from a ``.zip`` or an RL Zoo run folder.

    :param path: a model ``.zip``, or a zoo run folder such as ``logs/ppo/CartPole-v1_1``
    :param env: the env it will act in (its id locates files in a zoo folder)
    :param algo: the algorithm; for a zoo folder it defaults to the name of the folder above
        (``logs/<algo>/...``), for a ``.zip`` to ``ppo``
    :param device: torch device
    :return: ``(model, vec_normalize or None)``; apply ``vec_normalize.normalize_obs`` to
        observations before ``model.predict``
    """
    path = Path(path)
    env_id = env.spec.id if env.spec is not None else ""
    stats = None
    if path.is_dir():
        model_file, stats = find_zoo_files(path, env_id)
        algo = algo or path.parent.name
    elif path.suffix == ".zip" and path.is_file():
        model_file = path
        algo = algo or "ppo"
    else:
        raise ValueError(f"{path}: expected a model .zip file or an RL Zoo run folder")
    model = _algorithm_class(algo).load(model_file, device=device)
    normalize = None
    if stats is not None:
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        # The zoo's own statistics file, written by this user's training run.
        normalize = VecNormalize.load(str(stats), DummyVecEnv([lambda: env]))
        normalize.training = False
    return model, normalize
