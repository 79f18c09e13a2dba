"""Who plays: the scripted, random and trained-model policies, the Flappy Bird skill presets, and loading agents.

A low layer: ``demos``, ``zoo``, ``landscape`` and ``callbacks`` import it, and it imports none of
them. Importing it is light (no torch, no imitation, no SB3): they load when a policy is made.

- A *policy* here is an ``obs -> action`` callable for one observation (:data:`Policy`);
  :func:`make_policy` builds one from what ``--expert`` names (``scripted``, ``random``, a model
  ``.zip`` or an RL Zoo run folder).
- :func:`load_agent_from_path` loads a trained SB3 agent with its run's VecNormalize statistics;
  :func:`algorithm_class` finds any RL Zoo algorithm, sb3-behave's own included.
- :func:`expert_policy` wraps a policy as imitation's ``NonTrainablePolicy``: DAgger's expert.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

from sb3_behave.limits import without_torch_compiler
from sb3_behave.registration import FLAPPY_BIRD_ID
from sb3_behave.stack import require_imitation, saved_under_numpy2_is_an_error
from sb3_behave.untrusted import no_code_from_files

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.policies import BasePolicy

#: An ``obs -> action`` callable for one observation.
Policy = Callable[[Any], Any]
PathLike = Union[str, Path]


@dataclass(frozen=True)
class SkillPreset:
    """How a demonstrator of some skill plays Flappy Bird.

    :param expert: ``"scripted"`` (the steady expert), ``"precise"`` or ``"random"``
    :param epsilon: probability of a random action instead of the expert's, at each step
    :param description: one line for ``--help`` and the docs
    """

    expert: str
    epsilon: float
    description: str


#: Flappy Bird demonstrators (pipes per 10,000-frame game, benchmarks/results/skill_presets.md).
SKILL_PRESETS = {
    "poor": SkillPreset("random", 0.0, "random flapping: dies at the first pipe (0 pipes)"),
    "medium": SkillPreset("precise", 0.02, "the precise expert with 2% random actions: a handful of pipes (4 on average)"),
    "strong": SkillPreset(
        "scripted", 0.0, "the steady scripted expert: stays well inside the gaps, easy to copy (259 pipes on average)"
    ),
    "precise": SkillPreset("precise", 0.0, "the precise scripted expert: 4 px margins, hard to copy (268 pipes on average)"),
}

#: The ``--expert`` (and DAgger ``expert:``) names of the scripted Flappy Bird expert, and the style each plays.
SCRIPTED_EXPERTS = {"scripted": "steady", "precise": "precise"}

#: sb3-behave's algorithms, by their RL Zoo name, as ``module:class`` (imported when asked for; all build on imitation).
ALGORITHMS = {
    "bc": "sb3_behave.zoo.adapters:BC",
    "dagger": "sb3_behave.zoo.adapters:DAgger",
    "gail": "sb3_behave.zoo.adapters:GAIL",
    "airl": "sb3_behave.zoo.adapters:AIRL",
    "sqil": "sb3_behave.zoo.adapters:SQIL",
    "density": "sb3_behave.zoo.adapters:Density",
    "preference_comparisons": "sb3_behave.zoo.adapters:PreferenceComparisons",
    "valuedice": "sb3_behave.valuedice:ValueDICE",
    "cql": "sb3_behave.offline:CQL",
    "iql": "sb3_behave.offline:IQL",
}


def algorithm_class(algo: str, check_installed: bool = True) -> Any:
    """The class of an RL Zoo algorithm: the zoo's (``ppo``, ``sac``, ``dqn``, ...) or sb3-behave's (:data:`ALGORITHMS`).

    :param algo: the algorithm's name, as ``--algo`` takes it
    :param check_installed: raise :class:`~sb3_behave.stack.MissingDependencyError` when a library the
        algorithm needs beyond imitation is missing (d3rlpy for ``cql`` and ``iql``)
    :raises ValueError: an unknown name, with the known ones
    """
    key = algo.lower()
    if key in ALGORITHMS:
        require_imitation()
        module, name = ALGORITHMS[key].split(":")
        found = getattr(importlib.import_module(module), name)
        if check_installed and hasattr(found, "check_installed"):
            found.check_installed()
        return found
    from rl_zoo3 import ALGOS

    if key not in ALGOS:
        known = ", ".join(sorted({*ALGOS, *ALGORITHMS}))
        raise ValueError(f"unknown algorithm {algo!r}: expected one of {known}")
    return ALGOS[key]


# --------------------------------------------------------------------------- policies
def is_flappy(env: gym.Env) -> bool:
    """Whether ``env`` is ``sb3_behave/FlappyBird-v0`` (or a wrapper of it)."""
    return env.spec is not None and env.spec.id == FLAPPY_BIRD_ID


def scripted_policy(env: gym.Env, style: str = "steady") -> Policy:
    """The scripted Flappy Bird expert, whatever the env's ``obs_type`` (it reads the env's features).

    :param env: a ``sb3_behave/FlappyBird-v0`` env (or a wrapper of one)
    :param style: ``"steady"`` (the ``strong`` demonstrator) or ``"precise"`` (see ``EXPERT_STYLES``)
    """
    from sb3_behave.envs import FlappyBirdExpert

    if not is_flappy(env):
        raise ValueError(f"the scripted expert plays {FLAPPY_BIRD_ID} only, not {env.spec.id if env.spec else env}")
    expert = FlappyBirdExpert.from_style(style)
    return lambda obs: int(expert.act(env.unwrapped.features()))


def random_policy(env: gym.Env, seed: int = 0) -> Policy:
    """Uniformly random actions from the env's action space, seeded.

    :param env: the env whose action space is sampled
    :param seed: seed of the action space
    """
    env.action_space.seed(seed)
    return lambda obs: env.action_space.sample()


def model_policy(path: PathLike, env: gym.Env, algo: str | None = None) -> Policy:
    """A trained SB3 agent, acting deterministically, with its run's VecNormalize statistics applied.

    :param path: a model ``.zip``, or an RL Zoo run folder (``logs/<algo>/<env>_<n>``)
    :param env: the env it will play (its id locates files in a zoo folder)
    :param algo: the algorithm (``ppo``, ``dqn``, ``bc``, ...); inferred from a zoo folder's path if omitted
    """
    model, normalize = load_agent_from_path(path, env, algo=algo)

    def act(obs: Any) -> Any:
        if normalize is not None:
            obs = normalize.normalize_obs(obs)
        action, _ = model.predict(obs, deterministic=True)
        return action

    return act


def make_policy(
    expert: str, env: gym.Env, algo: str | None = None, seed: int = 0, flag: str = "--expert"
) -> tuple[Policy, str]:
    """The policy named by ``expert``, and a description of it (saved as the player).

    :param expert: ``"scripted"`` (the steady Flappy Bird expert), ``"precise"`` (the precise one),
        ``"random"``, a model ``.zip`` or an RL Zoo run folder
    :param env: the env to play
    :param algo: the algorithm of a model or zoo folder
    :param seed: seed of random play
    :param flag: the option that named it, for the message when it names nothing
    """
    if expert in SCRIPTED_EXPERTS:
        style = SCRIPTED_EXPERTS[expert]
        return scripted_policy(env, style), "scripted-expert" if style == "steady" else f"{style}-scripted-expert"
    if expert == "random":
        return random_policy(env, seed), "random"
    path = Path(expert)
    if not path.exists():
        raise ValueError(
            f"{flag} {expert!r}: expected 'scripted', 'precise', 'random', a model .zip or an RL Zoo run folder"
        )
    return model_policy(path, env, algo), f"model:{path}"


def expert_policy(observation_space: Any, action_space: Any, act: Callable[[Any], Any]) -> BasePolicy:
    """``act`` as imitation's ``NonTrainablePolicy`` (what DAgger's trainer takes as its expert).

    :param observation_space: the observation space of the env the expert labels
    :param action_space: its action space
    :param act: the expert, an ``obs -> action`` callable for one observation
    """
    require_imitation()
    from imitation.policies.base import NonTrainablePolicy

    class ExpertPolicy(NonTrainablePolicy):
        def _choose_action(self, obs: Any) -> Any:
            return act(obs)

    return ExpertPolicy(observation_space, action_space)


# --------------------------------------------------------------------------- loading trained agents
def find_zoo_files(folder: Path, env_id: str) -> tuple[Path, Path | None]:
    """The model and VecNormalize files of a zoo run folder (``logs/<algo>/<env>_<n>``).

    The zoo saves ``<env>.zip`` at the end of training and ``best_model.zip`` when evaluating;
    the final model is preferred. Statistics are in ``<env>/vecnormalize.pkl``.

    :param folder: the run folder
    :param env_id: the env id (namespaced ids are written with ``-`` for ``/``)
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


def load_model_file(
    path: PathLike, algo: str, device: str = "cpu", trust_code: bool = False, where: PathLike | None = None
) -> Any:
    """Load an SB3 model ``.zip`` of algorithm ``algo`` without its env, reading it as data.

    :param path: the model ``.zip``
    :param algo: the algorithm (``ppo``, ``airl``, ...)
    :param device: torch device
    :param trust_code: load with SB3's own unpickling, which runs code a file may hold
    :param where: what the numpy-2 message names (the zoo run folder the zip came from; default ``path``)
    :raises ValueError: an unknown algorithm, an agent saved under numpy 2 loaded under numpy 1, or
        a file that holds code (:class:`~sb3_behave.untrusted.UntrustedFileError`)
    """
    with saved_under_numpy2_is_an_error(where or path), no_code_from_files(trust_code), without_torch_compiler():
        return algorithm_class(algo).load(path, device=device)


def load_agent_from_path(
    path: PathLike, env: gym.Env, algo: str | None = None, device: str = "cpu", trust_code: bool = False
) -> tuple[Any, Any]:
    """Load a trained SB3 agent for ``env`` from a ``.zip`` or an RL Zoo run folder, to act.

    The files are read without running code they hold (:func:`sb3_behave.untrusted.no_code_from_files`).

    :param path: a model ``.zip``, or a zoo run folder such as ``logs/ppo/CartPole-v1_1``
    :param env: the env it will act in (its id locates files in a zoo folder)
    :param algo: the algorithm; for a zoo folder it defaults to the name of the folder above
        (``logs/<algo>/...``), for a ``.zip`` to ``ppo``
    :param device: torch device
    :param trust_code: load with SB3's own unpickling, which runs code a file may hold
    :return: ``(model, vec_normalize or None)``; apply ``vec_normalize.normalize_obs`` to
        observations before ``model.predict``
    :raises ValueError: no such file, no model in the folder, an unknown algorithm, an agent
        saved under numpy 2 loaded under numpy 1, or a file that holds code
        (:class:`~sb3_behave.untrusted.UntrustedFileError`)
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
    normalize = None
    model = load_model_file(model_file, algo, device=device, trust_code=trust_code, where=path)
    with saved_under_numpy2_is_an_error(path), no_code_from_files(trust_code):
        if stats is not None:
            from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

            normalize = VecNormalize.load(str(stats), DummyVecEnv([lambda: env]))
            normalize.training = False
    return model, normalize
