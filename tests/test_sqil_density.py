"""SQIL and density-based reward modelling as SB3 algorithms: learning, callbacks, save/load, the zoo, Optuna, bad input."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.agents import algorithm_class
from sb3_behave.cli import main
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.zoo import SQIL, Density

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny networks: one thread is faster than several fighting over a busy machine's cores."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "cartpole"
    record_demonstrations("CartPole-v1", folder, episodes=5, expert="random", seed=0, progress_bar=False)
    return folder


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "pendulum"
    record_demonstrations("Pendulum-v1", folder, episodes=1, expert="random", seed=0, progress_bar=False)
    return folder


class CountSteps(BaseCallback):
    def __init__(self, stop_after: int | None = None):
        super().__init__()
        self.calls = 0
        self.stop_after = stop_after

    def _on_step(self) -> bool:
        self.calls += 1
        return self.stop_after is None or self.calls < self.stop_after


SMALL_SQIL = {"learning_starts": 50, "batch_size": 32, "policy_kwargs": {"net_arch": [32, 32]}}
SMALL_DENSITY = {"n_steps": 64, "batch_size": 32, "n_epochs": 2, "policy_kwargs": {"net_arch": [32, 32]}}
CASES = {
    "sqil-dqn-cartpole": (SQIL, "CartPole-v1", SMALL_SQIL, 200),
    "sqil-sac-pendulum": (SQIL, "Pendulum-v1", {**SMALL_SQIL, "learning_starts": 70}, 90),
    "density-ppo-cartpole": (Density, "CartPole-v1", SMALL_DENSITY, 128),
    # a compact kernel (minus infinity outside its support) and the next state, with A2C
    "density-a2c-pendulum": (
        Density,
        "Pendulum-v1",
        {"gen_algo": "a2c", "n_steps": 16, "density_type": "state_state", "kernel": "tophat", "kernel_bandwidth": 0.3},
        64,
    ),
}


def _transitions(folder):
    trajectories = load_demonstrations(folder)
    obs = np.concatenate([t.obs[:-1] for t in trajectories])
    next_obs = np.concatenate([t.obs[1:] for t in trajectories])
    return obs, np.concatenate([t.acts for t in trajectories]), next_obs


def _acting_weights(model):
    return model.actor.state_dict() if isinstance(model, SQIL) and model.rl_algo == "sac" else model.policy.state_dict()


@pytest.mark.parametrize("case", CASES)
def test_learns_calls_back_every_step_and_reloads_to_the_same_actions(case, cartpole_demos, pendulum_demos, tmp_path):
    cls, env_id, kwargs, steps = CASES[case]
    demos = cartpole_demos if env_id == "CartPole-v1" else pendulum_demos
    env = make_vec_env(env_id, n_envs=1, seed=0)
    model = cls("MlpPolicy", env, demonstrations=str(demos), seed=0, **kwargs)
    before = {k: v.clone() for k, v in _acting_weights(model).items()}
    counter = CountSteps()
    model.learn(steps, callback=counter)
    assert counter.calls == model.num_timesteps >= steps  # one env: one call per env step
    assert any(not th.equal(before[k], v) for k, v in _acting_weights(model).items())  # it trained its own policy
    obs, acts, next_obs = _transitions(demos)
    if cls is Density:
        rewards = model.reward(obs, acts, next_obs)
        assert rewards.shape == (len(obs),) and np.isfinite(rewards).all() and len(np.unique(rewards)) > 1
    model.save(tmp_path / "model")
    reloaded = cls.load(tmp_path / "model", env=env)
    trained, loaded = model.policy.state_dict(), reloaded.policy.state_dict()
    assert list(loaded) == list(trained) and all(th.equal(loaded[k], trained[k]) for k in trained)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], reloaded.predict(obs, deterministic=True)[0])
    if cls is SQIL:  # the RL algorithm's optimizers and counters came back too
        for name in model.rl_model._get_torch_save_params()[0]:
            if name.endswith("optimizer"):
                saved = model.rl_model.get_parameters()[name]["state"]
                restored = reloaded.rl_model.get_parameters()[name]["state"]
                assert all(th.equal(saved[i]["exp_avg"], restored[i]["exp_avg"]) for i in saved)
        assert reloaded.rl_model._n_updates == model.rl_model._n_updates > 0
    else:  # the same reward, from the saved density inputs: the demonstrations are not read again
        reloaded.demonstrations = str(tmp_path / "gone")
        np.testing.assert_array_equal(reloaded.reward(obs, acts, next_obs), rewards)
    reloaded.learn(32, reset_num_timesteps=False)  # the zoo's -i: continue from a saved model
    assert reloaded.num_timesteps >= model.num_timesteps + 32
    # without an env: it still acts (SAC's target entropy and the policy's spaces come from the file)
    np.testing.assert_array_equal(
        cls.load(tmp_path / "model").predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0]
    )


@pytest.mark.parametrize("cls", [SQIL, Density])
def test_stops_when_a_callback_says_so_and_continues_the_count(cls, cartpole_demos):
    kwargs = SMALL_SQIL if cls is SQIL else SMALL_DENSITY
    model = cls("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), seed=0, **kwargs)
    model.learn(500, callback=CountSteps(stop_after=10))
    assert model.num_timesteps == 10
    counter = CountSteps()
    model.learn(64, callback=counter, reset_num_timesteps=False)
    assert model.num_timesteps == 10 + counter.calls >= 74


def test_sqil_picks_dqn_or_sac_and_reads_back_its_hyperparameters(cartpole_demos):
    from stable_baselines3 import DQN, SAC

    dqn = SQIL("MlpPolicy", "CartPole-v1", train_freq=8, gamma=0.9, learning_rate=3e-4)
    assert isinstance(dqn.rl_model, DQN) and dqn.rl_algo == "dqn" and dqn.policy is dqn.rl_model.policy
    assert dqn.train_freq == 8 and dqn.rl_model.gamma == 0.9 and dqn.policy.optimizer.param_groups[0]["lr"] == 3e-4
    sac = SQIL("MlpPolicy", "Pendulum-v1")
    assert isinstance(sac.rl_model, SAC) and sac.rl_algo == "sac" and sac.actor is sac.rl_model.actor
    assert type(sac.rl_model.replay_buffer).__name__ == "SQILReplayBuffer"


def test_sqil_demonstrations_are_sampled_on_the_models_device(cartpole_demos, monkeypatch):
    """imitation makes the demonstrations' buffer on its default device ("auto": CUDA when there is one)."""
    import stable_baselines3.common.buffers as buffers

    get_device = buffers.get_device

    def auto_is_elsewhere(device="auto"):  # another device than the model's (the meta device: CUDA on a GPU machine)
        return th.device("meta") if device == "auto" else get_device(device)

    monkeypatch.setattr(buffers, "get_device", auto_is_elsewhere)
    model = SQIL("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), seed=0, device="cpu", **SMALL_SQIL)
    model.learn(80)  # 30 steps past learning_starts: batches of both halves
    buffer = model.rl_model.replay_buffer
    assert model.rl_model._n_updates > 0 and buffer.expert_buffer.device == buffer.device == model.device == th.device("cpu")
    batch = buffer.sample(7)
    assert all(field is None or field.device == th.device("cpu") for field in batch)
    assert batch.rewards.flatten().tolist() == [0.0] * 3 + [1.0] * 4  # the agent's half, then the demonstrations'


class SaveMidway(BaseCallback):
    """Saves the model at one step of ``learn`` and keeps the RL algorithm's counters at that moment."""

    def __init__(self, path: Path, at_step: int):
        super().__init__()
        self.path, self.at_step, self.counters = path, at_step, {}

    def _on_step(self) -> bool:
        if self.n_calls == self.at_step:
            self.model.save(self.path)
            rl = self.model.rl_model
            self.counters = {key: getattr(rl, key) for key in ("_n_updates", "_n_calls", "exploration_rate")}
        return True


def test_sqil_saved_during_learn_holds_the_counters_of_that_moment(cartpole_demos, tmp_path):
    model = SQIL("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), seed=0, **SMALL_SQIL)
    midway = SaveMidway(tmp_path / "checkpoint", at_step=90)
    model.learn(120, callback=midway)
    assert midway.counters["_n_updates"] > 0 and model.rl_model._n_updates > midway.counters["_n_updates"]
    loaded = SQIL.load(tmp_path / "checkpoint").rl_model
    assert {key: getattr(loaded, key) for key in midway.counters} == midway.counters


def test_sqil_refuses_dict_observations():
    from stable_baselines3.common.envs import SimpleMultiObsEnv

    with pytest.raises(ValueError, match=r"^sqil: the env's observations are a Dict space \(img, vec\), which imitation"):
        SQIL("MultiInputPolicy", SimpleMultiObsEnv())
    with pytest.raises(ValueError, match=r"^sqil: policy MultiInputPolicy is for Dict observations"):
        SQIL("MultiInputPolicy", "CartPole-v1")


def test_density_reward_is_higher_near_the_demonstrations(cartpole_demos):
    model = Density("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), density_type="state", seed=0)
    obs, acts, next_obs = _transitions(cartpole_demos)
    far = obs + 3 * obs.std(axis=0)
    assert model.reward(obs, acts, next_obs).mean() > model.reward(far, acts, far).mean() + 1


def test_density_scores_a_batch_as_imitation_scores_each_transition(cartpole_demos):
    model = Density("MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), reward_floor=None, seed=0)
    obs, acts, next_obs = _transitions(cartpole_demos)
    obs, acts, next_obs = obs[:40] + 0.05, acts[:40], next_obs[:40]  # near the demonstrations, not on them
    one_by_one = model._density_trainer()(obs, acts, next_obs, np.zeros(len(obs), dtype=bool))
    np.testing.assert_allclose(model.log_density(obs, acts, next_obs), one_by_one, rtol=1e-5)
    np.testing.assert_allclose(model.reward(obs, acts, next_obs), one_by_one, rtol=1e-5)


def test_density_positive_reward_is_softplus_of_the_log_density_and_pays_far_from_the_demonstrations(cartpole_demos):
    kwargs = {"demonstrations": str(cartpole_demos), "density_type": "state", "seed": 0}
    raw = Density("MlpPolicy", "CartPole-v1", reward_floor=None, **kwargs)
    positive = Density("MlpPolicy", "CartPole-v1", generator_reward="positive", **kwargs)
    obs, acts, next_obs = _transitions(cartpole_demos)
    far = obs + 3 * obs.std(axis=0)
    for states in (obs, far):
        log_p = raw.reward(states, acts, states)
        np.testing.assert_allclose(positive.reward(states, acts, states), np.logaddexp(0.0, log_p), rtol=1e-5)
    assert raw.reward(far, acts, far).max() < 0  # the log-density: ending the episode would pay
    rewards = positive.reward(far, acts, far)
    assert (rewards >= 0).all() and positive.reward(obs, acts, next_obs).mean() > 100 * rewards.mean()


def test_density_fits_at_most_max_kernel_centres_and_a_loaded_model_gives_the_same_reward(cartpole_demos, tmp_path):
    model = Density(
        "MlpPolicy", "CartPole-v1", demonstrations=str(cartpole_demos), max_kernel_centres=30, kernel_rtol=0.01,
        seed=0, **SMALL_DENSITY,
    )  # fmt: skip
    obs, acts, next_obs = _transitions(cartpole_demos)
    assert len(obs) > 30
    rewards = model.reward(obs, acts, next_obs)
    density = model._density_trainer()._density_models[None]
    assert density.tree_.data.shape[0] == 30 and len(model.density_inputs) == 30 and density.rtol == 0.01
    # the centres are demonstrations' transitions (the scaled inputs are state-action rows)
    rows = np.concatenate([obs, np.eye(2)[acts]], axis=1)
    assert all(np.isclose(rows, centre).all(axis=1).any() for centre in model.density_inputs)
    model.save(tmp_path / "density.zip")
    loaded = Density.load(tmp_path / "density.zip", env=make_vec_env("CartPole-v1"))
    assert loaded.max_kernel_centres == 30 and loaded.kernel_rtol == 0.01
    np.testing.assert_allclose(loaded.reward(obs, acts, next_obs), rewards, rtol=1e-6)


def _scalar_tags(run_folder: Path) -> set[str]:
    events = EventAccumulator(str(run_folder))
    events.Reload()
    return set(events.Tags()["scalars"])


def _config(tmp_path: Path, algo: str, entry: dict) -> Path:
    path = tmp_path / f"{algo}.yml"
    path.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    return path


ZOO_ENTRIES = {
    "sqil": (
        {"learning_starts": 50, "batch_size": 32, "train_freq": 8, "learning_rate": 5e-4, "gamma": 0.95},
        {"train/loss", "rollout/exploration_rate"},
    ),
    "density": (
        {"n_steps": 64, "batch_size": 32, "n_epochs": 2, "kernel_bandwidth": 0.3},
        {"train/value_loss", "rollout/ep_rew_wrapped_mean"},
    ),
}


@pytest.mark.parametrize("algo", ZOO_ENTRIES)
def test_trains_through_the_zoo_with_tensorboard_and_evaluations(algo, cartpole_demos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hyperparams, tags = ZOO_ENTRIES[algo]
    entry = {"n_timesteps": 200, "policy": "MlpPolicy", "demonstrations": str(cartpole_demos), **hyperparams}
    conf = _config(tmp_path, algo, entry)
    argv = ["train", "--algo", algo, "--env", "CartPole-v1", "-conf", str(conf), "-tb", "tb", "--eval-freq", "100"]
    assert main([*argv, "--eval-episodes", "2", "--seed", "0"]) == 0
    run = tmp_path / "logs" / algo / "CartPole-v1_1"
    (tb_run,) = (tmp_path / "tb" / "CartPole-v1").iterdir()
    assert tb_run.name == f"{algorithm_class(algo).__name__}_1"
    assert {*tags, "eval/mean_reward", "time/fps"} <= _scalar_tags(tb_run)
    evaluated = np.load(run / "evaluations.npz")["timesteps"]  # the zoo's evaluations, every 100 steps
    np.testing.assert_array_equal(evaluated, [100, 200])
    trained = algorithm_class(algo).load(run / "CartPole-v1.zip", env=make_vec_env("CartPole-v1"))  # density: a generator
    assert trained.num_timesteps >= 200
    generator = getattr(trained, "gen_kwargs", {})  # density: the generator's hyperparameters
    saved = {key: generator[key] if key in generator else getattr(trained, key) for key in hyperparams}
    if callable(saved.get("learning_rate")):  # SB3 >= 2.6: the zoo's float as a ConstantSchedule
        saved["learning_rate"] = saved["learning_rate"](1.0)
    assert saved == hyperparams  # the YAML's, saved with the model
    # ... and given to the algorithm that trains (read from it, not from the saved hyperparameters)
    inner = trained.rl_model if algo == "sqil" else trained._make_generator()
    used = {key: getattr(inner, key) for key in hyperparams if hasattr(inner, key)}
    if algo == "sqil":
        used["train_freq"] = inner.train_freq.frequency  # SB3's TrainFreq
        used["learning_rate"] = inner.policy.optimizer.param_groups[0]["lr"]  # DQN's own is a float or a schedule
        assert set(used) == set(hyperparams)
    else:
        assert set(used) == {"n_steps", "batch_size", "n_epochs"} and trained.kernel_bandwidth == 0.3
    assert used == {key: hyperparams[key] for key in used}
    assert trained.demonstrations == str(cartpole_demos)  # the path, not the data


BAD_ENTRIES = {
    "misspelt for sqil": (
        "sqil",
        "lerning_rate: 0.001",
        "sqil: unknown hyperparameter(s) lerning_rate: expected sqil's own or those of DQN",
    ),
    "misspelt for density": (
        "density",
        "kernel_bandwith: 0.5",
        "density: unknown hyperparameter(s) kernel_bandwith: expected",
    ),
    "an unknown rl_algo": ("sqil", "rl_algo: ppo", "rl_algo: 'ppo': expected dqn (Discrete actions) or sac (Box actions)"),
    "SAC for discrete actions": ("sqil", "rl_algo: sac", "sqil: rl_algo sac needs Box actions, but the env's are Discrete(2)"),
    "SQIL's own buffer": ("sqil", "replay_buffer_kwargs: {}", "replay_buffer_kwargs cannot be set"),
    "an unknown density_type": (
        "density",
        "density_type: states",
        "density_type 'states': expected one of state, state_action, state_state",
    ),
    "an unknown kernel": ("density", "kernel: gauss", "kernel 'gauss': expected one of gaussian, tophat"),
    "a bandwidth of 0": ("density", "kernel_bandwidth: 0", "kernel_bandwidth 0: expected a number above 0"),
    "a non-stationary density": ("density", "is_stationary: false", "is_stationary: False needs the time step"),
    "an unknown generator reward": (
        "density",
        "generator_reward: survival",
        "density: generator_reward is 'survival': expected one of log_density, positive",
    ),
    "a tolerance of 1": ("density", "kernel_rtol: 1", "kernel_rtol 1: expected a number in [0, 1)"),
    "no kernel centre": ("density", "max_kernel_centres: 0", "max_kernel_centres 0: expected a whole number above 0"),
}


@pytest.mark.parametrize("case", BAD_ENTRIES)
def test_a_wrong_hyperparameter_is_refused_with_its_name(case, tmp_path, capsys):
    algo, line, message = BAD_ENTRIES[case]
    conf = tmp_path / f"{algo}.yml"
    conf.write_text(f"CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n  {line}\n")
    argv = ["train", "--algo", algo, "--env", "CartPole-v1", "-conf", str(conf), "-f", str(tmp_path / "logs")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("sb3-behave: error: ") and message in err, err


@pytest.mark.parametrize("algo", ["sqil", "density"])
def test_every_sampled_trial_builds_the_algorithm_with_its_draws(algo):
    import optuna

    from sb3_behave.zoo.registry import register_algorithms
    from sb3_behave.zoo.samplers import NET_ARCHS

    register_algorithms()
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = []
    for draw in range(12):
        trial = study.ask()
        hyperparams = HYPERPARAMS_SAMPLER[algo](trial, 1, 1, {})
        study.tell(trial, 0.0)
        env_id = "Pendulum-v1" if draw % 2 else "CartPole-v1"  # SQIL: SAC, then DQN
        model = algorithm_class(algo)("MlpPolicy", env_id, **hyperparams)
        assert model.policy.net_arch == NET_ARCHS[trial.params["net_arch"]]
        holder = model._make_generator() if algo == "density" else model.rl_model
        optimizer = holder.policy.optimizer if hasattr(holder.policy, "optimizer") else holder.actor.optimizer
        assert optimizer.param_groups[0]["lr"] == pytest.approx(hyperparams["learning_rate"])
        assert holder.batch_size == hyperparams["batch_size"] and holder.gamma == hyperparams["gamma"]
        if algo == "sqil":
            assert holder.train_freq.frequency == hyperparams["train_freq"]
        else:
            assert {k: getattr(model, k) for k in ("density_type", "kernel", "kernel_bandwidth")} == {
                k: hyperparams[k] for k in ("density_type", "kernel", "kernel_bandwidth")
            }
        drawn.append(trial.params["learning_rate"])
    assert len(set(drawn)) == 12


def test_sqil_and_density_example(tmp_path):
    example = ROOT / "examples" / "sqil_and_density.py"
    argv = [sys.executable, str(example), "--timesteps", "200", "--expert-timesteps", "0", "--episodes", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny networks (see _one_torch_thread)
    out = subprocess.run(
        [*argv, "--out", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout
    for name in ("SQIL", "Density"):
        found = re.search(rf"{name}: mean return (\d+\.\d) \+/- (\d+\.\d) over 10 episodes after (\d+) steps", out)
        assert found, out
        assert 8 <= float(found.group(1)) <= 500 and int(found.group(3)) >= 200  # CartPole: 8 to 500 steps per episode
    assert len(load_demonstrations(tmp_path / "cartpole_demos")) == 3
    assert SQIL.load(tmp_path / "sqil.zip").num_timesteps >= 200 and (tmp_path / "density.zip").is_file()
