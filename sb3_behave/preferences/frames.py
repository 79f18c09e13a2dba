"""Rendered frames in each step's ``info``: what the comparison window plays back.

imitation's fragments hold observations, actions, rewards and infos; a person compares pictures.
:class:`RenderedFrames` puts a small copy of each env's rendered frame into the step's info (key
:data:`FRAME_KEY`), so every fragment cut from the recorded trajectories carries its clip. It is
used only when a person answers: frames cost memory (a 128-pixel-high frame is about 30 kB).

:class:`RenderingAgentTrainer` (imitation's ``AgentTrainer``) renders only the steps fragments are
cut from: none of the generator's training steps, which may be millions.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from imitation.algorithms.preference_comparisons import AgentTrainer
from imitation.data.types import TrajectoryWithRew
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

#: The info key of a step's frame (uint8, height x width x 3).
FRAME_KEY = "rendered_frame"
#: Frames higher than this are shrunk (by a whole factor, keeping every n-th pixel).
DEFAULT_FRAME_HEIGHT = 128


def shrink(frame: np.ndarray, max_height: int = DEFAULT_FRAME_HEIGHT) -> np.ndarray:
    """``frame`` shrunk by the smallest whole factor that makes it at most ``max_height`` high, as uint8.

    :param frame: an RGB frame, height x width x 3
    :param max_height: the largest height kept
    """
    factor = max(1, math.ceil(frame.shape[0] / max_height))
    return np.ascontiguousarray(np.asarray(frame)[::factor, ::factor, :3], dtype=np.uint8)


def check_renders_frames(env: Any, env_id: str | None = None) -> None:
    """Raise a one-line ``ValueError`` unless ``env`` (an env or VecEnv) renders ``rgb_array`` frames.

    :param env: a gymnasium env or an SB3 VecEnv (its first env is asked)
    :param env_id: the name used in the message (default: the env's spec id)
    :raises ValueError: the env cannot render ``rgb_array`` frames, or was made with another ``render_mode``
    """
    mode = getattr(env, "render_mode", None)
    if isinstance(env, VecEnv):  # a VecEnv says rgb_array for envs made without a render mode: ask one of them
        mode = env.get_attr("render_mode", [0])[0]
    if mode == "rgb_array":
        return
    name = env_id or _env_id(env)
    modes = _render_modes(env)
    if "rgb_array" not in modes:
        raise ValueError(
            f"{name} cannot be shown to a person: it does not render rgb_array frames "
            f"(its render modes: {', '.join(modes) or 'none'})"
        )
    raise ValueError(
        f"{name} was made with render_mode={mode!r}: a person's comparisons need render_mode='rgb_array' "
        "(sb3-behave train: `--env-kwargs render_mode:rgb_array`; in Python: "
        "`make_vec_env(..., env_kwargs={'render_mode': 'rgb_array'})`)"
    )


def _env_id(env: Any) -> str:
    spec = getattr(env, "spec", None)
    if spec is None and isinstance(env, VecEnv):
        try:
            spec = env.get_attr("spec", [0])[0]
        except Exception:
            spec = None
    return spec.id if spec is not None else type(env).__name__


def _render_modes(env: Any) -> list[str]:
    metadata = getattr(env, "metadata", None) or {}
    if isinstance(env, VecEnv):
        try:
            metadata = env.get_attr("metadata", [0])[0] or {}
        except Exception:
            pass
    return list(metadata.get("render_modes") or [])


class RenderedFrames(VecEnvWrapper):
    """Adds each env's rendered frame, shrunk to at most ``max_height`` pixels, to its step's info.

    The frame of a step shows the state after its action; at the end of an episode the VecEnv has
    already reset, so the last frame of an episode shows the next episode's first state. While
    :attr:`rendering` is false, steps pass through without a frame (and nothing is rendered).

    :param venv: a VecEnv whose envs render ``rgb_array`` frames
    :param max_height: the largest height of a kept frame
    :raises ValueError: the envs do not render ``rgb_array`` frames
    """

    def __init__(self, venv: VecEnv, max_height: int = DEFAULT_FRAME_HEIGHT) -> None:
        check_renders_frames(venv)
        super().__init__(venv)
        self.max_height = int(max_height)
        #: Whether steps are rendered now.
        self.rendering = True

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        if not self.rendering:
            return obs, rewards, dones, infos
        for info, frame in zip(infos, self.venv.get_images()):
            if frame is not None:
                info[FRAME_KEY] = shrink(frame, self.max_height)
        return obs, rewards, dones, infos


class RenderingAgentTrainer(AgentTrainer):
    """imitation's ``AgentTrainer`` on a :class:`RenderedFrames` env that renders only the steps fragments come from.

    While the generator trains, nothing is rendered: imitation buffers every training step's info
    until the next ``sample``, and frames of millions of steps would not fit in memory. ``sample``
    drops the steps buffered during training (they have no frames) and plays fresh episodes, from a
    reset of the envs, with rendering on: every fragment cut from them carries its clip. These steps
    are the generator's policy acting (as imitation's own sampling does when its buffer runs short);
    they are not training steps. After sampling, the generator's next training starts from a reset.

    :param algorithm: the generator (an SB3 algorithm)
    :param reward_fn: the reward model (an imitation ``RewardNet``) or reward function
    :param venv: the env, wrapped in :class:`RenderedFrames`
    :param rng: random generator of the exploration and the sampling
    :param kwargs: the other keyword arguments of imitation's ``AgentTrainer`` (``exploration_frac``, ...)
    :raises ValueError: ``venv`` is not a :class:`RenderedFrames`
    """

    def __init__(self, algorithm: Any, reward_fn: Any, venv: RenderedFrames, rng: np.random.Generator, **kwargs: Any) -> None:
        if not isinstance(venv, RenderedFrames):
            raise ValueError(f"RenderingAgentTrainer needs its env wrapped in RenderedFrames, got {type(venv).__name__}")
        self.frames = venv
        venv.rendering = False
        super().__init__(algorithm, reward_fn, venv, rng, **kwargs)

    def train(self, steps: int, **kwargs: Any) -> None:
        """Train the generator ``steps`` env steps on the reward model, without rendering.

        :param steps: env steps of the generator
        :param kwargs: keyword arguments of the generator's ``learn``
        """
        self.frames.rendering = False
        super().train(steps, **kwargs)

    def sample(self, steps: int) -> Sequence[TrajectoryWithRew]:
        """At least ``steps`` steps of fresh, rendered episodes of the generator (and of its exploration).

        :param steps: steps wanted
        :return: the trajectories, whose infos hold each step's frame
        """
        self.buffering_wrapper.pop_finished_trajectories()  # the training's episodes: without frames
        self.frames.rendering = True
        try:
            trajectories = super().sample(steps)
        finally:
            self.frames.rendering = False
        if steps > 0 and hasattr(self.algorithm, "_last_obs"):
            # sampling reset the envs and played on: the generator's last observation is stale. SB3's
            # learn resets the envs when it has none, so its next training starts from a true state.
            self.buffering_wrapper.pop_finished_trajectories()
            self.algorithm._last_obs = None
        return trajectories


def fragment_frames(fragment: Any) -> list[np.ndarray]:
    """The frames of a fragment's steps, from its infos.

    :param fragment: an imitation trajectory (a fragment cut by a fragmenter)
    :return: one uint8 frame (height x width x 3) per step
    :raises ValueError: the fragment was recorded without frames (not through :class:`RenderedFrames`)
    """
    infos = fragment.infos
    if infos is None or len(infos) == 0 or any(FRAME_KEY not in info for info in infos):
        raise ValueError(
            "a fragment without rendered frames: a person's comparisons need trajectories recorded through "
            "sb3_behave.preferences.RenderedFrames (an env rendering rgb_array)"
        )
    return [info[FRAME_KEY] for info in infos]


__all__ = [
    "DEFAULT_FRAME_HEIGHT",
    "FRAME_KEY",
    "RenderedFrames",
    "RenderingAgentTrainer",
    "check_renders_frames",
    "fragment_frames",
    "shrink",
]
