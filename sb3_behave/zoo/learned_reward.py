"""A reward learned by AIRL (or another reward-learning run), given to a fresh RL run: inverse RL's transfer.

:class:`LearnedReward` is a ``VecEnv`` wrapper that replaces the env's reward with the reward net
saved in a model zip of sb3-behave's AIRL, GAIL or preference comparisons. A zoo entry names it
under ``vec_env_wrapper`` (it works with ``--vec-env flappy`` too)::

    sb3_behave/FlappyBird-v0:
      vec_env_wrapper:
        - sb3_behave.zoo.learned_reward.LearnedReward:
            model: logs/airl/sb3_behave-FlappyBird-v0_1

The env's own reward stays in each step's ``info["original_env_rew"]`` and in the episode
statistics of the zoo's ``Monitor``, so ``rollout/ep_rew_mean`` in TensorBoard is still the env's
return: what the learned reward buys. The learned returns of the last 100 episodes are in the
wrapper's ``episode_rewards``.

The model is read without running code it holds (:func:`sb3_behave.untrusted.no_code_from_files`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from imitation.rewards.reward_nets import ShapedRewardNet
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper
from stable_baselines3.common.vec_env import VecEnv

from sb3_behave.agents import algorithm_class, load_model_file
from sb3_behave.zoo.adapters.positive import positive_reward_net

#: What ``reward:`` may name.
REWARDS = ("unshaped", "shaped")


def reward_model_file(path: str | Path) -> tuple[Path, str]:
    """The model zip that ``path`` names (a ``.zip`` or a zoo run folder), and its algorithm.

    :param path: a model ``.zip``, or a zoo run folder such as ``logs/airl/sb3_behave-FlappyBird-v0_1``
    :return: ``(zip, algorithm)``; the algorithm is the name of the folder above the run folder (``airl``
        in ``logs/airl/...``), ``airl`` where that names no algorithm
    :raises ValueError: no such file, or a run folder without one final model, or with VecNormalize
        statistics (the reward net learned on normalized observations, which this wrapper does not see)
    """
    path = Path(path)
    if path.is_dir():
        run = path
        if any(run.glob("*/vecnormalize.pkl")):
            raise ValueError(
                f"{path}: the run normalized its observations (vecnormalize.pkl), so its reward net expects normalized "
                "ones: train the reward without `normalize` to give it to another run"
            )
        finals = sorted(p for p in run.glob("*.zip") if not p.name.startswith(("best_model", "rl_model")))
        if len(finals) != 1:
            found = ", ".join(p.name for p in finals) or "none"
            raise ValueError(f"{path}: expected the run's one final model <env>.zip, found {found}")
        model = finals[0]
    elif path.suffix == ".zip" and path.is_file():
        model, run = path, path.parent
    else:
        what = "not a .zip file" if path.exists() else "no such file or folder"
        raise ValueError(f"{path}: {what}: expected a model .zip of AIRL, GAIL or preference comparisons, or its run folder")
    algo = run.parent.name.lower()
    try:
        algorithm_class(algo)
    except ValueError:  # not a zoo log folder (logs/<algo>/<env>_<n>)
        algo = "airl"
    return model, algo


class LearnedReward(RewardVecEnvWrapper):
    """``venv`` with its reward replaced by the reward net saved in ``model``.

    :param venv: the VecEnv to wrap (its observation and action spaces must be the reward net's)
    :param model: the model ``.zip`` of sb3-behave's AIRL, GAIL or preference comparisons, or its zoo run folder
    :param reward: for AIRL, ``"unshaped"`` (the default) is the reward net without its potential
        shaping, ``g(s, a)``: the part AIRL means to transfer; ``"shaped"`` is what AIRL's own
        generator was trained on, ``g(s, a) + gamma h(s') - h(s)``. The other algorithms' nets
        have no shaping: both give the net's output (GAIL's is the discriminator's logit). An AIRL
        or preference-comparisons model trained with ``generator_reward: positive`` gives
        :func:`~sb3_behave.zoo.adapters.positive.positive_reward` of it, as its generator got
    :param trust_code: read the zip with SB3's own unpickling (only for files you trust)
    :raises ValueError: an unknown ``reward``, a model without a reward net, or spaces that differ
    """

    def __init__(self, venv: VecEnv, model: str | Path, reward: str = "unshaped", trust_code: bool = False) -> None:
        if reward not in REWARDS:
            raise ValueError(f"LearnedReward: reward is {reward!r}: expected one of {', '.join(REWARDS)}")
        model_file, algo = reward_model_file(model)
        try:
            loaded = load_model_file(model_file, algo, trust_code=trust_code)
        except ValueError as error:
            if str(model_file) in str(error):  # already names the file (the untrusted-file errors do)
                raise
            raise ValueError(
                f"{model_file}: not a model of {algo} ({error}): expected a model zip of AIRL, GAIL or preference "
                "comparisons (in logs/<algo>/..., whose folder names the algorithm; airl otherwise)"
            ) from None
        net = getattr(loaded, "reward_net", None)
        if net is None:
            raise ValueError(
                f"{model_file}: {type(loaded).__name__} saves no reward net: expected AIRL, GAIL or preference comparisons"
            )
        if reward == "unshaped" and isinstance(net, ShapedRewardNet):
            net = net.base
        for name in ("observation_space", "action_space"):
            if getattr(net, name) != getattr(venv, name):
                raise ValueError(
                    f"{model_file}: the reward net's {name} is {getattr(net, name)}, the env's is "
                    f"{getattr(venv, name)}: give the reward to the env it was learned on"
                )
        if getattr(loaded, "generator_reward", None) == "positive":  # as the model's generator was paid
            net = positive_reward_net(net)
        self.reward_net = net.eval()
        self.model_file = model_file
        super().__init__(venv, reward_fn=self._reward)

    def _reward(self, obs: np.ndarray, acts: np.ndarray, next_obs: np.ndarray, dones: np.ndarray) -> np.ndarray:
        return self.reward_net.predict_processed(obs, acts, next_obs, dones)


__all__ = ["REWARDS", "LearnedReward", "reward_model_file"]
