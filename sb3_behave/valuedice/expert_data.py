"""ValueDICE's expert data: the demonstrations as transitions, with absorbing states, and their statistics.

An episode that really terminated (not cut by a time limit) ends in an absorbing state that loops
on itself, marked by an extra indicator input, as in the paper's code (and DAC's); the expert's
observation mean and standard deviation normalize the networks' inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from imitation.data.types import Trajectory


@dataclass(frozen=True)
class ExpertTransitions:
    """Expert transitions as flat arrays of *raw states* (observation, then the absorbing indicator).

    :param states: ``(N, state_dim)`` states s
    :param actions: ``(N, *action_shape)`` actions a, as in the demonstrations (zeros at the absorbing state)
    :param next_states: ``(N, state_dim)`` next states s'
    :param initial_states: ``(M, state_dim)`` the first state of every trajectory
    """

    states: np.ndarray
    actions: np.ndarray
    next_states: np.ndarray
    initial_states: np.ndarray


def absorbing_state(obs_dim: int) -> np.ndarray:
    """The absorbing state as a raw state: ``obs_dim`` zeros, then the indicator 1.

    :param obs_dim: size of a flattened observation
    """
    state = np.zeros(obs_dim + 1, dtype=np.float32)
    state[-1] = 1.0
    return state


def really_terminated(trajectory: Trajectory) -> bool:
    """Whether a trajectory ended by a real termination, not by a time limit.

    ``terminal`` must be set, and the last ``info`` (if any) must not say ``TimeLimit.truncated``
    (imitation's rollouts set ``terminal`` at time limits too and keep that flag in the infos).

    :param trajectory: an imitation trajectory
    """
    if not trajectory.terminal:
        return False
    infos = trajectory.infos
    return not (infos is not None and len(infos) > 0 and bool(infos[-1].get("TimeLimit.truncated", False)))


def expert_transitions(trajectories: Sequence[Trajectory], absorbing: bool = True) -> ExpertTransitions:
    """Flatten trajectories into transitions, with absorbing states for real terminations.

    Every trajectory gives its T transitions ``(o_t, a_t, o_{t+1})``, observations flattened.
    With ``absorbing``, states get an indicator column (0), and a trajectory that *really*
    terminated (:func:`really_terminated`) ends differently: its last transition leads to the
    absorbing state instead of the terminal observation (nothing happens after that observation,
    so it is not a state the agent acts in), and one transition ``(absorbing, 0, absorbing)`` is
    appended: the absorbing state loops on itself forever. A trajectory cut by a time limit is
    never absorbing: its last transition keeps the real next observation.

    :param trajectories: demonstrations (``obs`` has one more entry than ``acts``)
    :param absorbing: add the indicator column and the absorbing transitions
    """
    states, actions, next_states, initial = [], [], [], []
    for trajectory in trajectories:
        obs = np.asarray(trajectory.obs, dtype=np.float32).reshape(len(trajectory.obs), -1)
        acts = np.asarray(trajectory.acts)
        if absorbing:
            obs = np.concatenate([obs, np.zeros((len(obs), 1), dtype=np.float32)], axis=1)
        s, a, s1 = obs[:-1], acts, obs[1:].copy()
        if absorbing and really_terminated(trajectory):
            end = absorbing_state(obs.shape[1] - 1)
            s1[-1] = end  # the terminating transition leads to the absorbing state ...
            s = np.concatenate([s, end[None]])  # ... which loops on itself, whatever the action
            a = np.concatenate([a, np.zeros_like(a[:1])])
            s1 = np.concatenate([s1, end[None]])
        states.append(s)
        actions.append(a)
        next_states.append(s1)
        initial.append(obs[0])
    return ExpertTransitions(np.concatenate(states), np.concatenate(actions), np.concatenate(next_states), np.stack(initial))


def expert_statistics(trajectories: Sequence[Trajectory]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of all expert observations (flattened), the std kept away from zero.

    ``std + 1e-3`` as in the paper's code; a feature that is constant in the demonstrations gets
    std 1 (dividing by 1e-3 would blow up any state where it differs).

    :param trajectories: the demonstrations
    """
    obs = np.concatenate([np.asarray(t.obs, dtype=np.float64).reshape(len(t.obs), -1) for t in trajectories])
    mean, std = obs.mean(axis=0), obs.std(axis=0)
    return mean.astype(np.float32), np.where(std < 1e-6, 1.0, std + 1e-3).astype(np.float32)
