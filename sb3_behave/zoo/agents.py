"""Loading trained agents: a model ``.zip`` or an RL Zoo run folder, with its VecNormalize statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from sb3_behave.stack import require_imitation, saved_under_numpy2_is_an_error


def _algorithm_class(algo: str) -> Any:
    """The class of an RL Zoo algorithm, sb3-behave's included (``ppo``, ``sac``, ``bc``, ``valuedice``, ...)."""
    from rl_zoo3 import ALGOS

    from sb3_behave.zoo.registry import ALGORITHMS, register_algorithms

    if algo.lower() in ALGORITHMS:
        require_imitation()
    register_algorithms()
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
    with saved_under_numpy2_is_an_error(path):
        model = _algorithm_class(algo).load(model_file, device=device)
    normalize = None
    if stats is not None:
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        # The zoo's own statistics file, written by this user's training run.
        with saved_under_numpy2_is_an_error(path):
            normalize = VecNormalize.load(str(stats), DummyVecEnv([lambda: env]))
        normalize.training = False
    return model, normalize


def load_agent(
    algo: str,
    env_id: str,
    folder: str | Path = "rl-trained-agents",
    exp_id: int = 0,
    load_best: bool = False,
    n_envs: int = 1,
    seed: int = 0,
    device: str = "cpu",
    env_kwargs: dict[str, Any] | None = None,
    hub: bool = True,
) -> Any:
    """Load an agent trained by the RL Zoo, with the env it was trained on (VecNormalize statistics applied).

    imitation's ``load_policy`` ignores a run's ``vecnormalize.pkl``; here the returned model's
    env (``model.get_env()``) is the zoo's test env with the saved statistics loaded, frozen, so
    ``model.predict(model.get_env().reset())`` acts as in training.

    :param algo: ``ppo``, ``sac``, ... or one of sb3-behave's (``bc``, ``dagger``, ``gail``, ``airl``, ``valuedice``)
    :param env_id: the gymnasium id, e.g. ``sb3_behave/FlappyBird-v0``
    :param folder: the zoo's log folder (``logs`` after ``sb3-behave train``); the default is
        the zoo's ``rl-trained-agents``, which falls back to sb3-behave's shipped agents and then
        to the Hugging Face hub (organization ``sb3``) when the agent is not there
    :param exp_id: the run number (``<env>_<exp_id>``); 0 for the latest
    :param load_best: load ``best_model.zip`` (saved by the zoo's evaluation) instead of the final model
    :param n_envs: number of envs of the returned VecEnv
    :param seed: seed of the env
    :param device: torch device
    :param env_kwargs: keyword arguments of the env, over those saved with the run
    :param hub: try the Hugging Face hub when the agent is in none of the folders
    :return: the model, its env set to the zoo's test VecEnv
    :raises ValueError: no such run, and the hub is off or unreachable (the message says which)
    """
    from rl_zoo3.utils import EnvironmentName, get_model_path

    from sb3_behave.zoo.commands import resolve_folder

    algo = algo.lower()
    _algorithm_class(algo)  # registers sb3-behave's algorithms; an unknown name is refused here
    folder = resolve_folder(folder, algo, env_id)
    env_name = EnvironmentName(env_id)

    def find() -> tuple[str, str]:
        _, model_path, log_path = get_model_path(exp_id, str(folder), algo, env_name, load_best)
        return model_path, log_path

    try:
        model_path, log_path = find()
    except (AssertionError, ValueError) as missing:
        if not hub:
            raise ValueError(f"no {algo} agent for {env_id} in {folder}: {missing}") from None
        try:
            from rl_zoo3.load_from_hub import download_from_hub

            download_from_hub(algo=algo, env_name=env_name, exp_id=exp_id, folder=str(folder), organization="sb3",
                              repo_name=None, force=False)
        except Exception as error:  # the hub library raises many kinds; none is recoverable here
            raise ValueError(
                f"no {algo} agent for {env_id} in {folder} ({missing}), and the Hugging Face hub could not provide one "
                f"({type(error).__name__}: {error}); train one with `sb3-behave train --algo {algo} --env {env_id}` "
                "and pass folder='logs'"
            ) from None
        model_path, log_path = find()

    with saved_under_numpy2_is_an_error(log_path):
        return _load_run(algo, env_id, model_path, log_path, env_name, n_envs, seed, device, env_kwargs)


def _load_run(
    algo: str,
    env_id: str,
    model_path: str,
    log_path: str,
    env_name: Any,
    n_envs: int,
    seed: int,
    device: str,
    env_kwargs: dict[str, Any] | None,
) -> Any:
    """The model of a zoo run, with the zoo's test env and the run's saved statistics."""
    import yaml
    from rl_zoo3.utils import create_test_env, get_saved_hyperparams

    stats_path = str(Path(log_path) / env_name)
    hyperparams, maybe_stats_path = get_saved_hyperparams(stats_path, test_mode=True)
    saved_kwargs: dict[str, Any] = {}
    args_path = Path(stats_path) / "args.yml"
    if args_path.is_file():
        saved_kwargs = (yaml.load(args_path.read_text(), Loader=yaml.UnsafeLoader) or {}).get("env_kwargs") or {}
    env = create_test_env(
        env_id,
        n_envs=n_envs,
        stats_path=maybe_stats_path,
        seed=seed,
        should_render=False,
        hyperparams=hyperparams,
        env_kwargs={**saved_kwargs, **(env_kwargs or {})},
    )
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    return _algorithm_class(algo).load(model_path, env=env, device=device, custom_objects=custom_objects)
