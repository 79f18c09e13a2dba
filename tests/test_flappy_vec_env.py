import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from sb3_behave.envs import FlappyBirdExpert, FlappyBirdVecEnv, evaluate_flappy_policy


def actions_for(n_steps, n_envs, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n_steps, n_envs)) < 0.12).astype(np.int64)


@pytest.mark.parametrize("obs_type", ["features", "lidar", "rgb"])
def test_batched_games_replay_single_envs_exactly(obs_type):
    n, steps, seed = 3, 400, 11
    acts = actions_for(steps, n)
    venv = FlappyBirdVecEnv(n, obs_type=obs_type, seed=seed, image_size=(32, 24), max_episode_steps=150)
    vec_obs = [venv.reset()]
    vec_steps = []
    for a in acts:
        obs, rew, done, infos = venv.step(a)
        vec_obs.append(obs)
        vec_steps.append((rew, done, infos))
    for i in range(n):
        env = gym.make("sb3_behave/FlappyBird-v0", obs_type=obs_type, image_size=(32, 24), max_episode_steps=150)
        obs, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs, vec_obs[0][i])
        episodes = 0
        for t, a in enumerate(acts[:, i]):
            obs, rew, terminated, truncated, info = env.step(a)
            v_rew, v_done, v_infos = vec_steps[t]
            assert v_rew[i] == pytest.approx(rew)
            assert v_done[i] == (terminated or truncated)
            if terminated or truncated:
                episodes += 1
                np.testing.assert_array_equal(v_infos[i]["terminal_observation"], obs)
                assert v_infos[i]["TimeLimit.truncated"] == truncated
                assert v_infos[i]["score"] == info["score"]
                obs, _ = env.reset()
            else:
                assert "terminal_observation" not in v_infos[i]
            np.testing.assert_array_equal(vec_obs[t + 1][i], obs)
        assert episodes >= 2


def test_scores_and_seed_method():
    venv = FlappyBirdVecEnv(4, reward_mode="score")
    assert venv.seed(5) == [5, 6, 7, 8]
    first = venv.reset()
    venv.seed(5)
    np.testing.assert_array_equal(venv.reset(), first)
    assert venv.scores.tolist() == [0, 0, 0, 0]
    assert venv.get_attr("obs_type") == ["features"] * 4
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 4


def test_expert_passes_100_pipes_on_average():
    result = evaluate_flappy_policy(FlappyBirdExpert(), games=32, max_frames=4_000, seed=0)
    assert len(result["scores"]) == 32
    assert result["score"] >= 100, result["scores"]


def test_expert_refuses_other_observations():
    with pytest.raises(ValueError, match="features"):
        FlappyBirdExpert().predict(np.zeros(180, dtype=np.float32))


def assert_normalized(obs, varying):
    assert np.abs(obs.mean(axis=0)).max() < 0.75
    std = obs.std(axis=0)[varying]
    assert std.min() > 0.5 and std.max() < 2.0, std


def test_works_under_vec_monitor_vec_normalize_and_ppo(tmp_path):
    venv = VecNormalize(VecMonitor(FlappyBirdVecEnv(8, seed=0)), norm_reward=True)
    obs = venv.reset()
    raw_obs, normalized = [venv.get_original_obs()], [obs]
    returns, lengths, episodes = np.zeros(8), np.zeros(8, dtype=int), []
    for flaps in actions_for(300, 8):
        obs, _, dones, infos = venv.step(flaps)
        raw_obs.append(venv.get_original_obs())
        normalized.append(obs)
        returns += venv.get_original_reward()
        lengths += 1
        for i in np.flatnonzero(dones):
            # VecMonitor's episode is the sum of the env's own rewards: +0.1 per frame, +1 per pipe, -1 the crash
            episode = infos[i]["episode"]
            assert episode["l"] == lengths[i] and episode["r"] == pytest.approx(returns[i], abs=1e-4)
            assert not infos[i]["TimeLimit.truncated"]
            assert episode["r"] == pytest.approx(0.1 * (lengths[i] - 1) + infos[i]["score"] - 1, abs=1e-4)
            episodes.append(episode["l"])
            returns[i], lengths[i] = 0.0, 0
    assert len(episodes) >= 16  # random flapping crashes within ~100 frames...
    assert np.mean(episodes) > 40, episodes  # ...later than a bird that never flaps (31 frames): the flaps reach the games
    # VecNormalize's statistics are those of every observation the env gave...
    np.testing.assert_allclose(obs, venv.normalize_obs(venv.get_original_obs()), atol=1e-6)
    raw_obs, normalized = np.concatenate(raw_obs), np.concatenate(normalized)
    np.testing.assert_allclose(venv.obs_rms.mean, raw_obs.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(venv.obs_rms.var, raw_obs.var(axis=0), rtol=1e-3, atol=1e-6)
    # ...and what the agent sees is about centred and scaled, which the raw features are not
    varying = raw_obs.std(axis=0) > 0.05  # the third pipe is off screen all along: a constant
    assert np.abs(raw_obs.mean(axis=0)).max() > 0.9 and raw_obs.std(axis=0)[varying].min() < 0.1
    assert_normalized(normalized, varying)

    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=1, seed=0, device="cpu")
    before = {name: p.detach().clone() for name, p in model.policy.named_parameters()}
    model.learn(1024)
    changed = {name for name, p in model.policy.named_parameters() if not np.array_equal(p.detach(), before[name])}
    assert {"action_net.weight", "value_net.weight"} <= changed
    assert_normalized(model.rollout_buffer.observations.reshape(-1, 12), varying)  # the last rollout PPO trained on
    assert model.ep_info_buffer
    for episode in model.ep_info_buffer:  # raw returns (VecMonitor is inside VecNormalize): 0.1 per frame, 1 per pipe
        pipes = episode["r"] - (0.1 * (episode["l"] - 1) - 1)
        assert pipes > -1e-4 and abs(pipes - round(pipes)) < 1e-4, episode
    model.save(tmp_path / "ppo")
    loaded = PPO.load(tmp_path / "ppo", device="cpu")
    obs = venv.reset()
    action, _ = loaded.predict(obs, deterministic=True)
    assert action.shape == (8,)
    np.testing.assert_array_equal(action, model.predict(obs, deterministic=True)[0])
    for name, p in loaded.policy.named_parameters():
        np.testing.assert_array_equal(p.detach(), model.policy.get_parameter(name).detach())


def test_rgb_array_images():
    # Game i of the VecEnv draws exactly what a single env seeded with seed + i draws after the same play
    venv = FlappyBirdVecEnv(2, seed=0, render_mode="rgb_array")
    obs = venv.reset()
    expert, played = FlappyBirdExpert(), []
    for _ in range(90):  # the first pipes, of different heights in the two games, are on screen
        actions, _ = expert.predict(obs)
        obs, _, dones, _ = venv.step(actions)
        played.append(actions)
        assert not dones.any()
    images = venv.get_images()
    assert len(images) == 2
    for i in range(2):
        env = gym.make("sb3_behave/FlappyBird-v0", render_mode="rgb_array")
        env.reset(seed=i)
        for actions in played:
            env.step(actions[i])
        np.testing.assert_array_equal(images[i], env.render())
        assert (images[i] == (96, 178, 52)).all(axis=2).sum() > 5_000  # pipe green: a pipe is drawn
    differ = (images[0] != images[1]).any(axis=2)
    assert differ.sum() > 500  # the games differ (pipes, the bird's flight), so do their images
    np.testing.assert_array_equal(venv.render(), np.concatenate(images))  # SB3 tiles 2 images one above the other
