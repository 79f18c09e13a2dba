"""A person's preferences about a given agent, without training: what ``sb3-behave compare`` runs.

The agent (``random``, ``scripted``, a model ``.zip`` or an RL Zoo run folder) plays; random pairs
of fragments of its episodes are shown in the comparison window; each answer is written into the
output folder when it is given. A folder that already holds answers is resumed: only the queries
left are asked.
"""

from __future__ import annotations

import math
import tempfile
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from sb3_behave.demos.episodes import env_kwargs as env_kwargs_of
from sb3_behave.outputs import PathLike
from sb3_behave.preferences.frames import DEFAULT_FRAME_HEIGHT, RenderedFrames, check_renders_frames, shrink
from sb3_behave.preferences.gatherer import PersonGatherer
from sb3_behave.preferences.reward import PairFragmenter, preference_accuracy, train_reward_model
from sb3_behave.preferences.storage import FragmentPair, answer_files, check_preferences_folder, load_preferences
from sb3_behave.preferences.window import ComparisonStopped, check_window_settings
from sb3_behave.stack import require_pygame


def make_rendering_env(env_id: str, env_kwargs: dict[str, Any] | None = None, max_episode_steps: int | None = None) -> Any:
    """``env_id`` made with ``render_mode="rgb_array"``, its frames checked.

    :param env_id: the env (a registered id)
    :param env_kwargs: keyword arguments of ``gym.make``
    :param max_episode_steps: override the env's time limit
    :return: the env
    :raises ValueError: one line: the env cannot render ``rgb_array`` frames
    """
    from sb3_behave.registration import make_env

    probe = make_env(env_id, env_kwargs, max_episode_steps)
    try:
        modes = list(probe.metadata.get("render_modes") or [])
    finally:
        probe.close()
    if "rgb_array" not in modes:
        raise ValueError(
            f"{env_id} cannot be shown to a person: it does not render rgb_array frames (its render modes: "
            f"{', '.join(modes) or 'none'})"
        )
    env = make_env(env_id, env_kwargs, max_episode_steps, render_mode="rgb_array")
    try:
        check_renders_frames(env, env_id)
    except BaseException:
        env.close()
        raise
    return env


def auto_answer(frame: int, pair: FragmentPair, at_frame: int = 2) -> None:
    """Demo mode: at frame ``at_frame`` of a query, press the key the env reward prefers (posted pygame events).

    LEFT when the left fragment's return is larger, RIGHT when smaller, DOWN when equal. It lets
    one try the window, the files and the reward model without a person at the keyboard.

    :param frame: the index of the frame shown (``on_frame``'s first argument)
    :param pair: the two fragments shown
    :param at_frame: the frame at which the key is pressed
    """
    import pygame

    if frame != at_frame:
        return
    left, right = (float(np.sum(fragment.rews)) for fragment in pair)
    key = pygame.K_LEFT if left > right else pygame.K_RIGHT if left < right else pygame.K_DOWN
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


#: What the answers made by :func:`auto_answer` say answered them (their metadata's ``answered_by``).
auto_answer.answered_by = "the env reward (--auto-answer)"  # type: ignore[attr-defined]


def compare(
    env_id: str,
    out: PathLike,
    agent: str = "random",
    algo: str | None = None,
    queries: int = 20,
    fragment_length: int = 50,
    transition_oversampling: float = 1.5,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    max_episode_steps: int | None = None,
    fps: float = 15.0,
    clip_height: int = 320,
    frame_height: int = DEFAULT_FRAME_HEIGHT,
    on_frame: Callable[[int, FragmentPair], None] | None = None,
    verbose: int = 1,
) -> dict[str, Any]:
    """A person compares pairs of fragments of ``agent``'s episodes; every answer is saved into ``out`` when given.

    :param env_id: the env (it must render ``rgb_array`` frames)
    :param out: the preferences folder (created; one that holds answers is resumed)
    :param agent: ``"random"``, ``"scripted"`` (Flappy Bird), a model ``.zip`` or an RL Zoo run folder
    :param algo: the algorithm of a model ``.zip`` (default ``ppo``) or zoo folder (default: inferred)
    :param queries: answers wanted in ``out`` in all (those already there count)
    :param fragment_length: steps per fragment
    :param transition_oversampling: the agent plays this many times the steps the fragments need
    :param seed: seed of the env, the agent's random play and the choice of fragments
    :param env_kwargs: keyword arguments of ``gym.make``
    :param max_episode_steps: override the env's time limit
    :param fps: frames per second of the clips
    :param clip_height: height of each clip on screen
    :param frame_height: frames are kept at most this high (memory)
    :param on_frame: called as ``on_frame(frame_index, pair)`` before each frame's events are read
        (:func:`auto_answer` for a demo without a person)
    :param verbose: 1 prints the progress line of each query
    :return: ``{"answered": answers in out, "new": given now, "skipped": ..., "left": ..., "stopped": bool}``, and
        ``"interrupted": True`` when Ctrl-C (a ``KeyboardInterrupt``) stopped it; the answers given are kept
    """
    from gymnasium.wrappers import TimeLimit
    from imitation.util import logger as imit_logger
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sb3_behave.agents import make_policy

    require_pygame("the comparison window")  # before any clip is cut: they are drawn, then shown in the window
    if fragment_length < 1:
        raise ValueError(f"fragment_length must be a positive integer, got {fragment_length}")
    if queries < 1:
        raise ValueError(f"queries must be a positive integer, got {queries}")
    check_window_settings(fps, clip_height)  # before the agent plays
    check_preferences_folder(out)
    before = len(answer_files(out))
    left = max(queries - before, 0)
    summary = {"answered": before, "new": 0, "skipped": 0, "left": left, "stopped": False}
    env = make_rendering_env(env_id, env_kwargs, max_episode_steps)
    gatherer = None
    try:  # the env (and the window) are closed whatever fails
        load_preferences(out, env=env)  # the answers already there: readable, and about this env (no mixing)
        if left == 0:
            return summary
        policy, description = make_policy(agent, env, algo=algo, seed=seed, flag="--agent")
        steps_per_query = math.ceil(transition_oversampling * 2 * fragment_length)
        per_round = _queries_per_round(env, frame_height, steps_per_query, left, fragment_length)
        # A good agent's game can last thousands of steps, each one a frame kept: a game is cut at what a round needs.
        cap = steps_per_query * per_round
        venv = RenderedFrames(DummyVecEnv([lambda: TimeLimit(env, max_episode_steps=cap)]), max_height=frame_height)
        venv.seed(seed)
        quiet = imit_logger.configure(tempfile.mkdtemp(prefix="sb3-behave-compare-"), format_strs=())
        answered_by = getattr(on_frame, "answered_by", "person")  # auto_answer says it is no person
        gatherer = PersonGatherer(
            out,
            total=queries,
            fps=fps,
            clip_height=clip_height,
            on_frame=on_frame,
            metadata={
                "env_id": env_id,
                "env_kwargs": env_kwargs_of(env.spec),
                "agent": description,
                "fragment_length": fragment_length,
                "answered_by": answered_by,
            },
            verbose=verbose,
            custom_logger=quiet,
        )
        rng = np.random.default_rng(seed)
        try:
            while left > 0:  # rounds of at most per_round queries: the frames of one round are kept, not all
                wanted = min(left, per_round)
                pairs = _play_pairs(
                    policy, venv, gatherer, rng, wanted, steps_per_query, fragment_length, description, quiet, verbose
                )
                gatherer(pairs)
                left -= wanted  # each pair is asked once: a skipped one is not asked again
        except ComparisonStopped:
            summary["stopped"] = True
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM where the command turns it into one: the answers are kept
            summary["stopped"] = summary["interrupted"] = True
    finally:
        if gatherer is not None:
            gatherer.close()
        env.close()  # closing the env the DummyVecEnv holds closes everything the agent played in
    answered = len(answer_files(out))
    summary.update(answered=answered, new=answered - before, skipped=gatherer.skipped, left=max(queries - answered, 0))
    return summary


#: The most queries asked from one round of play (the first clips come sooner; later rounds play on).
QUERIES_PER_ROUND = 5


def _queries_per_round(env: Any, frame_height: int, steps_per_query: int, left: int, fragment_length: int) -> int:
    """How many queries one round may ask: one query's frames must fit the memory budget of one file, a round's a quarter."""
    from sb3_behave.limits import check_claim, max_read_bytes

    env.reset()
    frame_bytes = shrink(np.asarray(env.render()), frame_height).nbytes
    check_claim(
        f"compare --fragment-length {fragment_length}",
        steps_per_query * frame_bytes,
        f"the frames the agent plays for one query ({steps_per_query:,} of {frame_bytes:,} bytes)",
    )
    round_bytes = max_read_bytes() // 4  # the frames of a round: a quarter of the budget, beside the agent and the window
    return max(1, min(QUERIES_PER_ROUND, left, round_bytes // (steps_per_query * frame_bytes)))


def _play_pairs(
    policy: Any,
    venv: Any,
    gatherer: Any,
    rng: np.random.Generator,
    wanted: int,
    steps_per_query: int,
    fragment_length: int,
    description: str,
    quiet: Any,
    verbose: int,
) -> list[FragmentPair]:
    """The agent plays enough steps for ``wanted`` queries (shown in the window); pairs of fragments of its episodes."""
    from imitation.data import rollout

    steps = steps_per_query * wanted
    bar = tqdm(total=steps, desc="the agent plays to make the clips", unit="step", disable=not verbose, leave=False)

    def act(observations: Any, state: Any, episode_start: Any) -> tuple[np.ndarray, None]:
        bar.update(len(observations))
        message = f"the agent plays to make the clips: {min(bar.n, steps):,} of {steps:,} steps"
        gatherer.window.idle(message, open_window=True)
        return np.stack([np.asarray(policy(obs)) for obs in observations]), None

    try:
        trajectories = rollout.generate_trajectories(act, venv, rollout.make_sample_until(min_timesteps=steps), rng=rng)
    finally:
        bar.close()
    longest = max(len(t) for t in trajectories)
    if longest < fragment_length:
        raise ValueError(
            f"fragment_length {fragment_length}: every episode of the agent {description!r} is shorter "
            f"(the longest has {longest} steps): choose shorter fragments"
        )
    return PairFragmenter(rng, warning_threshold=0, custom_logger=quiet)(trajectories, fragment_length, wanted)


def reward_model_from_answers(env_id: str, folder: PathLike, epochs: int = 50, seed: int = 0, **env: Any) -> dict[str, Any]:
    """Train imitation's ``BasicRewardNet`` on the answers in ``folder``; its accuracy on them.

    :param env_id: the env the answers are about
    :param folder: the preferences folder
    :param epochs: epochs over the answers
    :param seed: seed
    :param env: ``env_kwargs`` and ``max_episode_steps`` of the env
    :return: ``{"answers": n, "accuracy": fraction of strict answers the model agrees with, "reward_net": net}``
    """
    from sb3_behave.registration import make_env

    probe = make_env(env_id, env.get("env_kwargs"), env.get("max_episode_steps"))
    try:
        pairs, preferences = load_preferences(folder, env=probe)
    finally:
        probe.close()
    if len(pairs) == 0:
        raise ValueError(f"{folder}: holds no answers to train a reward model on")
    net = train_reward_model(pairs, preferences, probe.observation_space, probe.action_space, epochs=epochs, seed=seed)
    return {"answers": len(pairs), "accuracy": preference_accuracy(net, pairs, preferences), "reward_net": net}


__all__ = ["auto_answer", "compare", "make_rendering_env", "reward_model_from_answers"]
