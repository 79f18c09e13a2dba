"""The positive generator reward of AIRL and preference comparisons; a learned reward given to a fresh run."""

from pathlib import Path

import numpy as np
import pytest
import torch as th
import yaml
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger

from sb3_behave.cli import main
from sb3_behave.demos import record_demonstrations
from sb3_behave.zoo import AIRL, GAIL, PreferenceComparisons, load_agent
from sb3_behave.zoo.adapters.positive import positive_reward
from sb3_behave.zoo.learned_reward import LearnedReward
from sb3_behave.zoo.loading import without_learned_reward

SMALL = {"gen_algo": "a2c", "n_steps": 16, "demo_batch_size": 64, "seed": 0}


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "cartpole"
    record_demonstrations("CartPole-v1", folder, episodes=4, expert="random", seed=0, progress_bar=False)
    return folder


@pytest.fixture(scope="module")
def airl_zips(demos, tmp_path_factory):
    """AIRL trained a little with each generator reward, saved as zoo run folders ``logs/airl/CartPole-v1_<n>``."""
    zips = {}
    for n, generator_reward in enumerate(("logit", "positive"), start=1):
        model = AIRL("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), demonstrations=str(demos), **SMALL)
        model.generator_reward = generator_reward
        model.learn(128)
        run = tmp_path_factory.mktemp("logs") / "airl" / f"CartPole-v1_{n}"
        run.mkdir(parents=True)
        model.save(run / "CartPole-v1.zip")
        zips[generator_reward] = run / "CartPole-v1.zip"
    return zips


def _transitions(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    return obs, rng.integers(0, 2, size=n), rng.normal(size=(n, 4)).astype(np.float32), rng.random(n) < 0.2


def test_positive_reward_is_softplus_positive_and_keeps_the_order():
    reward = np.array([-30.0, -2.0, 0.0, 3.0, 40.0])
    positive = positive_reward(reward)
    np.testing.assert_allclose(positive, np.log1p(np.exp(reward)), rtol=1e-12)
    assert (positive > 0).all() and (np.diff(positive) > 0).all() and np.isfinite(positive).all()


def test_airl_refuses_an_unknown_generator_reward_and_the_zoo_checks_see_the_key(demos, tmp_path):
    with pytest.raises(ValueError, match=r"generator_reward is 'survival': expected one of logit, positive"):
        AIRL("MlpPolicy", "CartPole-v1", demonstrations=str(demos), generator_reward="survival")
    import inspect

    assert inspect.signature(AIRL.__init__).parameters["generator_reward"].default == "logit"


@pytest.mark.parametrize("generator_reward", ["logit", "positive"])
def test_the_generator_is_trained_on_the_reward_it_names(generator_reward, demos):
    model = AIRL("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), demonstrations=str(demos), **SMALL)
    model.generator_reward = generator_reward
    model.set_logger(Logger(folder=None, output_formats=[]))
    trainer = model._make_trainer(model._load_demonstrations(), model._make_generator(), model._imitation_logger())
    assert trainer.gen_algo.get_env() is trainer.venv_train  # the generator steps the env that gives this reward
    with th.no_grad():  # a net whose output is far below 0, as AIRL's learned reward is on Flappy Bird
        for parameter in model.reward_net.parameters():
            parameter.mul_(0.0)
        model.reward_net.base.mlp.dense_final.bias.fill_(-5.0)
    venv = trainer.venv_train
    venv.reset()
    _, rewards, _, infos = venv.step(np.zeros(2, dtype=np.int64))
    expected = -5.0 if generator_reward == "logit" else np.log1p(np.exp(-5.0))
    np.testing.assert_allclose(rewards, expected, rtol=1e-5)
    assert all(info["original_env_rew"] == 1.0 for info in infos)  # CartPole's own reward, kept beside it


def test_learned_reward_gives_the_unshaped_or_shaped_net_of_the_saved_model(airl_zips):
    saved = AIRL.load(airl_zips["logit"])
    obs, acts, next_obs, dones = _transitions()
    venv = LearnedReward(make_vec_env("CartPole-v1", n_envs=2, seed=1), model=airl_zips["logit"].parent)
    unshaped = venv.reward_fn(obs, acts, next_obs, dones)
    np.testing.assert_allclose(unshaped, saved.reward_net.base.predict_processed(obs, acts, next_obs, dones), rtol=1e-6)
    shaped = LearnedReward(make_vec_env("CartPole-v1", n_envs=2), model=airl_zips["logit"], reward="shaped")
    full = saved.reward_net.predict_processed(obs, acts, next_obs, dones)
    np.testing.assert_allclose(shaped.reward_fn(obs, acts, next_obs, dones), full, rtol=1e-6)
    assert not np.allclose(full, unshaped)  # the potential shaping is there, and left out by default
    # The env's own reward stays in the infos; the steps are rewarded by the net.
    venv.reset()
    _, rewards, _, infos = venv.step(np.zeros(2, dtype=np.int64))
    assert all(info["original_env_rew"] == 1.0 for info in infos) and not np.allclose(rewards, 1.0)


def test_learned_reward_of_a_positive_airl_is_positive_as_its_generator_got(airl_zips):
    saved = AIRL.load(airl_zips["positive"])
    assert saved.generator_reward == "positive"  # saved with the model
    obs, acts, next_obs, dones = _transitions()
    venv = LearnedReward(make_vec_env("CartPole-v1", n_envs=2), model=airl_zips["positive"])
    raw = saved.reward_net.base.predict_processed(obs, acts, next_obs, dones)
    np.testing.assert_allclose(venv.reward_fn(obs, acts, next_obs, dones), positive_reward(raw), rtol=1e-6)


@pytest.mark.parametrize("generator_reward", ["learned", "positive"])
def test_learned_reward_of_preference_comparisons_is_what_its_generator_got(generator_reward, tmp_path):
    run = tmp_path / "logs" / "preference_comparisons" / "CartPole-v1_1"
    run.mkdir(parents=True)
    model = PreferenceComparisons("MlpPolicy", "CartPole-v1", generator_reward=generator_reward, seed=0)
    model.save(run / "CartPole-v1.zip")
    obs, acts, next_obs, dones = _transitions()
    raw = model.reward_net.predict_processed(obs, acts, next_obs, dones)
    expected = positive_reward(raw) if generator_reward == "positive" else raw
    venv = LearnedReward(make_vec_env("CartPole-v1", n_envs=2), model=run)
    np.testing.assert_allclose(venv.reward_fn(obs, acts, next_obs, dones), expected, rtol=1e-6)
    assert not np.allclose(raw, positive_reward(raw))


def test_learned_reward_refuses_what_it_cannot_use_with_the_file_named(airl_zips, demos, tmp_path):
    run = airl_zips["logit"].parent
    with pytest.raises(ValueError, match=r"reward is 'potential': expected one of unshaped, shaped"):
        LearnedReward(make_vec_env("CartPole-v1"), model=run, reward="potential")
    with pytest.raises(ValueError, match=r"the reward net's observation_space is Box.*the env's is Box"):
        LearnedReward(make_vec_env("Acrobot-v1"), model=run)
    ppo = tmp_path / "ppo.zip"
    PPO("MlpPolicy", "CartPole-v1", seed=0).save(ppo)
    with pytest.raises(ValueError, match=r"ppo\.zip: not a model of airl .*expected a model zip of AIRL"):
        LearnedReward(make_vec_env("CartPole-v1"), model=ppo)
    (tmp_path / "logs" / "ppo" / "CartPole-v1_1").mkdir(parents=True)
    PPO("MlpPolicy", "CartPole-v1", seed=0).save(tmp_path / "logs" / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip")
    with pytest.raises(ValueError, match=r"CartPole-v1\.zip: PPO saves no reward net"):
        LearnedReward(make_vec_env("CartPole-v1"), model=tmp_path / "logs" / "ppo" / "CartPole-v1_1")
    with pytest.raises(ValueError, match=r"nothing\.zip: no such file or folder: expected a model \.zip"):
        LearnedReward(make_vec_env("CartPole-v1"), model=tmp_path / "nothing.zip")
    empty = tmp_path / "logs" / "airl" / "CartPole-v1_9"
    empty.mkdir(parents=True)
    with pytest.raises(ValueError, match=r"CartPole-v1_9: expected the run's one final model <env>\.zip, found none"):
        LearnedReward(make_vec_env("CartPole-v1"), model=empty)
    (empty / "CartPole-v1").mkdir()
    (empty / "CartPole-v1" / "vecnormalize.pkl").write_bytes(b"")
    with pytest.raises(ValueError, match=r"normalized its observations"):
        LearnedReward(make_vec_env("CartPole-v1"), model=empty)
    gail = tmp_path / "logs" / "gail" / "CartPole-v1_1"  # GAIL's net has no shaping: its output as it is
    gail.mkdir(parents=True)
    model = GAIL("MlpPolicy", "CartPole-v1", demonstrations=str(demos), seed=0)
    model.save(gail / "CartPole-v1.zip")
    obs, acts, next_obs, dones = _transitions()
    venv = LearnedReward(make_vec_env("CartPole-v1"), model=gail)
    expected = model.reward_net.predict_processed(obs, acts, next_obs, dones)
    np.testing.assert_allclose(venv.reward_fn(obs, acts, next_obs, dones), expected, rtol=1e-6)


def test_a_fresh_ppo_trains_on_the_learned_reward_through_the_zoo(airl_zips, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wrapper = {"sb3_behave.zoo.learned_reward.LearnedReward": {"model": str(airl_zips["positive"].parent)}}
    entry = {"n_envs": 2, "n_timesteps": 128, "policy": "MlpPolicy", "n_steps": 32, "vec_env_wrapper": [wrapper]}
    conf = tmp_path / "ppo.yml"
    conf.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    seen = []
    original = LearnedReward._reward

    def spy(self, *args):
        seen.append(original(self, *args))
        return seen[-1]

    monkeypatch.setattr(LearnedReward, "_reward", spy)
    argv = ["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(conf), "--seed", "0", "--eval-freq", "-1"]
    assert main(argv) == 0
    assert Path("logs/ppo/CartPole-v1_1/CartPole-v1.zip").is_file()
    rewards = np.concatenate(seen)
    assert len(rewards) >= 128 and (rewards > 0).all() and not np.allclose(rewards, 1.0)  # softplus of the net, not CartPole's
    # Acting needs no reward: the run loads and plays from another folder (the config's model path is relative),
    # and its test env gives CartPole's own reward.
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    model = load_agent("ppo", "CartPole-v1", folder=tmp_path / "logs", hub=False)
    env = model.get_env()
    env.reset()
    _, reward, _, _ = env.step(model.predict(env.reset(), deterministic=True)[0])
    assert reward.tolist() == [1.0]
    enjoy = ["enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path / "logs"), "-n", "20", "--no-render"]
    assert main(enjoy) == 0


def test_without_learned_reward_keeps_every_other_wrapper():
    other = {"my.Wrapper": {"k": 1}}
    learned = {"sb3_behave.zoo.learned_reward.LearnedReward": {"model": "logs/airl/x_1"}}
    params = {"n_envs": 2, "vec_env_wrapper": [other, learned]}
    assert without_learned_reward(params) == {"n_envs": 2, "vec_env_wrapper": [other]}
    assert params["vec_env_wrapper"] == [other, learned]  # the saved hyperparameters are not changed
    assert without_learned_reward({"vec_env_wrapper": [learned]}) == {}
    assert without_learned_reward({"vec_env_wrapper": "my.Wrapper"}) == {"vec_env_wrapper": "my.Wrapper"}
    assert without_learned_reward({"n_envs": 1}) == {"n_envs": 1}
