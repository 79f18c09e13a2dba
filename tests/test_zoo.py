"""The RL Zoo integration: imitation's algorithms as SB3 algorithms, `sb3-behave train/enjoy/record-video`, loading agents."""

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.cli import main
from sb3_behave.demos import record_demonstrations
from sb3_behave.zoo import AIRL, BC, GAIL, DAgger, load_agent
from sb3_behave.zoo.commands import PRETRAINED_FOLDER

ROOT = Path(__file__).resolve().parent.parent
FLAPPY = "sb3_behave/FlappyBird-v0"


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "cartpole"
    record_demonstrations("CartPole-v1", folder, episodes=10, expert="random", seed=0, progress_bar=False)
    return folder


@pytest.fixture(scope="module")
def flappy_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "flappy"
    record_demonstrations(FLAPPY, folder, episodes=2, skill="strong", max_episode_steps=300, progress_bar=False)
    return folder


def _scalar_tags(run_folder: Path) -> set[str]:
    events = EventAccumulator(str(run_folder))
    events.Reload()
    return set(events.Tags()["scalars"])


class CountSteps(BaseCallback):
    def __init__(self, stop_after: int | None = None):
        super().__init__()
        self.calls = 0
        self.stop_after = stop_after

    def _on_step(self) -> bool:
        self.calls += 1
        return self.stop_after is None or self.calls < self.stop_after


ADAPTERS = [
    (BC, {}, 64),
    (DAgger, {"rollout_round_min_timesteps": 64, "rollout_round_min_episodes": 1}, 128),
    (GAIL, {"n_steps": 64, "batch_size": 32, "demo_batch_size": 64}, 256),
    (AIRL, {"gen_algo": "a2c", "n_steps": 16, "demo_batch_size": 64}, 128),
]


@pytest.mark.parametrize("cls, kwargs, steps", ADAPTERS, ids=lambda v: getattr(v, "__name__", ""))
def test_adapter_learns_saves_and_reloads_to_the_same_actions(cls, kwargs, steps, cartpole_demos, tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    if cls is DAgger:
        kwargs = {**kwargs, "expert": _random_expert_zip(tmp_path)}
    model = cls("MlpPolicy", env, demonstrations=str(cartpole_demos), seed=0, **kwargs)
    before = [p.detach().clone() for p in model.policy.parameters()]
    counter = CountSteps()
    model.learn(steps, callback=counter)
    assert model.num_timesteps >= steps and counter.calls > 0
    assert any(not th.equal(a, b) for a, b in zip(before, model.policy.parameters()))  # it trained its own policy
    model.save(tmp_path / "model")
    obs = env.reset()
    reloaded = cls.load(tmp_path / "model", env=env)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], reloaded.predict(obs, deterministic=True)[0])
    assert reloaded.get_env() is env and reloaded.get_vec_normalize_env() is None


def _random_expert_zip(tmp_path: Path) -> str:
    from stable_baselines3 import PPO

    path = tmp_path / "expert.zip"
    PPO("MlpPolicy", "CartPole-v1", seed=0).save(path)
    return str(path)


def test_bc_counts_gradient_steps_and_stops_when_a_callback_says_so(cartpole_demos):
    model = BC("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), seed=0)
    model.learn(50, callback=CountSteps(stop_after=10))
    assert model.num_timesteps == 10
    counter = CountSteps()
    model.learn(20, callback=counter, reset_num_timesteps=False)  # 20 more
    assert model.num_timesteps == 30 and counter.calls == 20


def test_dagger_finishes_its_round_when_stopped_and_continues_its_rounds(tmp_path):
    env = make_vec_env(FLAPPY, n_envs=2, seed=0, env_kwargs={"score_limit": 1})
    kwargs = {"expert": "scripted", "rollout_round_min_timesteps": 100, "rollout_round_min_episodes": 1, "seed": 0}
    model = DAgger("MlpPolicy", env, **kwargs)
    model.learn(10_000, callback=CountSteps(stop_after=5))  # stop asked at the 5th step: the round still completes
    assert model.round_num == 1 and model.num_timesteps >= 100
    model.learn(200, reset_num_timesteps=False)
    assert model.round_num >= 2
    model.save(tmp_path / "dagger")
    reloaded = DAgger.load(tmp_path / "dagger", env=env)
    rounds = reloaded.round_num
    reloaded.learn(100, reset_num_timesteps=False)  # the zoo's -i: continue from a saved model
    assert reloaded.round_num == rounds + 1


def test_dagger_labels_every_state_it_visits_with_the_scripted_expert(tmp_path):
    from sb3_behave.demos import load_demonstrations
    from sb3_behave.envs import FlappyBirdExpert

    env = make_vec_env(FLAPPY, n_envs=2, seed=0, env_kwargs={"score_limit": 2})
    model = DAgger(
        "MlpPolicy",
        env,
        expert="scripted",
        beta_rampdown=2,  # round 1 lets the learner act half of the time
        rollout_round_min_timesteps=100,
        rollout_round_min_episodes=1,
        scratch_dir=str(tmp_path),
        seed=0,
    )
    model.learn(400)
    rounds = sorted((tmp_path / "demos").glob("round-*"))
    assert model.round_num == len(rounds) >= 2
    expert = FlappyBirdExpert()
    for folder in rounds:  # imitation's own saved rounds: every label is the expert's action in that state
        for trajectory in load_demonstrations(sorted(folder.iterdir()), env=FLAPPY):
            np.testing.assert_array_equal(trajectory.acts, expert.act(trajectory.obs[:-1]))


def test_gail_trains_the_adapters_policy_and_keeps_the_reward_net(cartpole_demos, tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = GAIL("MlpPolicy", env, demonstrations=str(cartpole_demos), seed=0, n_steps=32, batch_size=32, demo_batch_size=32)
    before = [p.detach().clone() for p in model.reward_net.parameters()]
    policy_before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(128)
    assert model.round_num == 2
    assert any(not np.allclose(a, b.detach()) for a, b in zip(before, model.reward_net.parameters()))
    assert any(not np.allclose(a, b.detach()) for a, b in zip(policy_before, model.policy.parameters()))
    model.save(tmp_path / "gail")
    reloaded = GAIL.load(tmp_path / "gail")
    for a, b in zip(model.reward_net.parameters(), reloaded.reward_net.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_gail_with_a_gsde_generator_trains(tmp_path):
    # zoo_configs/gail.yml's Pendulum-v1 entry: TRPO with gSDE, which the adapter's policy must be built for
    record_demonstrations("Pendulum-v1", tmp_path / "d", 1, expert="random", progress_bar=False)
    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    model = GAIL(
        "MlpPolicy",
        env,
        demonstrations=str(tmp_path / "d"),
        gen_algo="trpo",
        use_sde=True,
        sde_sample_freq=4,
        n_steps=64,
        batch_size=64,
        demo_batch_size=64,
        seed=0,
    )
    policy_before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(128)
    assert model.policy.use_sde and model.round_num == 1
    assert any(not np.allclose(a, b.detach()) for a, b in zip(policy_before, model.policy.parameters()))


def test_clear_errors_for_bad_hyperparameters(cartpole_demos):
    with pytest.raises(ValueError, match="gen_algo: 'sac'"):
        GAIL("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), gen_algo="sac")
    with pytest.raises(ValueError, match=r"unknown hyperparameter.*n_stepz.*PPO"):
        GAIL("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), n_stepz=3)
    with pytest.raises(ValueError, match="`demonstrations` hyperparameter is missing"):
        BC("MlpPolicy", "CartPole-v1").learn(10)
    from stable_baselines3.common.vec_env import VecNormalize

    with pytest.raises(ValueError, match="normalizes observations"):
        BC("MlpPolicy", VecNormalize(make_vec_env("CartPole-v1")), demonstrations=str(cartpole_demos))


def _config(tmp_path: Path, algo: str, entry: dict) -> Path:
    path = tmp_path / f"{algo}.yml"
    path.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    return path


def test_train_gail_through_the_zoo_with_tensorboard_checkpoints_and_continuation(cartpole_demos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = {
        "n_envs": 2,
        "n_timesteps": 256,
        "policy": "MlpPolicy",
        "demonstrations": str(cartpole_demos),
        "n_steps": 64,
        "batch_size": 32,
        "demo_batch_size": 64,
    }
    conf = _config(tmp_path, "gail", entry)
    args = ["train", "--algo", "gail", "--env", "CartPole-v1", "-conf", str(conf), "--seed", "3"]
    assert main([*args, "-tb", "tb", "--eval-freq", "128", "--eval-episodes", "2", "--save-freq", "128"]) == 0
    run = tmp_path / "logs" / "gail" / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").is_file() and (run / "best_model.zip").is_file()
    assert list(run.glob("rl_model_*_steps.zip"))
    tags = _scalar_tags(tmp_path / "tb" / "CartPole-v1" / "GAIL_1")
    assert {"mean/disc/disc_loss", "mean/disc/disc_acc", "mean/gen/rollout/ep_rew_mean", "eval/mean_reward"} <= tags
    # -i continues from the saved model in a second run folder (the zoo restarts the step count; the rounds go on)
    assert main([*args, "-i", str(run / "CartPole-v1.zip"), "--eval-freq", "-1"]) == 0
    assert GAIL.load(run / "CartPole-v1.zip").round_num == 2
    assert GAIL.load(tmp_path / "logs" / "gail" / "CartPole-v1_2" / "CartPole-v1.zip").round_num == 4


@pytest.mark.parametrize("algo", ["bc", "dagger", "valuedice"])
def test_train_other_algorithms_through_the_zoo(algo, cartpole_demos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry: dict = {"n_timesteps": 200, "policy": "MlpPolicy"}
    if algo == "dagger":
        entry.update(expert=_random_expert_zip(tmp_path), rollout_round_min_timesteps=64, rollout_round_min_episodes=1)
    else:
        entry.update(demonstrations=str(cartpole_demos))
    if algo == "valuedice":
        entry.update(learning_starts=50, batch_size=32)
    conf = _config(tmp_path, algo, entry)
    assert main(["train", "--algo", algo, "--env", "CartPole-v1", "-conf", str(conf), "-tb", "tb", "--eval-freq", "100"]) == 0
    assert (tmp_path / "logs" / algo / "CartPole-v1_1" / "CartPole-v1.zip").is_file()
    assert "eval/mean_reward" in _scalar_tags(next((tmp_path / "tb" / "CartPole-v1").iterdir()))


def test_optuna_search_runs_for_an_imitation_algorithm(cartpole_demos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = _config(tmp_path, "bc", {"n_timesteps": 100, "policy": "MlpPolicy", "demonstrations": str(cartpole_demos)})
    argv = ["train", "--algo", "bc", "--env", "CartPole-v1", "-conf", str(conf), "-optimize", "--n-trials", "2"]
    assert main([*argv, "--n-evaluations", "1", "--eval-episodes", "1", "--sampler", "random", "--seed", "0"]) == 0
    assert list((tmp_path / "logs" / "bc").rglob("report_*.pkl"))


def test_train_without_a_config_names_the_file_to_pass(capsys):
    assert main(["train", "--algo", "gail", "--env", "CartPole-v1"]) == 2
    assert "-conf zoo_configs/gail.yml" in capsys.readouterr().err


def test_the_unmodified_zoo_trains_ppo_on_flappy_bird(tmp_path):
    # --gym-packages: gymnasium 1.x no longer loads the `gymnasium.envs` entry point (the README says so).
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", FLAPPY, "--gym-packages", "sb3_behave"]
    command += ["-n", "4096"]
    command += ["-conf", str(ROOT / "zoo_configs" / "ppo.yml"), "-f", str(tmp_path), "--eval-freq", "-1"]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    assert (tmp_path / "ppo" / "sb3_behave-FlappyBird-v0_1" / "sb3_behave-FlappyBird-v0.zip").is_file()


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "zoo_configs").glob("*.yml")))
def test_every_shipped_config_builds_its_algorithm(name, tmp_path):
    from sb3_behave.zoo.registry import register_algorithms

    register_algorithms()
    from rl_zoo3.utils import ALGOS

    algo = name.removesuffix(".yml").split("_")[0]
    for env_id, entry in yaml.safe_load((ROOT / "zoo_configs" / name).read_text()).items():
        entry = dict(entry)
        for key in ("n_timesteps", "n_envs", "normalize", "env_wrapper", "callback", "frame_stack", "demonstrations"):
            entry.pop(key, None)
        assert isinstance(entry.get("policy_kwargs", {}), dict)  # YAML mappings, never code to eval
        for key, value in list(entry.items()):
            if isinstance(value, str) and value.startswith("lin_"):
                entry[key] = float(value[4:])
        try:
            env = gym.make(env_id)
        except gym.error.DependencyNotInstalled:  # Hopper-v4 without the mujoco extra
            continue
        ALGOS[algo](env=env, **entry)  # demonstrations are checked by the tests of each algorithm


def test_enjoy_finds_the_shipped_flappy_bird_agent(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["enjoy", "--algo", "ppo", "--env", FLAPPY, "--no-render", "-n", "300", "--deterministic"]) == 0
    assert str(PRETRAINED_FOLDER) in capsys.readouterr().out


def test_record_video_of_the_shipped_agent(tmp_path, monkeypatch):
    pytest.importorskip("moviepy")
    monkeypatch.chdir(tmp_path)
    assert main(["record-video", "--algo", "ppo", "--env", FLAPPY, "-n", "100", "-o", str(tmp_path / "videos")]) == 0
    assert list((tmp_path / "videos").glob("*.mp4"))


def test_load_agent_applies_the_runs_vecnormalize_statistics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = _config(tmp_path, "ppo", {"n_timesteps": 256, "policy": "MlpPolicy", "n_steps": 128, "normalize": True})
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(conf), "--eval-freq", "-1"]) == 0
    model = load_agent("ppo", "CartPole-v1", folder="logs")
    from stable_baselines3.common.vec_env import VecNormalize

    normalize = model.get_vec_normalize_env()
    assert isinstance(normalize, VecNormalize) and not normalize.training and normalize.obs_rms.count > 256
    obs = model.get_env().reset()
    assert model.predict(obs)[0].shape == (1,)


def test_load_agent_loads_the_shipped_agent_and_says_when_the_hub_is_out_of_reach(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = load_agent("ppo", FLAPPY)
    assert model.get_env().observation_space.shape == (12,)

    import rl_zoo3.load_from_hub

    def offline(**kwargs):
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr(rl_zoo3.load_from_hub, "download_from_hub", offline)
    with pytest.raises(ValueError, match=r"Hugging Face hub could not provide one.*ConnectionError"):
        load_agent("gail", "CartPole-v1")
    with pytest.raises(ValueError, match="no gail agent for CartPole-v1 in logs"):
        load_agent("gail", "CartPole-v1", folder="logs", hub=False)


def test_record_demos_plays_a_model_of_our_own_algorithms(cartpole_demos, tmp_path):
    from sb3_behave.demos import load_episodes

    model = BC("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), seed=0)
    model.learn(50)
    model.save(tmp_path / "bc.zip")
    argv = ["record-demos", "--env", "CartPole-v1", "--expert", str(tmp_path / "bc.zip"), "--algo", "bc"]
    assert main([*argv, "--episodes", "1", "--out", str(tmp_path / "played")]) == 0
    (episode,) = load_episodes(tmp_path / "played")
    actions, _ = model.predict(episode.trajectory.obs[:-1], deterministic=True)
    np.testing.assert_array_equal(episode.trajectory.acts, actions)  # the model chose every action
