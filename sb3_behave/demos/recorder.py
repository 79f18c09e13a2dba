"""A gymnasium wrapper that records every episode, whoever plays, into the demo folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from imitation.data.types import TrajectoryWithRew

from sb3_behave.demos.episodes import PathLike, json_safe, parse_metadata
from sb3_behave.demos.storage import check_folder_accepts, episode_metadata, write_episode


class RecordDemonstrations(gym.Wrapper):
    """Record each episode of ``env`` as one file in ``folder`` the moment it ends.

    Works whatever drives the env: a person, an SB3 model, the scripted expert, a random policy.
    Episodes become imitation's ``TrajectoryWithRew`` with ``terminal`` set only for real
    terminations (a time-limit truncation is not terminal), and are written atomically with
    their metadata (see :mod:`sb3_behave.demos.storage`). If the process dies, only the episode
    in progress is lost.

    :param env: the env to record (its ``spec`` gives the env id and kwargs saved with each episode)
    :param folder: the demonstration folder (created if needed); one that already holds episodes of
        another env id or other env kwargs is refused
    :param player: who plays: a person's name or a policy's description
    :param skill: a skill label such as ``"poor"``, ``"medium"`` or ``"strong"``
    :param save_incomplete: also save an episode cut short by ``reset()`` or ``close()`` (as not
        terminal, with ``"interrupted": true`` in its metadata)
    :param metadata: more JSON-serialisable entries saved with every episode

    Each step records the action it executes, unless :meth:`label_next_step` gave another one
    (DART: the expert's action, while the env executes a perturbed one).
    """

    def __init__(
        self,
        env: gym.Env,
        folder: PathLike,
        player: str = "unknown",
        skill: str | None = None,
        save_incomplete: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(env)
        # What the loader would refuse is refused before anything is played.
        parse_metadata("RecordDemonstrations", json.dumps(json_safe({"player": player, "skill": skill, **(metadata or {})})))
        check_folder_accepts(folder, env)
        self.folder = Path(folder)
        self.player = player
        self.skill = skill
        self.save_incomplete = save_incomplete
        self.extra_metadata = dict(metadata or {})
        self.saved: list[Path] = []  #: files written so far, in order
        self._obs: list[np.ndarray] = []
        self._acts: list[np.ndarray] = []
        self._rews: list[float] = []
        self._seed: int | None = None
        self._last_info: dict[str, Any] = {}
        self._label: np.ndarray | None = None
        self._dart: float | None = None
        self._perturbed = 0

    @property
    def steps(self) -> int:
        """Steps of the episode in progress (0 right after ``reset()``)."""
        return len(self._acts)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if self._acts and self.save_incomplete:
            self._save(terminated=False, truncated=False, interrupted=True)
        obs, info = self.env.reset(seed=seed, options=options)
        self._seed = seed
        self._clear()
        self._obs = [np.array(obs, copy=True)]
        self._last_info = info
        return obs, info

    def label_next_step(self, label: Any, dart: float | None = None) -> None:
        """Record ``label`` as the action of the next step, whatever action the env executes.

        For DART (see :func:`~sb3_behave.demos.record.play_episodes`): the label is the expert's
        action and the env executes a perturbed one.

        :param label: the action to record
        :param dart: the scale of the DART noise that made the executed action: the episode's
            metadata then holds ``"dart": {"sigma", "perturbed_steps", "perturbed_fraction"}``,
            a step counting as perturbed when the executed action differs from its label
        """
        self._label = np.array(label, copy=True)
        if dart is not None:
            self._dart = float(dart)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if not self._obs:
            raise RuntimeError("RecordDemonstrations: call reset() before step()")
        executed = np.array(action, copy=True)
        label, self._label = (executed if self._label is None else self._label), None
        if not np.array_equal(label, executed):
            self._perturbed += 1
        self._acts.append(label)
        self._rews.append(float(reward))
        self._obs.append(np.array(obs, copy=True))
        self._last_info = info
        if terminated or truncated:
            self._save(terminated=bool(terminated), truncated=bool(truncated), interrupted=False)
        return obs, reward, terminated, truncated, info

    def _save(self, terminated: bool, truncated: bool, interrupted: bool) -> None:
        trajectory = TrajectoryWithRew(
            obs=np.stack(self._obs),
            acts=np.stack(self._acts),
            infos=None,
            terminal=terminated,
            rews=np.asarray(self._rews, dtype=np.float32),
        )
        score = self._last_info.get("score")
        dart = None
        if self._dart is not None:
            fraction = self._perturbed / len(self._acts)
            dart = {"sigma": self._dart, "perturbed_steps": self._perturbed, "perturbed_fraction": fraction}
        metadata = episode_metadata(
            self.env,
            seed=self._seed,
            score=None if score is None else float(score),
            length=len(self._acts),
            terminated=terminated,
            truncated=truncated,
            interrupted=interrupted,
            player=self.player,
            skill=self.skill,
            **{"return": float(np.sum(self._rews))},
            **({"dart": dart} if dart is not None else {}),
            **self.extra_metadata,
        )
        self.saved.append(write_episode(self.folder, trajectory, metadata))
        self._clear()

    def _clear(self) -> None:
        self._obs, self._acts, self._rews = [], [], []
        self._label, self._dart, self._perturbed = None, None, 0

    def close(self) -> None:
        if self._acts and self.save_incomplete:
            self._save(terminated=False, truncated=False, interrupted=True)
        self._clear()
        super().close()
