"""MCE IRL on a toy-text env: an expert, its demonstrations, imitation's ``MCEIRL``, and exact returns.

1. The expert is soft-optimal for the true reward scaled by ``expert_beta / max|reward|`` (an inverse
   temperature: large values give a nearly deterministic optimal player): imitation's ``mce_partition_fh``.
2. Its demonstrations: ``demos`` trajectories of ``horizon`` steps sampled in the tabular model
   (imitation's ``generate_trajectories`` with its ``TabularPolicy``), or, with ``demos=0``, its exact
   state occupancy measure.
3. imitation's ``MCEIRL`` learns a reward per state: a linear ``BasicRewardNet`` on one-hot states
   (state only: no action, next state or done), Adam, until the occupancy measures match
   (``linf_eps``) or ``iterations`` run out.
4. The learned policy (soft-optimal for the recovered reward, as MCE IRL's own), the expert and the
   uniformly random policy are scored by their expected return under the TRUE reward, computed exactly
   from the state distributions of ``mce_occupancy_measures`` (no sampling).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from sb3_behave.irl.tabular import TabularModel, tabular_model


@dataclasses.dataclass(frozen=True)
class MCEIRLConfig:
    """Settings of :func:`run_mce_irl`.

    :param demos: expert trajectories sampled as demonstrations (0: the expert's exact occupancy measure)
    :param horizon: steps per episode (default: the env's time limit, else 100)
    :param discount: discount of the occupancy measures and of the soft planning
    :param expert_beta: inverse temperature of the expert, per unit of the largest absolute reward: the
        expert is soft-optimal for ``expert_beta * reward / max|reward|`` (large: nearly deterministic and optimal)
    :param iterations: most MCE IRL iterations (gradient steps of the reward)
    :param learning_rate: Adam's learning rate on the reward
    :param linf_eps: stop when the largest occupancy difference falls below this
    :param grad_l2_eps: stop when the gradient norm falls below this
    :param seed: seed of the demonstrations and of the reward's initialization
    """

    demos: int = 100
    horizon: int | None = None
    discount: float = 0.99
    expert_beta: float = 1000.0
    iterations: int = 500
    learning_rate: float = 0.1
    linf_eps: float = 1e-3
    grad_l2_eps: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "demos": self.demos >= 0,
            "horizon": self.horizon is None or self.horizon >= 1,
            "discount": 0.0 < self.discount <= 1.0,
            "expert_beta": self.expert_beta > 0,
            "iterations": self.iterations >= 1,
            "learning_rate": self.learning_rate > 0,
            "seed": self.seed >= 0,
        }
        expected = {
            "demos": "a whole number >= 0",
            "horizon": "a whole number >= 1",
            "discount": "a number in (0, 1]",
            "expert_beta": "a number > 0",
            "iterations": "a whole number >= 1",
            "learning_rate": "a number > 0",
            "seed": "a whole number >= 0",
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"MCE IRL: {key}={getattr(self, key)!r}: expected {expected[key]}")


@dataclasses.dataclass(frozen=True)
class MCEIRLResult:
    """What :func:`run_mce_irl` found. Returns are expected undiscounted returns over the horizon, under the true reward.

    :param model: the tabular model
    :param config: the settings
    :param reward: the recovered reward per model state, ``(S,)``
    :param expert_return: the expert's return
    :param learned_return: the return of the policy that is soft-optimal for the recovered reward
    :param random_return: the uniformly random policy's return
    :param demo_return: mean return of the sampled demonstrations (``None`` with ``demos=0``)
    :param iterations: MCE IRL iterations run
    :param converged: whether it stopped on ``linf_eps`` or ``grad_l2_eps`` (not on ``iterations``)
    :param linf_delta: the largest difference between the expert's (or demonstrations') and the
        learned policy's discounted occupancy measures, at the end
    :param seconds: time spent in MCE IRL
    """

    model: TabularModel
    config: MCEIRLConfig
    reward: np.ndarray
    expert_return: float
    learned_return: float
    random_return: float
    demo_return: float | None
    iterations: int
    converged: bool
    linf_delta: float
    seconds: float

    @property
    def fraction(self) -> float:
        """``(learned - random) / (expert - random)``: 1 matches the expert, 0 is no better than random."""
        gap = self.expert_return - self.random_return
        return float("nan") if abs(gap) < 1e-12 else (self.learned_return - self.random_return) / gap

    @property
    def ratio(self) -> float:
        """``learned / expert`` (read with care when returns are negative, as on CliffWalking)."""
        return float("nan") if abs(self.expert_return) < 1e-12 else self.learned_return / self.expert_return

    def to_dict(self) -> dict[str, Any]:
        """The numbers, the settings and the recovered reward, for ``results.json`` (valid JSON: no NaN)."""
        model = self.model
        return {
            "env_id": model.env_id,
            "env_kwargs": model.env_kwargs,
            "settings": dataclasses.asdict(self.config) | {"horizon": model.horizon},
            "expert_return": self.expert_return,
            "learned_return": self.learned_return,
            "random_return": self.random_return,
            "demo_return": self.demo_return,
            "fraction_of_expert": _finite_or_none(self.fraction),  # null when expert and random tie
            "learned_over_expert": _finite_or_none(self.ratio),
            "iterations": self.iterations,
            "converged": self.converged,
            "linf_delta": self.linf_delta,
            "seconds": round(self.seconds, 2),
            "states": list(model.state_names),
            "reachable": model.reachable.tolist(),
            "true_reward": model.reward.tolist(),
            "recovered_reward": self.reward.tolist(),
        }

    def report(self) -> str:
        """A few lines: the three returns, the fraction of the expert, how MCE IRL stopped."""
        model = self.model
        kwargs = "".join(f" {k}={v}" for k, v in model.env_kwargs.items())
        demos = (
            f"{self.config.demos} demonstrations (mean return {self.demo_return:.3f})"
            if self.demo_return is not None
            else "the expert's exact occupancy measure"
        )
        stop = "converged" if self.converged else "stopped at --iterations"
        return "\n".join(
            [
                f"MCE IRL on {model.env_id}{kwargs}: {model.n_states} model states, horizon {model.horizon}, from {demos}",
                f"  expert return    {self.expert_return:10.3f}",
                f"  learned return   {self.learned_return:10.3f}   (policy soft-optimal for the recovered reward)",
                f"  random return    {self.random_return:10.3f}",
                f"  fraction of expert (learned - random) / (expert - random): {self.fraction:.3f}"
                f"   learned / expert: {self.ratio:.3f}",
                f"  {self.iterations} iterations ({stop}; occupancy L-inf gap {self.linf_delta:.2g}), {self.seconds:.1f} s",
            ]
        )


def soft_optimal_policy(model: TabularModel, reward: np.ndarray, discount: float) -> np.ndarray:
    """The maximum causal entropy policy of ``reward`` (imitation's ``mce_partition_fh``).

    :param model: the tabular model
    :param reward: a reward per model state, ``(S,)``
    :param discount: the discount
    :return: ``pi[t, s, a]``, ``(horizon, S, A)``
    """
    from imitation.algorithms.mce_irl import mce_partition_fh

    _, _, pi = mce_partition_fh(model.pomdp, reward=np.asarray(reward, dtype=float), discount=discount)
    return pi


def uniform_policy(model: TabularModel) -> np.ndarray:
    """The uniformly random policy, ``(horizon, S, A)``."""
    return np.full((model.horizon, model.n_states, model.n_actions), 1.0 / model.n_actions)


def expected_return(model: TabularModel, pi: np.ndarray, reward: np.ndarray | None = None) -> float:
    """The exact expected undiscounted return of ``pi`` over the horizon: ``sum_{t=1..H} D_t . r``.

    ``D_t`` is the state distribution after ``t`` actions (imitation's ``mce_occupancy_measures``);
    the state an episode starts in earns nothing.

    :param model: the tabular model
    :param pi: a policy ``(horizon, S, A)``
    :param reward: a reward per model state (default: the true one)
    """
    from imitation.algorithms.mce_irl import mce_occupancy_measures

    distributions, _ = mce_occupancy_measures(model.pomdp, pi=pi)
    return float(distributions[1:].sum(axis=0) @ (model.reward if reward is None else reward))


def sample_demonstrations(model: TabularModel, pi: np.ndarray, episodes: int, seed: int = 0) -> list[Any]:
    """``episodes`` trajectories of ``pi`` in the model, each of ``horizon`` steps (observations are model states).

    imitation's ``generate_trajectories`` plays its ``TabularPolicy`` in seals' env of the model.

    :param model: the tabular model
    :param pi: the policy ``(horizon, S, A)``
    :param episodes: how many
    :param seed: seed of the env and of the policy's sampling
    :return: imitation ``TrajectoryWithRew`` s
    """
    from imitation.algorithms.mce_irl import TabularPolicy
    from imitation.data import rollout
    from seals.base_envs import ExposePOMDPStateWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv

    pomdp = model.pomdp
    policy = TabularPolicy(
        state_space=pomdp.state_space, action_space=pomdp.action_space, pi=pi, rng=np.random.default_rng(seed)
    )
    venv = DummyVecEnv([lambda: ExposePOMDPStateWrapper(pomdp)])
    venv.seed(seed)
    with warnings.catch_warnings():  # observations are plain state numbers
        warnings.filterwarnings("ignore", message="tried to wrap")
        trajectories = rollout.generate_trajectories(
            policy, venv, rollout.make_min_episodes(episodes), rng=np.random.default_rng(seed), deterministic_policy=False
        )
    venv.close()
    return list(trajectories[:episodes])


def _iteration_writer(bar: Any) -> Any:
    """An SB3 ``KVWriter`` that keeps what MCEIRL logs at each iteration (and moves its ``bar``, if any)."""
    from stable_baselines3.common.logger import KVWriter

    class IterationWriter(KVWriter):
        def __init__(self) -> None:
            self.last: dict[str, Any] = {}
            self.count = 0
            self.bar = bar

        def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
            self.last = dict(key_values)
            self.count += 1
            if self.bar is not None:
                self.bar.update(1)
                self.bar.set_postfix(linf_delta=f"{float(key_values.get('linf_delta', np.nan)):.3g}", refresh=False)

        def close(self) -> None:
            pass

    return IterationWriter()


def run_mce_irl(
    env: str | TabularModel,
    config: MCEIRLConfig | None = None,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    tensorboard_log: str | Path | None = None,
) -> MCEIRLResult:
    """Recover a reward from an expert's demonstrations with imitation's MCE IRL, and score it (see the module's docstring).

    :param env: a toy-text env id, or a model from :func:`sb3_behave.irl.tabular_model`
    :param config: the settings (default: :class:`MCEIRLConfig`'s)
    :param env_kwargs: keyword arguments of ``gym.make`` (with an env id)
    :param progress: show a progress bar over the iterations
    :param tensorboard_log: write MCEIRL's log (occupancy gap, weight and gradient norms per iteration)
        to TensorBoard in this folder
    :return: the recovered reward and the returns
    """
    import time

    import torch as th
    from imitation.algorithms.mce_irl import MCEIRL, mce_occupancy_measures
    from imitation.rewards.reward_nets import BasicRewardNet
    from imitation.util.logger import HierarchicalLogger
    from stable_baselines3.common.logger import Logger, make_output_format

    config = config or MCEIRLConfig()
    model = env if isinstance(env, TabularModel) else tabular_model(env, horizon=config.horizon, **(env_kwargs or {}))
    true_reward = model.reward
    scale = float(np.abs(true_reward).max()) or 1.0
    expert_pi = soft_optimal_policy(model, config.expert_beta * true_reward / scale, config.discount)
    expert_return = expected_return(model, expert_pi)
    random_return = expected_return(model, uniform_policy(model))

    demo_return = None
    if config.demos == 0:
        _, demonstrations = mce_occupancy_measures(model.pomdp, pi=expert_pi, discount=config.discount)
    else:
        demonstrations = sample_demonstrations(model, expert_pi, config.demos, seed=config.seed)
        demo_return = float(np.mean([true_reward[np.asarray(t.obs[1:], dtype=int)].sum() for t in demonstrations]))

    th.manual_seed(config.seed)
    pomdp = model.pomdp
    reward_net = BasicRewardNet(
        pomdp.observation_space, pomdp.action_space, use_action=False, use_next_state=False, use_done=False, hid_sizes=()
    )
    writer = _iteration_writer(None)
    formats = [writer]
    if tensorboard_log is not None:
        formats.append(make_output_format("tensorboard", str(tensorboard_log)))
    # MCEIRL logs its occupancy gap and gradient norm at each iteration (log_interval=1) to ``writer``.
    logger = HierarchicalLogger(Logger(None, formats), format_strs=())
    trainer = MCEIRL(
        demonstrations,
        pomdp,
        reward_net,
        rng=np.random.default_rng(config.seed),
        optimizer_kwargs={"lr": config.learning_rate},
        discount=config.discount,
        linf_eps=config.linf_eps,
        grad_l2_eps=config.grad_l2_eps,
        log_interval=1,
        custom_logger=logger,
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = writer.bar = tqdm(total=config.iterations, desc="MCE IRL", unit="it", leave=False)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():  # imitation takes the norm of tensors that require grad
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            trainer.train(max_iter=config.iterations)
    finally:
        if bar is not None:
            bar.close()
        logger.close()
    seconds = time.perf_counter() - start
    linf_delta = float(writer.last.get("linf_delta", np.nan))
    converged = linf_delta <= config.linf_eps or float(writer.last.get("grad_norm", np.inf)) <= config.grad_l2_eps

    with th.no_grad():
        observations = th.as_tensor(pomdp.observation_matrix, dtype=reward_net.dtype, device=reward_net.device)
        reward = reward_net(observations, None, None, None).reshape(-1).cpu().numpy().astype(float)
    learned_return = expected_return(model, soft_optimal_policy(model, reward, config.discount))
    return MCEIRLResult(
        model=model,
        config=config,
        reward=reward,
        expert_return=expert_return,
        learned_return=learned_return,
        random_return=random_return,
        demo_return=demo_return,
        iterations=writer.count,
        converged=converged,
        linf_delta=linf_delta,
        seconds=seconds,
    )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


__all__ = [
    "MCEIRLConfig",
    "MCEIRLResult",
    "expected_return",
    "run_mce_irl",
    "sample_demonstrations",
    "soft_optimal_policy",
    "uniform_policy",
]
