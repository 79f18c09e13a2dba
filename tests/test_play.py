import gymnasium as gym
import numpy as np
import pygame
import pytest
from imitation.algorithms import bc

from sb3_behave.demos import load_demonstrations, load_episodes
from sb3_behave.demos.play import GAME_OVER_FRAMES, HUD_HEIGHT, KEY_MAPS, key_map_for, parse_key_map, play
from sb3_behave.envs import FlappyBirdExpert

ENV_ID = "sb3_behave/FlappyBird-v0"


def press(key):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


def release(key):
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0))


def test_a_person_plays_flappy_bird_and_bc_can_train_on_it(tmp_path, capsys):
    """Key presses posted like a keyboard's, the expert deciding when to press SPACE."""
    expert = FlappyBirdExpert()
    pressed = []

    def keyboard(frame, env):
        # SPACE starts each episode (and flaps); then the expert decides
        flap = 1 if env.steps == 0 else int(expert.act(env.unwrapped.features()))
        if flap:
            press(pygame.K_SPACE)
        pressed.append(flap)
        if frame == 5:  # pause for three frames: no steps are taken meanwhile
            press(pygame.K_p)
        if frame == 8:
            press(pygame.K_p)

    summaries = play(
        ENV_ID,
        record=tmp_path / "alice",
        player="alice",
        episodes=2,
        speed=100.0,
        seed=3,
        max_episode_steps=250,
        on_frame=keyboard,
    )
    out = capsys.readouterr().out
    assert [s["ended"] for s in summaries] == ["time limit", "time limit"]
    assert "episode 1: score 4, return" in out and "episode 2: score" in out and "250 frames" in out
    assert [s["episode"] for s in summaries] == [1, 2]  # as the window numbers them
    episodes = load_episodes(tmp_path / "alice", env=ENV_ID)
    assert [e.metadata["player"] for e in episodes] == ["alice", "alice"]
    assert [e.metadata["seed"] for e in episodes] == [3, 4]
    first = episodes[0].trajectory
    assert len(first) == 250 and first.acts.sum() > 5
    # what was recorded is exactly what the keyboard asked for, outside the pause
    np.testing.assert_array_equal(first.acts, [a for i, a in enumerate(pressed[:253]) if i not in (5, 6, 7)][:250])
    env = gym.make(ENV_ID)
    trainer = bc.BC(
        observation_space=env.observation_space,
        action_space=env.action_space,
        demonstrations=load_demonstrations(tmp_path / "alice", env=env),
        rng=np.random.default_rng(0),
        device="cpu",
    )
    trainer.train(n_batches=5)  # BC trains on what the person played


def test_a_crash_stays_on_screen_with_the_score_before_the_next_episode(tmp_path, capsys):
    """The bird that never flaps crashes: its last frame stays, dimmed, with how the episode ended."""
    shown = []  # (steps of the episode in progress, brightness of the game area), before each frame's events

    def keyboard(frame, env):
        window = pygame.display.get_surface()
        game = pygame.surfarray.array3d(window)[:, : window.get_height() - HUD_HEIGHT]
        shown.append((env.steps, float(game.mean())))
        if env.steps == 0:
            press(pygame.K_DOWN)  # starts an episode without a flap (SPACE and UP flap); ignored while an end is shown

    summaries = play(ENV_ID, record=tmp_path / "d", episodes=2, speed=100.0, seed=0, keys="down=0", on_frame=keyboard)
    out = capsys.readouterr().out
    assert [s["ended"] for s in summaries] == ["crashed", "crashed"] and [s["episode"] for s in summaries] == [1, 2]
    assert "episode 1: score 0," in out and "episode 2: score 0," in out
    normal = np.median([brightness for steps, brightness in shown if steps > 0])
    dimmed = [i for i, (_, brightness) in enumerate(shown) if i > 0 and brightness < 0.8 * normal]  # (0: nothing drawn yet)
    # each end stays for GAME_OVER_FRAMES frames, dimmed under its banner, and no step is taken meanwhile
    assert len(dimmed) == 2 * GAME_OVER_FRAMES and all(shown[i][0] == 0 for i in dimmed)
    first = dimmed[:GAME_OVER_FRAMES]
    assert first == list(range(first[0], first[0] + GAME_OVER_FRAMES)) and shown[first[0] - 1][0] > 0  # right after the crash
    assert dimmed[-1] == len(shown) - 1  # play ends after the last end was shown


def test_escape_quits_and_drops_the_episode_in_progress(tmp_path, capsys):
    def keyboard(frame, env):
        if frame == 10:  # the game waits for the first key: 10 frames without a step
            press(pygame.K_SPACE)
        if frame == 40:
            press(pygame.K_ESCAPE)

    assert play(ENV_ID, record=tmp_path / "d", speed=100.0, seed=0, on_frame=keyboard) == []
    assert "the episode in progress (30 frames) was not saved" in capsys.readouterr().out
    assert not (tmp_path / "d").exists() or not list((tmp_path / "d").iterdir())


def test_each_episode_waits_for_the_first_key_and_escape_before_it_records_nothing(tmp_path, capsys):
    started = []

    def keyboard(frame, env):
        started.append(env.steps)
        if frame == 200:
            press(pygame.K_ESCAPE)

    assert play(ENV_ID, record=tmp_path / "d", speed=100.0, seed=0, on_frame=keyboard) == []
    assert set(started) == {0} and len(started) == 201  # 200 frames shown, not one step taken
    assert "not saved" not in capsys.readouterr().out and not (tmp_path / "d").exists()


def test_cartpole_with_the_arrow_keys(tmp_path):
    # RIGHT held for 2 frames, released for 2, then LEFT the same way, and again: with nothing held,
    # CartPole's key map repeats the last push. A player deaf to the keyboard records all zeros.
    expected, last = [], None

    def keyboard(frame, env):
        nonlocal last
        key, action = [(pygame.K_RIGHT, 1), (pygame.K_LEFT, 0)][(frame // 4) % 2]
        if frame % 4 == 0:
            press(key)
        if frame % 4 == 2:
            release(key)
        last = action if frame % 4 < 2 else last
        expected.append(last)

    play("CartPole-v1", record=tmp_path / "c", episodes=1, speed=100.0, seed=0, on_frame=keyboard)
    (episode,) = load_episodes(tmp_path / "c", env="CartPole-v1")
    acts = episode.trajectory.acts
    assert len(acts) >= 8 and set(acts.tolist()) == {0, 1}
    np.testing.assert_array_equal(acts, expected[: len(acts)])


def test_envs_that_cannot_be_played_say_why():
    with pytest.raises(ValueError, match="Pendulum-v1 cannot be played by keyboard: its action space is Box"):
        key_map_for(gym.make("Pendulum-v1"))
    # FrozenLake-v1 has the same id on gymnasium 0.29 and 1.x (Taxi-v3 is refused as deprecated on 1.x).
    with pytest.raises(ValueError, match=r"no key map for FrozenLake-v1 .*--keys"):
        key_map_for(gym.make("FrozenLake-v1"))
    assert key_map_for(gym.make("FrozenLake-v1"), "left=0,down=1,right=2,up=3").hold["up"] == 3
    with pytest.raises(ValueError, match="outside Discrete"):
        key_map_for(gym.make("CartPole-v1"), "left=0,right=7")
    with pytest.raises(ValueError, match="not KEY=ACTION"):
        parse_key_map("left")


def test_the_built_in_key_maps_cover_this_gymnasiums_ids():
    # gymnasium 1.x renamed LunarLander-v2 to v3 (same actions): whichever the installed gymnasium
    # registers has a key map, and so do the classic-control envs.
    for env_id in ("CartPole-v1", "MountainCar-v0", "Acrobot-v1"):
        assert env_id in gym.registry and env_id in KEY_MAPS
    lunar = [env_id for env_id in gym.registry if env_id.startswith("LunarLander-v")]
    assert lunar and all(env_id in KEY_MAPS for env_id in lunar)
