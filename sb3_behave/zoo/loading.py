"""Loading an agent trained by the RL Zoo, with the zoo's test env, its run's statistics, the shipped agents and the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sb3_behave.agents import algorithm_class
from sb3_behave.limits import without_torch_compiler
from sb3_behave.stack import saved_under_numpy2_is_an_error
from sb3_behave.untrusted import no_code_from_files, zoo_yaml_loader

#: The wrapper that replaces an env's reward with a learned one (:mod:`sb3_behave.zoo.learned_reward`).
LEARNED_REWARD = "sb3_behave.zoo.learned_reward.LearnedReward"


def without_learned_reward(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """A run's saved hyperparameters less a ``LearnedReward`` in ``vec_env_wrapper``, for an env that only acts.

    Acting needs no reward, and the model path the wrapper names is relative to the folder the run
    was trained in; the test env (``enjoy``, :func:`load_agent`) then reports the env's own returns.

    :param hyperparams: the hyperparameters the zoo saved with the run (not changed)
    """
    wrappers = hyperparams.get("vec_env_wrapper")
    if wrappers is None:
        return hyperparams
    items = wrappers if isinstance(wrappers, list) else [wrappers]
    kept = [w for w in items if (next(iter(w)) if isinstance(w, dict) and len(w) == 1 else w) != LEARNED_REWARD]
    if len(kept) == len(items):
        return hyperparams
    rest = {key: value for key, value in hyperparams.items() if key != "vec_env_wrapper"}
    return rest if not kept else {**rest, "vec_env_wrapper": kept}


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
    trust_code: bool = False,
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
    :param trust_code: read the run's files with the zoo's and SB3's own YAML and unpickling,
        which run code a file may hold (by default they are read as data:
        :func:`sb3_behave.untrusted.no_code_from_files`)
    :return: the model, its env set to the zoo's test VecEnv
    :raises ValueError: no such run, and the hub is off or unreachable (the message says which),
        or a file that holds code (:class:`~sb3_behave.untrusted.UntrustedFileError`)
    """
    from rl_zoo3.utils import EnvironmentName, get_model_path

    from sb3_behave.zoo.commands import resolve_folder
    from sb3_behave.zoo.registry import register_algorithms

    algo = algo.lower()
    algorithm_class(algo)  # an unknown name is refused here, before any download
    register_algorithms()  # the zoo's helpers look algorithms up in its own table
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

            download_from_hub(
                algo=algo,
                env_name=env_name,
                exp_id=exp_id,
                folder=str(folder),
                organization="sb3",
                repo_name=None,
                force=False,
            )
        except Exception as error:  # the hub library raises many kinds; none is recoverable here
            raise ValueError(
                f"no {algo} agent for {env_id} in {folder} ({missing}), and the Hugging Face hub could not provide one "
                f"({type(error).__name__}: {error}); train one with `sb3-behave train --algo {algo} --env {env_id}` "
                "and pass folder='logs'"
            ) from None
        model_path, log_path = find()

    import yaml
    from rl_zoo3.utils import create_test_env, get_saved_hyperparams

    stats_path = str(Path(log_path) / env_name)
    # The run's YAML, vecnormalize.pkl and model are read as data (trust_code: with the zoo's own loaders).
    with saved_under_numpy2_is_an_error(log_path), no_code_from_files(trust_code, where=stats_path):
        hyperparams, maybe_stats_path = get_saved_hyperparams(stats_path, test_mode=True)
        saved_kwargs: dict[str, Any] = {}
        args_path = Path(stats_path) / "args.yml"
        if args_path.is_file():
            loader = yaml.UnsafeLoader if trust_code else zoo_yaml_loader(str(args_path))
            saved_kwargs = (yaml.load(args_path.read_text(), Loader=loader) or {}).get("env_kwargs") or {}
        env = create_test_env(
            env_id,
            n_envs=n_envs,
            stats_path=maybe_stats_path,
            seed=seed,
            should_render=False,
            hyperparams=without_learned_reward(hyperparams),
            env_kwargs={**saved_kwargs, **(env_kwargs or {})},
        )
        custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
        with without_torch_compiler():
            return algorithm_class(algo).load(model_path, env=env, device=device, custom_objects=custom_objects)
