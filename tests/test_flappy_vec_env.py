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


def test_works_under_vec_monitor_vec_normalize_and_ppo(tmp_path):
    venv = VecNormalize(VecMonitor(FlappyBirdVecEnv(8, seed=0)), norm_reward=True)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=1, seed=0, device="cpu")
    model.learn(1024)
    episodes = [info for info in model.ep_info_buffer]
    assert episodes and all("r" in e and "l" in e for e in episodes)
    model.save(tmp_path / "ppo")
    loaded = PPO.load(tmp_path / "ppo", device="cpu")
    action, _ = loaded.predict(venv.reset(), deterministic=True)
    assert action.shape == (8,)


def test_rgb_array_images():
    venv = FlappyBirdVecEnv(2, seed=0, render_mode="rgb_array")
    venv.reset()
    images = venv.get_images()
    assert len(images) == 2 and images[0].shape == (512, 288, 3)
    assert venv.render().shape[2] == 3
