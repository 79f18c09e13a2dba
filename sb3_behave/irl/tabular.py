"""The tabular model of a gymnasium toy-text env (FrozenLake, CliffWalking, Taxi), built from its own ``P`` table.

A toy-text env publishes its dynamics as ``env.unwrapped.P[s][a] = [(prob, next_state, reward,
terminated), ...]``. :func:`tabular_model` turns that table into the finite-horizon model that
imitation's MCE IRL plans in (seals' ``TabularModelPOMDP``, with one-hot observations):

- **state-only reward.** MCE IRL learns a reward per state, so the env's reward, given per transition,
  is written as the reward of *arriving* in a state. Where one state is reached with different
  rewards (CliffWalking: the start cell, by a step (-1) or by a fall off the cliff (-100); Taxi: any
  state, by a move (-1) or by an illegal pick-up or drop-off (-10)), the model adds an *alias* of that
  state per extra reward: the alias moves on exactly as the state does, so the model's returns are the
  env's returns, exactly.
- **termination.** A state that the env enters with ``terminated=True`` (FrozenLake's goal and holes,
  CliffWalking's goal, Taxi's delivered passenger) leads, whatever the action, to one absorbing *end*
  state of zero reward: after termination nothing is earned.
- **finite horizon.** Every episode lasts ``horizon`` steps (the env's time limit by default).

The reward of the state an episode starts in is not earned (nothing was arrived at): returns here
are sums over the states reached after each of the ``horizon`` actions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

#: The horizon of an env that has no time limit (CliffWalking).
DEFAULT_HORIZON = 100


@dataclasses.dataclass(frozen=True)
class GridLayout:
    """Where the states of a grid env lie, for heat maps.

    :param shape: rows and columns of the grid
    :param labels: a letter per cell: ``S`` start, ``G`` goal, ``H`` hole, ``C`` cliff, ``F`` or ``""`` otherwise
    :param cell_states: for each cell (row-major), the model state whose reward it shows (``-1``: none)
    """

    shape: tuple[int, int]
    labels: tuple[str, ...]
    cell_states: np.ndarray


@dataclasses.dataclass(frozen=True)
class TabularModel:
    """A toy-text env as a tabular, finite-horizon model with a state-only reward (see the module's docstring).

    :param env_id: the env id
    :param env_kwargs: the keyword arguments the env was made with
    :param pomdp: seals' ``TabularModelPOMDP`` that imitation's MCE IRL takes: ``transition_matrix``
        ``(S, A, S)``, one-hot ``observation_matrix`` ``(S, S)``, ``reward_matrix`` (the true reward
        per state, ``(S,)``), ``horizon`` and ``initial_state_dist``
    :param n_env_states: the env's own number of states (model states ``0 .. n_env_states - 1`` are
        the env's states, in its order; aliases follow, then the end state)
    :param base_state: for each model state, the env state it stands for (``-1`` for the end state)
    :param end_state: the absorbing end state (the last one)
    :param terminal_states: the env states entered with ``terminated=True``
    :param reachable: for each model state, whether some policy reaches it from the start
    :param state_names: a short name per model state (``"3"``, ``"36 (reward -100)"``, ``"end"``)
    :param grid: the grid of FrozenLake and CliffWalking (``None`` for Taxi and other envs)
    """

    env_id: str
    env_kwargs: dict[str, Any]
    pomdp: Any
    n_env_states: int
    base_state: np.ndarray
    end_state: int
    terminal_states: np.ndarray
    reachable: np.ndarray
    state_names: tuple[str, ...]
    grid: GridLayout | None

    @property
    def n_states(self) -> int:
        """Number of model states (env states, aliases and the end state)."""
        return int(self.pomdp.state_dim)

    @property
    def n_actions(self) -> int:
        """Number of actions."""
        return int(self.pomdp.action_dim)

    @property
    def horizon(self) -> int:
        """Steps per episode."""
        return int(self.pomdp.horizon)

    @property
    def reward(self) -> np.ndarray:
        """The true reward of arriving in each model state, ``(S,)``."""
        return np.asarray(self.pomdp.reward_matrix)

    @property
    def transition_matrix(self) -> np.ndarray:
        """``T[s, a, s']``, ``(S, A, S)``."""
        return np.asarray(self.pomdp.transition_matrix)


def transition_table(env_id: str, env_kwargs: dict[str, Any] | None = None) -> tuple[Any, dict, np.ndarray]:
    """Make the env and return it with its ``P`` table and initial state distribution.

    :param env_id: a toy-text env id (``FrozenLake-v1``, ``CliffWalking-v1`` or ``-v0`` on gymnasium 0.29, ``Taxi-v4``/``-v3``)
    :param env_kwargs: keyword arguments of ``gym.make`` (``is_slippery``, ``map_name``, ...)
    :return: ``(unwrapped env, P, initial state distribution)``
    :raises ValueError: the env is not tabular (no Discrete observations and actions, or no ``P`` table)
    """
    import gymnasium as gym

    from sb3_behave.registration import make_env

    env = make_env(env_id, env_kwargs)  # a misspelt kwarg or an unknown id: one line naming it
    unwrapped = env.unwrapped
    env.close()
    table = getattr(unwrapped, "P", None)
    obs_space, act_space = unwrapped.observation_space, unwrapped.action_space
    if not isinstance(obs_space, gym.spaces.Discrete) or not isinstance(act_space, gym.spaces.Discrete) or table is None:
        has_table = ", a transition table" if table is not None else " and no transition table"
        raise ValueError(
            f"--env {env_id}: is not a tabular env (it has {type(obs_space).__name__} observations, "
            f"{type(act_space).__name__} actions{has_table}): "
            "MCE IRL needs Discrete observations and actions and a transition table env.unwrapped.P[s][a] "
            "(gymnasium's toy-text envs: FrozenLake, CliffWalking, Taxi)"
        )
    n = int(obs_space.n)
    initial = getattr(unwrapped, "initial_state_distrib", None)
    if initial is None:  # no published distribution: the state reset() gives (toy-text envs start from one)
        state, _ = unwrapped.reset(seed=0)
        initial = np.eye(n)[int(state)]
    initial = np.asarray(initial, dtype=float)
    if initial.shape != (n,) or not np.isclose(initial.sum(), 1.0):
        raise ValueError(
            f"--env {env_id}: its initial state distribution has shape {initial.shape}, expected ({n},) summing to 1"
        )
    return unwrapped, table, initial / initial.sum()


def _grid_layout(
    unwrapped: Any, n_states: int, initial: np.ndarray, terminal: set[int], cliff_state: int | None
) -> GridLayout | None:
    """The grid of FrozenLake (``desc``) or CliffWalking (``shape``); ``None`` for other envs."""
    desc = getattr(unwrapped, "desc", None)
    cell_states = np.arange(n_states)
    if desc is not None and np.asarray(desc).size == n_states:  # FrozenLake (Taxi's desc is its map, not its states)
        desc = np.asarray(desc)
        labels = tuple(c.decode() if isinstance(c, bytes) else str(c) for c in desc.ravel())
        return GridLayout(shape=(int(desc.shape[0]), int(desc.shape[1])), labels=labels, cell_states=cell_states)
    shape = getattr(unwrapped, "shape", None)
    if shape is None or len(shape) != 2 or int(np.prod(shape)) != n_states:
        return None
    rows, cols = int(shape[0]), int(shape[1])
    labels = ["" for _ in range(n_states)]
    start = int(np.argmax(initial))
    for s in terminal:
        labels[s] = "G"
    labels[start] = "S"
    if type(unwrapped).__name__ == "CliffWalkingEnv":  # the cells between start and goal on the bottom row
        cell_states = cell_states.copy()
        for col in range(1, cols - 1):
            cell = (rows - 1) * cols + col
            labels[cell] = "C"
            cell_states[cell] = -1 if cliff_state is None else cliff_state
    return GridLayout(shape=(rows, cols), labels=tuple(labels), cell_states=cell_states)


def _reachable(transitions: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """States that some sequence of actions reaches from the initial distribution."""
    reached = initial > 0
    step = transitions.max(axis=1) > 0  # (S, S'): some action leads from S to S'
    while True:
        grown = reached | step[reached].any(axis=0)
        if (grown == reached).all():
            return reached
        reached = grown


def tabular_model(env_id: str, horizon: int | None = None, **env_kwargs: Any) -> TabularModel:
    """Build the tabular model of a toy-text env from its ``P`` table (see the module's docstring).

    :param env_id: a toy-text env id, as the installed gymnasium registers it (``FrozenLake-v1``;
        ``CliffWalking-v1`` and ``Taxi-v4`` on gymnasium 1.x, ``CliffWalking-v0`` and ``Taxi-v3`` on 0.29)
    :param horizon: steps per episode (default: the env's time limit, else :data:`DEFAULT_HORIZON`)
    :param env_kwargs: keyword arguments of ``gym.make`` (``is_slippery=False``, ``map_name="8x8"``, ...)
    :return: the model
    :raises ValueError: the env is not tabular, or the horizon is not a whole number >= 1
    """
    import gymnasium as gym
    from seals.base_envs import TabularModelPOMDP

    unwrapped, table, initial = transition_table(env_id, env_kwargs)
    if horizon is None:
        spec = gym.spec(env_id)
        horizon = int(spec.max_episode_steps) if spec.max_episode_steps else DEFAULT_HORIZON
    if int(horizon) < 1:
        raise ValueError(f"horizon: expected a whole number >= 1, got {horizon}")
    n = int(unwrapped.observation_space.n)
    n_actions = int(unwrapped.action_space.n)

    # The reward of arriving in each state; which states terminate (entered with terminated=True).
    # The rows of terminal states are never used (FrozenLake's loop on its goal and holes).
    terminal = {int(t[1]) for s in range(n) for a in range(n_actions) for t in table[s][a] if t[0] > 0 and t[3]}
    # Only states that the env can be in count (Taxi's table also moves unreachable states about).
    live, frontier = set(), [s for s in range(n) if initial[s] > 0]
    while frontier:
        s = frontier.pop()
        if s in live:
            continue
        live.add(s)
        if s not in terminal:
            frontier += [int(t[1]) for a in range(n_actions) for t in table[s][a] if t[0] > 0]
    arrivals: dict[int, list[float]] = {}
    for s in sorted(live - terminal):
        for a in range(n_actions):
            for prob, next_state, reward, _ in table[s][a]:
                rewards = arrivals.setdefault(int(next_state), [])
                if prob > 0 and float(reward) not in rewards:
                    rewards.append(float(reward))
    # A state's own reward is the env's most common reward (the plain step: -1 on CliffWalking and
    # Taxi) when the state is reached with it, else the first one seen; each further reward gets an alias.
    counts: dict[float, int] = {}
    for rewards in arrivals.values():
        for r in rewards:
            counts[r] = counts.get(r, 0) + 1
    usual = max(counts, key=lambda r: counts[r]) if counts else 0.0
    primary = {s: usual if usual in rewards else rewards[0] for s, rewards in arrivals.items()}
    aliases: dict[tuple[int, float], int] = {}
    names = [str(s) for s in range(n)]
    base = list(range(n))
    for s in sorted(arrivals):
        for reward in arrivals[s]:
            if reward != primary[s]:
                aliases[(s, reward)] = n + len(aliases)
                names.append(f"{s} (reward {reward:g})")
                base.append(s)
    end = n + len(aliases)
    names.append("end")
    base.append(-1)
    n_model = end + 1

    def target(next_state: int, reward: float) -> int:
        return aliases.get((next_state, float(reward)), next_state)

    transitions = np.zeros((n_model, n_actions, n_model))
    for s in range(n):
        if s in terminal:
            continue
        for a in range(n_actions):
            for prob, next_state, reward, _ in table[s][a]:
                transitions[s, a, target(int(next_state), reward)] += prob
    for alias, s in enumerate(base[n:end], start=n):  # an alias moves on as its state does
        transitions[alias] = transitions[s]
    for s in range(end):  # termination: on to the absorbing end state, whatever the action
        if base[s] in terminal:
            transitions[s] = 0.0
            transitions[s, :, end] = 1.0
    transitions[end, :, end] = 1.0
    sums = transitions.sum(axis=2)
    if not np.allclose(sums, 1.0, atol=1e-6):
        s, a = np.argwhere(~np.isclose(sums, 1.0, atol=1e-6))[0]
        raise ValueError(f"--env {env_id}: P[{s}][{a}] has probabilities summing to {sums[s, a]:.6f}, expected 1")
    transitions /= sums[:, :, None]

    reward = np.zeros(n_model)
    for s, r in primary.items():
        reward[s] = r
    for (_, r), alias in aliases.items():
        reward[alias] = r
    initial_model = np.zeros(n_model)
    initial_model[:n] = initial
    cliff_state = next(iter(aliases.values()), None) if type(unwrapped).__name__ == "CliffWalkingEnv" else None
    pomdp = TabularModelPOMDP(
        transition_matrix=transitions,
        observation_matrix=np.eye(n_model, dtype=np.float32),
        reward_matrix=reward,
        horizon=int(horizon),
        initial_state_dist=initial_model,
    )
    return TabularModel(
        env_id=env_id,
        env_kwargs=dict(env_kwargs),
        pomdp=pomdp,
        n_env_states=n,
        base_state=np.asarray(base),
        end_state=end,
        terminal_states=np.asarray(sorted(terminal), dtype=int),
        reachable=_reachable(transitions, initial_model),
        state_names=tuple(names),
        grid=_grid_layout(unwrapped, n, initial, terminal, cliff_state),
    )


__all__ = ["DEFAULT_HORIZON", "GridLayout", "TabularModel", "tabular_model", "transition_table"]
