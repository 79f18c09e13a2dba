"""AbsorbingHorizon: episodes of a fixed length, the terminal observation repeated after termination."""

import gymnasium as gym
import numpy as np
import pytest

from sb3_behave.envs.wrappers import AbsorbingHorizon


def test_every_episode_lasts_the_horizon_and_keeps_the_envs_return():
    plain = gym.make("CartPole-v1")
    wrapped = AbsorbingHorizon(gym.make("CartPole-v1"), horizon=60)
    plain.action_space.seed(0)
    for episode in range(3):
        obs, _ = wrapped.reset(seed=episode)
        plain_obs, _ = plain.reset(seed=episode)
        np.testing.assert_array_equal(obs, plain_obs)
        actions = [plain.action_space.sample() for _ in range(60)]  # random play falls within ~20 steps
        plain_return, plain_steps = 0.0, 0
        for action in actions:
            plain_obs, reward, terminated, truncated, _ = plain.step(action)
            plain_return += reward
            plain_steps += 1
            if terminated or truncated:
                break
        assert terminated and plain_steps < 60
        total, steps, ended = 0.0, 0, False
        for action in actions:
            obs, reward, terminated, truncated, info = wrapped.step(action)
            total, steps = total + reward, steps + 1
            assert not terminated
            if steps > plain_steps:  # absorbing: the terminal observation again, reward 0
                np.testing.assert_array_equal(obs, plain_obs)
                assert reward == 0.0 and info == {"absorbing": True}
            if truncated:
                ended = True
                break
        assert ended and steps == 60
        assert total == plain_return


def test_the_wrapped_envs_own_time_limit_still_ends_the_episode():
    env = AbsorbingHorizon(gym.make("CartPole-v1", max_episode_steps=5), horizon=100)
    env.reset(seed=0)
    truncated = [env.step(i % 2)[3] for i in range(5)]
    assert truncated == [False, False, False, False, True]


@pytest.mark.parametrize("horizon", [0, -3, 2.5])
def test_a_bad_horizon_is_named(horizon):
    with pytest.raises(ValueError, match=rf"horizon must be a whole number of steps >= 1, got {horizon}"):
        AbsorbingHorizon(gym.make("CartPole-v1"), horizon=horizon)
