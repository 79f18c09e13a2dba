"""Deep RL from preferences: the zoo adapter, the comparison window, answers on disk, `sb3-behave compare`."""

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pygame
import pytest
import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import sb3_behave.registration
from sb3_behave.cli import main
from sb3_behave.preferences import (
    FRAME_KEY,
    ComparisonWindow,
    PreferenceError,
    compare,
    load_preferences,
    preference_accuracy,
    reward_model_from_answers,
    train_reward_model,
)
from sb3_behave.preferences.frames import fragment_frames
from sb3_behave.preferences.storage import answer_files, read_answer
from sb3_behave.preferences.window import ACCENT, IDLE_MESSAGE
from sb3_behave.zoo import PreferenceComparisons

ROOT = Path(__file__).resolve().parent.parent
FLAPPY = "sb3_behave/FlappyBird-v0"
TINY = {"n_steps": 32, "batch_size": 32, "n_epochs": 2, "reward_net_kwargs": {"hid_sizes": (16,)}}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = th.get_num_threads()
    th.set_num_threads(1)  # tiny networks: threads only wait for each other
    yield
    th.set_num_threads(threads)


def press(key):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


class CountSteps(BaseCallback):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def _on_step(self) -> bool:
        self.calls += 1
        return True


class NoFrames(gym.Env):
    """An env that renders nothing a person could look at."""

    metadata = {"render_modes": ["human"]}
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, False, False, {}


gym.register("sb3_behave_test/NoFrames-v0", entry_point=NoFrames, max_episode_steps=20)


def test_adapter_learns_from_synthetic_preferences_saves_and_reloads(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    prefs = tmp_path / "prefs"
    model = PreferenceComparisons(
        "MlpPolicy", env, total_comparisons=12, num_iterations=2, fragment_length=10, preferences=str(prefs), seed=0, **TINY
    )
    policy_before = [p.detach().clone() for p in model.policy.parameters()]
    reward_before = [p.detach().clone() for p in model.reward_net.parameters()]
    counter = CountSteps()
    model.learn(300, callback=counter)
    assert model.num_timesteps >= 192 and counter.calls * env.num_envs == model.num_timesteps  # every env step
    assert any(not th.equal(a, b) for a, b in zip(policy_before, model.policy.parameters()))
    assert any(not th.equal(a, b) for a, b in zip(reward_before, model.reward_net.parameters()))
    # every synthetic answer is on disk, and the model trained on as many
    pairs, preferences = load_preferences(prefs, env=env)
    assert len(pairs) == model.comparisons == 12 and set(np.unique(preferences)) <= {0.0, 1.0}
    assert model.iteration == 3  # imitation's initial round + num_iterations

    model.save(tmp_path / "model")
    reloaded = PreferenceComparisons.load(tmp_path / "model", env=env)
    for a, b in zip(model.reward_net.state_dict().values(), reloaded.reward_net.state_dict().values()):
        assert th.equal(a, b)
    obs = env.reset()
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], reloaded.predict(obs, deterministic=True)[0])
    fragment = pairs[0][0]
    args = (fragment.obs[:-1], fragment.acts, fragment.obs[1:], np.zeros(len(fragment.acts), bool))
    np.testing.assert_array_equal(model.reward_net.predict_processed(*args), reloaded.reward_net.predict_processed(*args))
    assert (reloaded.iteration, reloaded.total_comparisons, reloaded.fragment_length) == (3, 12, 10)


def test_bad_hyperparameters_are_refused_with_their_name(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=1)
    with pytest.raises(ValueError, match="preference_gatherer is 'people'"):
        PreferenceComparisons("MlpPolicy", env, preference_gatherer="people")
    with pytest.raises(ValueError, match="gatherer_kwargs fsp unknown for the person gatherer"):
        PreferenceComparisons("MlpPolicy", env, preference_gatherer="person", gatherer_kwargs={"fsp": 3})
    with pytest.raises(
        ValueError, match=r"render_mode=None: .* need render_mode='rgb_array' \(sb3-behave train: `--env-kwargs"
    ):
        PreferenceComparisons("MlpPolicy", DummyVecEnv([lambda: gym.make("CartPole-v1")]), preference_gatherer="person")
    with pytest.raises(ValueError, match=r"unknown hyperparameter.*n_step"):
        PreferenceComparisons("MlpPolicy", env, n_step=32)
    (tmp_path / "demo.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="is not a preferences folder"):
        PreferenceComparisons("MlpPolicy", env, preferences=str(tmp_path))


class GeneratorRewards(BaseCallback):
    """The rewards the generator is trained on, step by step."""

    def __init__(self):
        super().__init__()
        self.rewards = []

    def _on_step(self) -> bool:
        self.rewards.append(np.array(self.locals["rewards"]))
        return True


@pytest.mark.parametrize("generator_reward", ["learned", "positive"])
def test_the_generator_is_paid_the_reward_it_names_and_the_model_keeps_the_name(generator_reward, tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = PreferenceComparisons(
        "MlpPolicy",
        env,
        total_comparisons=4,
        num_iterations=1,
        fragment_length=5,
        reward_learning_rate=1e-30,  # the reward model stays as set below while the generator trains on it
        generator_reward=generator_reward,
        seed=0,
        **TINY,
    )
    with th.no_grad():  # a reward model whose output is far below 0 (a level no preference fixes)
        for parameter in model.reward_net.parameters():
            parameter.mul_(0.0)
        model.reward_net.mlp.dense_final.bias.fill_(-5.0)
    seen = GeneratorRewards()
    model.learn(64, callback=seen)
    rewards = np.concatenate(seen.rewards)
    expected = -5.0 if generator_reward == "learned" else np.log1p(np.exp(-5.0))
    assert len(rewards) >= 32
    np.testing.assert_allclose(rewards, expected, rtol=1e-4)
    model.save(tmp_path / "model")
    assert PreferenceComparisons.load(tmp_path / "model").generator_reward == generator_reward
    with pytest.raises(ValueError, match=r"generator_reward is 'logit': expected one of learned, positive"):
        PreferenceComparisons("MlpPolicy", env, generator_reward="logit")


def test_a_model_saved_before_generator_reward_loads_with_imitation_s_reward(tmp_path):
    import json
    import zipfile

    PreferenceComparisons("MlpPolicy", "CartPole-v1", generator_reward="positive", seed=0).save(tmp_path / "new.zip")
    with zipfile.ZipFile(tmp_path / "new.zip") as new, zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for name in new.namelist():
            content = new.read(name)
            if name == "data":  # the key as a model saved before it had it: absent
                data = json.loads(content)
                assert data.pop("generator_reward") == "positive"
                content = json.dumps(data).encode()
            old.writestr(name, content)
    assert PreferenceComparisons.load(tmp_path / "old.zip").generator_reward == "learned"


def _tags(run: Path) -> set:
    events = EventAccumulator(str(run))
    events.Reload()
    return set(events.Tags()["scalars"])


def test_trains_through_the_zoo_with_tensorboard(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    entry = {"n_envs": 2, "n_timesteps": 300, "policy": "MlpPolicy", "total_comparisons": 10, "num_iterations": 2}
    entry.update(fragment_length=10, n_steps=32, batch_size=32, n_epochs=2)
    conf = tmp_path / "preference_comparisons.yml"
    conf.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    argv = ["train", "--algo", "preference_comparisons", "--env", "CartPole-v1", "-conf", str(conf), "-tb", "tb"]
    assert main([*argv, "--eval-freq", "100", "--eval-episodes", "2", "--seed", "0"]) == 0
    run = tmp_path / "logs" / "preference_comparisons" / "CartPole-v1_1"
    trained = PreferenceComparisons.load(run / "CartPole-v1.zip")
    assert trained.num_timesteps >= 256 and trained.comparisons == 10 and trained.fragment_length == 10
    tags = _tags(tmp_path / "tb" / "CartPole-v1" / "PreferenceComparisons_1")
    # the tags docs/guide/preferences.md names
    assert {"reward/final/train/loss", "reward/final/train/accuracy", "eval/mean_reward"} <= tags
    assert {"mean/agent/rollout/ep_rew_mean", "mean/agent/train/policy_gradient_loss"} <= tags, sorted(tags)
    assert len(np.load(run / "evaluations.npz")["timesteps"]) >= 2
    # a misspelt key: one line naming it
    conf.write_text(yaml.safe_dump({"CartPole-v1": {**entry, "fragment_lenght": 10}}))
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown hyperparameter(s) fragment_lenght" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("env_id", [FLAPPY, "CartPole-v1"])
def test_the_window_records_each_answer_when_given_and_resumes(env_id, tmp_path, capsys):
    out = tmp_path / "prefs"
    keys = [pygame.K_LEFT, pygame.K_s, pygame.K_RIGHT, pygame.K_DOWN]
    seen = []

    def person(frame, pair):
        if frame == 0:  # a new query: the answers given so far are all on disk already
            seen.append(len(answer_files(out)))
        if frame == 3:
            press(keys[len(seen) - 1])

    summary = compare(env_id, out, queries=4, fragment_length=8, fps=1000, on_frame=person, seed=1)
    assert seen == [0, 1, 1, 2]  # written one by one, the skipped pair not at all
    assert summary == {"answered": 3, "new": 3, "skipped": 1, "left": 1, "stopped": False}
    files = answer_files(out)
    assert [read_answer(f)[1] for f in files] == [1.0, 0.0, 0.5]
    assert read_answer(files[0])[2]["env_id"] == env_id and read_answer(files[0])[2]["answered_by"] == "person"
    printed = capsys.readouterr().out.splitlines()  # a skipped query is asked again of the same count
    assert printed == [f"query {q}/4 ({q - 1} answered, {5 - q} left)" for q in (1, 2, 2, 3)]

    # resuming asks only what is left; ESC stops without losing anything
    def stop(frame, pair):
        if frame == 1:
            press(pygame.K_ESCAPE)

    assert compare(env_id, out, queries=5, fragment_length=8, fps=1000, on_frame=stop)["stopped"]
    assert len(answer_files(out)) == 3
    pairs, preferences = load_preferences(out)
    assert len(pairs) == 3 and len(pairs[0][0]) == 8
    np.testing.assert_array_equal(preferences, [1.0, 0.0, 0.5])

    # a reward model trained on the answers agrees with them
    env = gym.make(env_id)
    net = train_reward_model(pairs, preferences, env.observation_space, env.action_space, epochs=100, seed=0)
    assert preference_accuracy(net, pairs, preferences) == 1.0


def test_window_draws_both_clips_side_by_side():
    rng = np.random.default_rng(0)
    left = [np.full((40, 30, 3), 200, np.uint8)] * 3
    right = [rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)] * 5
    window = ComparisonWindow(fps=1000, clip_height=80)
    answer = window.ask(left, right, "query 1/1", on_frame=lambda frame: frame == 2 and press(pygame.K_RIGHT))
    assert answer == 0.0
    pixels = pygame.surfarray.array3d(window.surface)
    assert pixels.shape[1] == 26 + 80 + 50 + 12 and (pixels == 200).all(axis=2).sum() >= 60 * 80  # the left clip, scaled
    # the answer is shown before the window goes on: the chosen clip framed in the accent colour, the other not
    accent = (pixels == ACCENT).all(axis=2)
    left_x = int(np.argwhere((pixels == 200).all(axis=2))[:, 0].min())  # the left clip's first column
    right_x = left_x + 60 + 12  # then the margin
    assert accent[right_x - 3, 26 : 26 + 80].all() and not accent[left_x - 3, 26 : 26 + 80].any()
    window.close()


@pytest.mark.parametrize(
    "key, framed", [(pygame.K_LEFT, (True, False)), (pygame.K_DOWN, (True, True)), (pygame.K_s, (False, False))]
)
def test_the_window_shows_which_answer_a_key_took(key, framed):
    clip = [np.full((40, 30, 3), 200, np.uint8)] * 3
    window = ComparisonWindow(fps=1000, clip_height=80)
    window.ask(clip, clip, "query 1/1", on_frame=lambda frame: frame == 1 and press(key))
    accent = (pygame.surfarray.array3d(window.surface) == ACCENT).all(axis=2)
    xs = np.argwhere((pygame.surfarray.array3d(window.surface) == 200).all(axis=2))[:, 0]
    starts = (int(xs.min()), int(xs.min()) + 60 + 12)
    assert tuple(bool(accent[x - 3, 26 : 26 + 80].all()) for x in starts) == framed
    window.close()


def test_compare_shows_the_agent_playing_before_the_first_question(tmp_path, monkeypatch):
    shown = []
    original = ComparisonWindow.idle

    def idle(self, message=IDLE_MESSAGE, interval=0.1, open_window=False):
        original(self, message, 0.0, open_window)  # every call draws, for the test
        shown.append((message, self.surface is not None))

    monkeypatch.setattr(ComparisonWindow, "idle", idle)
    answer = lambda frame, pair: frame == 1 and press(pygame.K_LEFT)  # noqa: E731
    compare("CartPole-v1", tmp_path / "p", queries=2, fragment_length=8, fps=1000, seed=0, on_frame=answer)
    steps = [int(re.search(r"([\d,]+) of", m).group(1).replace(",", "")) for m, _ in shown]
    assert shown and all(opened for _, opened in shown) and "the agent plays to make the clips" in shown[0][0]
    assert steps == sorted(steps) and steps[-1] >= 2 * 2 * 8  # counting up to the steps the clips need


def test_a_person_trains_the_adapter_and_a_closed_window_resumes(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, env_kwargs={"render_mode": "rgb_array"})
    prefs = tmp_path / "prefs"
    asked = []

    def person(frame, pair):
        if frame == 0:
            asked.append(1)
        if frame == 1:
            press(pygame.K_ESCAPE if len(asked) == 5 else pygame.K_LEFT if len(asked) % 2 else pygame.K_RIGHT)

    kwargs = dict(total_comparisons=8, num_iterations=2, fragment_length=6, preferences=str(prefs), seed=0, **TINY)
    gatherer = {"on_frame": person, "fps": 1000, "verbose": 0}
    model = PreferenceComparisons("MlpPolicy", env, preference_gatherer="person", gatherer_kwargs=gatherer, **kwargs)
    model.learn(300)  # ESC at the fifth query: 4 answers saved, training stops
    assert len(asked) == 5 and len(answer_files(prefs)) == 4 and model.num_timesteps > 0
    assert [read_answer(f)[1] for f in answer_files(prefs)] == [1.0, 0.0, 1.0, 0.0]

    asked.clear()
    resumed = PreferenceComparisons("MlpPolicy", env, preference_gatherer="person", gatherer_kwargs=gatherer, **kwargs)
    gatherer["on_frame"] = lambda frame, pair: (frame == 0 and asked.append(1)) or (frame == 1 and press(pygame.K_DOWN))
    resumed.learn(300)
    assert len(asked) == 4 and resumed.comparisons == 8  # the 4 on disk count toward total_comparisons
    np.testing.assert_array_equal(load_preferences(prefs)[1], [1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5])


def test_compare_command_end_to_end_and_its_refusals(tmp_path, capsys):
    out = tmp_path / "prefs"
    # Pendulum's reward differs from step to step: the auto answers are strict, and a reward model can learn them
    argv = ["compare", "--env", "Pendulum-v1", "--out", str(out), "--queries", "6", "--fragment-length", "15", "--fps", "1000"]
    assert main([*argv, "--auto-answer", "--train-reward", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"6 answer(s) in {out}: 6 new, 0 skipped, 0 left" in printed
    accuracy = re.search(r"reward model trained on 6 answer\(s\): accuracy ([\d.]+) on the strict answers", printed)
    assert accuracy is not None, printed  # a number: some answers are strict
    assert float(accuracy.group(1)) >= 0.8  # the answers follow the env reward: a reward model can agree with them
    # the auto answers follow the env reward
    for path in answer_files(out):
        (first, second), preference, metadata = read_answer(path)
        assert preference == {1: 1.0, -1: 0.0, 0: 0.5}[int(np.sign(round(first.rews.sum() - second.rews.sum(), 6)))]
        assert metadata["answered_by"] == "the env reward (--auto-answer)"  # not labelled as a person's
        assert metadata["env_id"] == "Pendulum-v1" and metadata["env_kwargs"] == {}
    assert main([*argv, "--auto-answer"]) == 0 and "6 answer(s)" in capsys.readouterr().out  # nothing left to ask
    # another env's answers, or the same env with other kwargs, are not mixed into the folder
    for other in (["--env", "MountainCarContinuous-v0"], ["--env", "Pendulum-v1", "--env-kwargs", "g=5.0"]):
        assert main(["compare", *other, "--out", str(out), "--queries", "7", "--auto-answer"]) == 2
        err = capsys.readouterr().err.strip()
        mixed = "an answer about 'Pendulum-v1'" in err or "with other env kwargs (differing: g)" in err
        assert err.count("\n") == 0 and mixed, err
    assert len(answer_files(out)) == 6

    assert main(["compare", "--env", "sb3_behave_test/NoFrames-v0", "--out", str(tmp_path / "p2")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not render rgb_array frames (its render modes: human)" in err
    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "episode-1.npz").write_bytes(b"")
    assert main(["compare", "--env", FLAPPY, "--out", str(demos)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not a preferences folder (it holds 'episode-1.npz')" in err
    assert main(["compare", "--env", FLAPPY, "--agent", str(tmp_path / "nothere.zip"), "--out", str(tmp_path / "p3")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--agent " in err and "nothere.zip': expected 'scripted'" in err  # the flag given


def test_the_example_runs_in_demo_mode(tmp_path):
    script = ROOT / "examples" / "preferences_from_a_person.py"
    args = ["--auto-answer", "--queries", "6", "--fragment-length", "10", "--timesteps", "300", "--iterations", "1"]
    result = subprocess.run(
        [sys.executable, str(script), *args, "--out", str(tmp_path / "prefs"), "--fps", "1000"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = re.search(r"answers: (\d+) in .* \((\d+) equal\)", result.stdout)
    accuracy = re.search(r"reward model accuracy on the answers: (nan|[\d.]+)", result.stdout)
    returns = re.search(r"mean return: before (-?[\d.]+), after (-?[\d.]+) \((\d+) steps\)", result.stdout)
    assert answers and accuracy and returns, result.stdout
    assert int(answers.group(1)) == 6 and int(returns.group(3)) >= 300


def test_a_key_pressed_before_a_pair_is_shown_does_not_answer_it(monkeypatch):
    frames = [np.full((20, 20, 3), 200, np.uint8)] * 4
    window = ComparisonWindow(fps=1000, clip_height=40)
    shown = []

    def person(frame):
        shown.append((frame, int((pygame.surfarray.array3d(window.surface) == 200).all(axis=2).sum())))
        if frame == 2:
            press(pygame.K_RIGHT)

    assert window.ask(frames, frames, on_frame=lambda frame: frame == 0 and press(pygame.K_DOWN)) == 0.5
    window.idle(interval=0)  # between two pairs (while the agent trains): the clips are gone, the window says so
    assert (pygame.surfarray.array3d(window.surface) == 200).all(axis=2).sum() == 0
    press(pygame.K_LEFT)  # pressed between two pairs, then a double press
    press(pygame.K_LEFT)
    assert window.ask(frames, frames, on_frame=person) == 0.0  # only the key pressed while the pair was shown
    assert [frame for frame, _ in shown] == [0, 1, 2] and shown[0][1] >= 2 * 40 * 40  # frame 0 drawn before keys read
    press(pygame.K_DOWN)  # a key while the window is idle: still not an answer
    window.idle(interval=0)
    assert window.ask(frames, frames, on_frame=lambda frame: frame == 1 and press(pygame.K_LEFT)) == 1.0
    window.close()

    def no_display(*args, **kwargs):
        raise pygame.error("No available video device")

    monkeypatch.setattr(pygame.display, "set_mode", no_display)
    with pytest.raises(ValueError, match=r"^cannot open the comparison window \(No available video device\).*SDL_VIDEODRIVER"):
        ComparisonWindow().ask(frames, frames)
    pygame.display.quit()


class CountRenders(gym.Wrapper):
    renders = 0
    steps = 0

    def render(self):
        CountRenders.renders += 1
        return self.env.render()

    def step(self, action):
        CountRenders.steps += 1
        return self.env.step(action)


class TrainingSteps(BaseCallback):
    """Checks no training step carries a frame; presses LEFT at every training step, as an impatient person."""

    def __init__(self):
        super().__init__()
        self.framed = self.pressed = 0

    def _on_step(self) -> bool:
        self.framed += sum(FRAME_KEY in info for info in self.locals["infos"])
        if pygame.display.get_init():  # the window has asked before
            self.pressed += 1
            press(pygame.K_LEFT)
        return True


def test_a_person_s_run_renders_only_the_sampled_steps(tmp_path):
    CountRenders.renders = CountRenders.steps = 0
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, env_kwargs={"render_mode": "rgb_array"}, wrapper_class=CountRenders)
    clips = []

    def person(frame, pair):
        if frame == 0:
            clips.append([len(fragment_frames(fragment)) for fragment in pair])
        if frame == 1:
            press(pygame.K_RIGHT)

    gatherer = {"on_frame": person, "fps": 1000, "verbose": 0}
    model = PreferenceComparisons(
        "MlpPolicy",
        env,
        total_comparisons=6,
        num_iterations=2,
        fragment_length=6,
        preferences=str(tmp_path / "p"),
        preference_gatherer="person",
        gatherer_kwargs=gatherer,
        seed=0,
        **TINY,
    )
    training = TrainingSteps()
    model.learn(300, callback=training)
    assert model.num_timesteps >= 192 and training.framed == 0 and training.pressed > 0  # no training step rendered
    assert CountRenders.renders == CountRenders.steps - model.num_timesteps > 0  # every sampled step, and only those
    assert len(clips) == 6 and all(lengths == [6, 6] for lengths in clips)  # every pair shown has its frames
    # LEFT was pressed at every training step: none answered a pair; the person's RIGHT did
    assert [read_answer(f)[1] for f in answer_files(tmp_path / "p")] == [0.0] * 6


def test_compare_closes_what_it_opened_when_something_fails(tmp_path, monkeypatch, capsys):
    compare_module = importlib.import_module("sb3_behave.preferences.compare")  # the package's `compare` is the function
    opened = []
    make = compare_module.make_rendering_env

    def spy(*args, **kwargs):
        env = make(*args, **kwargs)
        close = env.close
        env.close = lambda: (opened.append("closed"), close())
        opened.append(env)
        return env

    monkeypatch.setattr(compare_module, "make_rendering_env", spy)
    with pytest.raises(ValueError, match="clip_height must be from 16 to 2160 pixels, got 8"):
        compare("CartPole-v1", tmp_path / "a", clip_height=8)
    assert opened == []  # refused before an env is made or the agent plays
    with pytest.raises(ValueError, match=r"expected .scripted., .precise., .random., a model \.zip"):
        compare("CartPole-v1", tmp_path / "a", agent="nowhere.zap")
    assert opened[1:] == ["closed"]
    opened.clear()
    with pytest.raises(ValueError, match="every episode of the agent 'random' is shorter"):
        compare("CartPole-v1", tmp_path / "a", fragment_length=400, queries=1)
    assert opened[1:] == ["closed"]
    with pytest.raises(SystemExit) as refused:  # argparse's refusal
        main(["compare", "--env", "CartPole-v1", "--out", str(tmp_path / "a"), "--clip-height", "8"])
    assert refused.value.code == 2
    assert "--clip-height: expected a whole number from 16 to 2,160, got 8" in capsys.readouterr().err

    # a folder with a broken answer: the probe env is closed too
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "preference-1.npz").write_bytes(b"not a zip")
    probes = []
    make_env = sb3_behave.registration.make_env

    def spy_env(*args, **kwargs):
        env = make_env(*args, **kwargs)
        close = env.close
        env.close = lambda: (probes.append("closed"), close())
        return env

    monkeypatch.setattr(sb3_behave.registration, "make_env", spy_env)
    with pytest.raises(PreferenceError, match=r"preference-1\.npz: "):
        reward_model_from_answers("CartPole-v1", tmp_path / "b")
    assert probes == ["closed"]


def test_public_functions_document_every_parameter():
    missing = []
    for name in ("compare", "frames", "gatherer", "reward", "storage", "window"):
        module = importlib.import_module(f"sb3_behave.preferences.{name}")
        for attribute in module.__all__:
            thing = getattr(module, attribute)
            if inspect.isclass(thing):
                if "__init__" not in vars(thing):
                    continue
                function, doc = thing.__init__, thing.__doc__ or ""
            elif inspect.isfunction(thing):
                function, doc = thing, thing.__doc__ or ""
            else:
                continue
            signature = inspect.signature(function)
            if signature.return_annotation is inspect.Signature.empty:
                missing.append(f"{name}.{attribute}: return type")
            for parameter in signature.parameters:
                if parameter != "self" and f":param {parameter}:" not in doc:
                    missing.append(f"{name}.{attribute}: {parameter}")
    assert missing == []
