"""People playing: a pygame window, the keyboard as the policy, every episode recorded."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from sb3_behave.demos.episodes import PathLike
from sb3_behave.demos.recorder import RecordDemonstrations
from sb3_behave.registration import FLAPPY_BIRD_ID, make_env
from sb3_behave.stack import require_pygame

HUD_HEIGHT = 44
#: Frames the last frame of a finished episode stays on screen, marked with how it ended (1.5 s at 1x speed).
GAME_OVER_FRAMES = 45


@dataclass(frozen=True)
class KeyMap:
    """Which keys choose which action.

    :param press: key name -> action taken once per key press (Flappy Bird's flap)
    :param hold: key name -> action taken at every frame while the key is held
    :param default: action when no key acts; ``None`` repeats the previous action
    :param help: one line shown in the window
    """

    press: dict[str, int] = field(default_factory=dict)
    hold: dict[str, int] = field(default_factory=dict)
    default: int | None = 0
    help: str = ""


_LUNAR_LANDER = KeyMap(hold={"left": 1, "up": 2, "right": 3}, default=0, help="LEFT/UP/RIGHT engines")

#: Built-in key maps (pygame key names). LunarLander is v2 on gymnasium 0.29 and v3 on gymnasium 1.x,
#: with the same actions.
KEY_MAPS: dict[str, KeyMap] = {
    FLAPPY_BIRD_ID: KeyMap(press={"space": 1, "up": 1}, default=0, help="SPACE/UP flap"),
    "CartPole-v1": KeyMap(hold={"left": 0, "right": 1}, default=None, help="LEFT/RIGHT push"),
    "MountainCar-v0": KeyMap(hold={"left": 0, "right": 2}, default=1, help="LEFT/RIGHT accelerate"),
    "Acrobot-v1": KeyMap(hold={"left": 0, "right": 2}, default=1, help="LEFT/RIGHT torque"),
    "LunarLander-v2": _LUNAR_LANDER,
    "LunarLander-v3": _LUNAR_LANDER,
}


def parse_key_map(text: str) -> KeyMap:
    """A key map from ``"left=0,right=1,default=1"`` (keys held; ``default`` when none is).

    :param text: comma-separated ``key=action`` pairs, pygame key names
    """
    hold: dict[str, int] = {}
    default: int | None = None
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not value.strip().lstrip("-").isdigit():
            raise ValueError(f"--keys: {part!r} is not KEY=ACTION (example: 'left=0,right=1,default=1')")
        if key.strip() == "default":
            default = int(value)
        else:
            hold[key.strip().lower()] = int(value)
    if not hold:
        raise ValueError(f"--keys: {text!r} maps no key")
    return KeyMap(hold=hold, default=default, help="/".join(k.upper() for k in hold))


def key_map_for(env: gym.Env, keys: str | None = None) -> KeyMap:
    """The key map to play ``env`` with, or a ``ValueError`` that says why it cannot be played."""
    space = env.action_space
    env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"{env_id} cannot be played by keyboard: its action space is {space}, "
            "and the keyboard only chooses among Discrete actions"
        )
    key_map = parse_key_map(keys) if keys else KEY_MAPS.get(env_id)
    if key_map is None:
        raise ValueError(f"no key map for {env_id} (Discrete({space.n})): pass --keys such as 'left=0,right=1,default=0'")
    actions = list(key_map.press.values()) + list(key_map.hold.values())
    if key_map.default is not None:
        actions.append(key_map.default)
    bad = [a for a in actions if not space.contains(np.int64(a))]
    if bad:
        raise ValueError(f"key map for {env_id} uses actions {bad} outside {space}")
    return key_map


def play(
    env_id: str,
    record: PathLike | None = None,
    player: str | None = None,
    episodes: int | None = None,
    speed: float = 1.0,
    seed: int | None = None,
    keys: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    max_episode_steps: int | None = None,
    skill: str | None = None,
    on_frame: Callable[[int, gym.Env], None] | None = None,
) -> list[dict[str, Any]]:
    """Play an env with the keyboard in a pygame window, recording every finished episode.

    Each episode waits for the player's first key ("press SPACE to start"), which is also its first
    action. P pauses, ESC (or closing the window) quits; an episode cut short by quitting is not
    saved, and quitting before the first key records nothing.

    :param env_id: the env (Flappy Bird, CartPole-v1, ... or any Discrete env with ``keys``)
    :param record: demonstration folder; ``None`` plays without recording
    :param player: name saved with the episodes (default: the login name)
    :param episodes: stop after this many episodes (default: until ESC)
    :param speed: game speed; below 1 slows the game down for beginners
    :param seed: seed of the first episode (then ``seed + 1``, ...); ``None``: random
    :param keys: a custom key map, ``"left=0,right=1,default=0"``
    :param env_kwargs: keyword arguments of ``gym.make``
    :param max_episode_steps: override the env's time limit
    :param skill: a skill label saved with the episodes
    :param on_frame: called as ``on_frame(frame, env)`` before each frame's events are read
        (tests use it to press keys)
    :return: one summary dict per finished episode (``"episode"`` counts from 1, as the window and the
        terminal do)
    """
    require_pygame("playing in a window")
    import pygame

    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    env: gym.Env = make_env(env_id, env_kwargs, max_episode_steps, render_mode="rgb_array")
    key_map = key_map_for(env, keys)
    player = player or getpass.getuser()
    if record is not None:
        env = RecordDemonstrations(env, record, player=player, skill=skill)
    pygame.display.init()  # no pygame.init(): the game has no sound, and opening the audio device warns without one
    pygame.font.init()
    press = {pygame.key.key_code(k): a for k, a in key_map.press.items()}
    hold = {pygame.key.key_code(k): a for k, a in key_map.hold.items()}
    fps = float(env.metadata.get("render_fps") or 30) * speed
    env.reset(seed=seed)
    frame = env.render()
    pygame.display.set_caption(f"sb3-behave play: {env_id}")  # before the window opens, so it opens with it
    window = pygame.display.set_mode((frame.shape[1], frame.shape[0] + HUD_HEIGHT))
    font = pygame.font.Font(None, 22)
    clock = pygame.time.Clock()
    summaries: list[dict[str, Any]] = []
    episode, frame_index, steps, total, paused, quitting = 1, 0, 0, 0.0, False, False  # episodes count from 1
    game_over = 0  # frames left showing the end of the last episode
    ended = ""
    waiting = True  # each episode starts at the player's first key, not when the window opens
    start_keys = "/".join(k.upper() for k in [*key_map.press, *key_map.hold])
    held: list[int] = []
    pending: int | None = None
    last = key_map.default if key_map.default is not None else 0
    while not quitting:
        if on_frame is not None:
            on_frame(frame_index, env)
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                quitting = True
            elif game_over:
                continue  # the end of an episode is shown, not skipped by a key still held from the game
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_p:
                paused = not paused
            elif event.type == pygame.KEYDOWN and event.key in press:
                pending, waiting = press[event.key], False
            elif event.type == pygame.KEYDOWN and event.key in hold:
                held.append(event.key)
                waiting = False
            elif event.type == pygame.KEYUP and event.key in held:
                held.remove(event.key)
        if quitting:
            break
        frame_index += 1
        if game_over:
            game_over -= 1
            if game_over == 0:
                if episodes is not None and episode > episodes:
                    break
                env.reset(seed=None if seed is None else seed + episode - 1)
                frame = env.render()
                waiting, pending, held = True, None, []
        elif not paused and not waiting:
            if pending is not None:
                action = pending
            elif held:
                action = hold[held[-1]]
            else:
                action = key_map.default if key_map.default is not None else last
            pending, last = None, action
            _, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            steps += 1
            frame = env.render()
            if terminated or truncated:
                saved = env.saved[-1] if isinstance(env, RecordDemonstrations) else None
                summary = {
                    "episode": episode,
                    "score": info.get("score"),
                    "return": total,
                    "length": steps,
                    "ended": "crashed" if terminated else "time limit",
                    "file": str(saved) if saved is not None else None,
                }
                summaries.append(summary)
                print(_summary_line(summary), flush=True)
                ended = _ending(summary)
                game_over = GAME_OVER_FRAMES  # then the next episode (or the end of play)
                episode += 1
                total, steps = 0.0, 0
        if game_over:
            last = summaries[-1]
            _draw(window, font, frame, episode - 1, last["score"], last["return"], player, "", False, "", banner=ended)
        else:
            hint = f"press {start_keys} to start   ESC quit" if waiting else None
            _draw(window, font, frame, episode, info_score(env), total, player, key_map.help, paused, hint)
        clock.tick(fps)
    if quitting and steps > 0:
        print(f"quit: the episode in progress ({steps} frames) was not saved", flush=True)
    env.close()
    pygame.display.quit()
    return summaries


def info_score(env: gym.Env) -> Any:
    """The running score of a Flappy Bird env, else ``None``."""
    return getattr(env.unwrapped, "score", None)


def _ending(summary: dict[str, Any]) -> str:
    """The line the window shows over the last frame of a finished episode."""
    how = "CRASHED" if summary["ended"] == "crashed" else "TIME LIMIT"
    score = f": score {summary['score']}" if summary["score"] is not None else f": return {summary['return']:.1f}"
    return f"{how}{score}   episode {summary['episode']} saved" if summary.get("file") else f"{how}{score}"


def _summary_line(summary: dict[str, Any]) -> str:
    parts = [f"episode {summary['episode']}:"]
    if summary["score"] is not None:
        parts.append(f"score {summary['score']},")
    parts.append(f"return {summary['return']:.1f}, {summary['length']} frames, {summary['ended']}")
    if summary.get("file"):
        parts.append(f"-> {os.path.basename(summary['file'])}")
    return " ".join(parts)


def _draw(
    window: Any,
    font: Any,
    frame: np.ndarray,
    episode: int,
    score: Any,
    total: float,
    player: str,
    help_text: str,
    paused: bool,
    hint: str | None = None,
    banner: str | None = None,
) -> None:
    import pygame

    surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.transpose(1, 0, 2)))
    window.fill((30, 30, 30))
    window.blit(surface, (0, 0))
    if banner:  # the end of an episode: the last frame, dimmed, with how it ended
        shade = pygame.Surface((frame.shape[1], frame.shape[0]), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 110))
        window.blit(shade, (0, 0))
        for i, line in enumerate(banner.split("   ")):
            text = font.render(line, True, (250, 210, 80) if i == 0 else (240, 240, 240))
            window.blit(text, ((frame.shape[1] - text.get_width()) // 2, frame.shape[0] // 2 - 20 + 24 * i))
    top = frame.shape[0] + 4
    status = f"episode {episode}   " + (f"score {score}   " if score is not None else "") + f"return {total:.1f}   {player}"
    window.blit(font.render(status, True, (240, 240, 240)), (6, top))
    highlight = paused or hint is not None
    if hint is None:
        hint = "PAUSED - P to resume" if paused else f"{help_text}   P pause   ESC quit"
    window.blit(font.render(hint, True, (250, 210, 80) if highlight else (170, 170, 170)), (6, top + 20))
    pygame.display.flip()
