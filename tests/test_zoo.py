"""The RL Zoo integration: imitation's algorithms as SB3 algorithms, `sb3-behave train/enjoy/record-video`, loading agents."""

import re
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

from sb3_behave.agents import algorithm_class
from sb3_behave.cli import main
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.zoo import AIRL, BC, GAIL, DAgger, load_agent
from sb3_behave.zoo.commands import PRETRAINED_FOLDER, import_env_namespace

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
    # The trained weights themselves came back (a fresh policy of the same seed could act alike on two states).
    trained, loaded = model.policy.state_dict(), reloaded.policy.state_dict()
    assert list(loaded) == list(trained) and all(th.equal(loaded[k], trained[k]) for k in trained)
    states = th.as_tensor(np.concatenate([t.obs for t in load_demonstrations(cartpole_demos)]), dtype=th.float32)
    with th.no_grad():
        probs = [m.policy.get_distribution(states).distribution.probs for m in (model, reloaded)]
    th.testing.assert_close(probs[1], probs[0], rtol=0, atol=0)


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
    expert = FlappyBirdExpert.from_style("steady")  # the expert "scripted" names
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
    argv = ["train", "--algo", algo, "--env", "CartPole-v1", "-conf", str(conf), "-tb", "tb", "--eval-freq", "100"]
    assert main([*argv, "--seed", "0"]) == 0
    run = tmp_path / "logs" / algo / "CartPole-v1_1"
    assert "eval/mean_reward" in _scalar_tags(next((tmp_path / "tb" / "CartPole-v1").iterdir()))
    evaluated = np.load(run / "evaluations.npz")["timesteps"]  # the zoo's evaluations, every 100 steps
    np.testing.assert_array_equal(evaluated, 100 * np.arange(1, len(evaluated) + 1))
    cls = algorithm_class(algo)
    trained = cls.load(run / "CartPole-v1.zip")
    assert trained.num_timesteps >= 200 and len(evaluated) >= 2
    hyperparams = {key: value for key, value in entry.items() if key not in ("n_timesteps", "policy")}
    saved = {key: getattr(trained, key) for key in hyperparams if key != "demonstrations"}  # ValueDICE keeps no path
    assert saved == {key: hyperparams[key] for key in saved}  # the YAML's, saved with the model
    # It trained: its actor's weights are not those the zoo's model started from (same seed, same hyperparameters).
    initial = _acting_weights(cls("MlpPolicy", "CartPole-v1", seed=0, **hyperparams))
    assert any(not th.equal(initial[k], v) for k, v in _acting_weights(trained).items())


def _acting_weights(model):
    """The weights that choose the actions: ValueDICE's actor, an actor-critic policy less its value branch."""
    if hasattr(model, "actor"):
        return model.actor.state_dict()
    return {k: v for k, v in model.policy.state_dict().items() if "value" not in k}


def test_optuna_search_runs_for_an_imitation_algorithm(cartpole_demos, tmp_path, monkeypatch):
    import pickle

    from optuna.trial import TrialState

    from sb3_behave.zoo.samplers import NET_ARCHS

    monkeypatch.chdir(tmp_path)
    built = []  # what each trial's imitation BC trainer trained with
    make_trainer = BC._make_bc_trainer

    def recording_make_trainer(self, *args, **kwargs):
        trainer = make_trainer(self, *args, **kwargs)
        layers = [m.out_features for m in trainer.policy.mlp_extractor.policy_net if isinstance(m, th.nn.Linear)]
        loss = trainer.loss_calculator
        built.append(
            {
                "lr": trainer.optimizer.param_groups[0]["lr"],
                "batch_size": trainer.batch_size,
                "ent_weight": loss.ent_weight,
                "l2_weight": loss.l2_weight,
                "layers": layers,
            }
        )
        return trainer

    monkeypatch.setattr(BC, "_make_bc_trainer", recording_make_trainer)
    conf = _config(tmp_path, "bc", {"n_timesteps": 100, "policy": "MlpPolicy", "demonstrations": str(cartpole_demos)})
    argv = ["train", "--algo", "bc", "--env", "CartPole-v1", "-conf", str(conf), "-optimize", "--n-trials", "2"]
    assert main([*argv, "--n-evaluations", "1", "--eval-episodes", "1", "--sampler", "random", "--seed", "0"]) == 0
    (report,) = (tmp_path / "logs" / "bc").rglob("report_*.pkl")
    trials = pickle.loads(report.read_bytes()).trials  # the zoo's report: the Optuna study
    assert len(trials) == len(built) == 2 and all(t.state == TrialState.COMPLETE for t in trials)
    for trial, model in zip(trials, built):  # each trial trained a model with its own draw, within the search space
        p = trial.params
        assert 1e-4 <= p["learning_rate"] <= 1e-2 and 1e-5 <= p["ent_weight"] <= 1e-2
        assert p["batch_size"] in (32, 64, 128, 256) and p["l2_weight"] in (0.0, 1e-5, 1e-4)
        expected = {"lr": p["learning_rate"], "batch_size": p["batch_size"], "ent_weight": p["ent_weight"]}
        expected.update(l2_weight=p["l2_weight"], layers=[*NET_ARCHS[p["net_arch"]]])
        assert model == expected
    assert trials[0].params["learning_rate"] != trials[1].params["learning_rate"]


SEARCH_SPACES = {  # sb3_behave/zoo/samplers.py: (low, high) of a float, the choices of a categorical
    "bc": {
        "learning_rate": (1e-4, 1e-2),
        "batch_size": [32, 64, 128, 256],
        "ent_weight": (1e-5, 1e-2),
        "l2_weight": [0.0, 1e-5, 1e-4],
    },
    "valuedice": {
        "learning_rate": (1e-6, 1e-3),
        "nu_learning_rate": (1e-5, 1e-2),
        "alpha": [0.0, 0.05, 0.1, 0.2],
        "batch_size": [64, 128, 256],
    },
    "gail": {
        "n_steps": [64, 128, 256, 512, 1024],
        "batch_size": [32, 64, 128, 256],
        "demo_batch_size": [256, 512, 1024, 2048],
        "n_disc_updates_per_round": [1, 2, 4, 8, 16],
        "disc_learning_rate": (1e-5, 1e-3),
        "learning_rate": (1e-5, 1e-3),
        "ent_coef": (1e-8, 0.05),
        "gamma": [0.9, 0.95, 0.98, 0.99],
        "n_epochs": [1, 5, 10],
    },
}
SEARCH_SPACES["dagger"] = {**SEARCH_SPACES["bc"], "beta_rampdown": [2, 5, 10, 15], "bc_epochs_per_round": [1, 2, 4, 8]}
SEARCH_SPACES["airl"] = SEARCH_SPACES["gail"]
GENERATOR_KEYS = ("n_steps", "batch_size", "learning_rate", "ent_coef", "gamma", "n_epochs")
GENERATOR_SPACE = {key: SEARCH_SPACES["gail"][key] for key in GENERATOR_KEYS}  # the PPO generator's draws
SEARCH_SPACES["density"] = {
    "density_type": ["state", "state_action", "state_state"],
    "kernel": ["gaussian", "exponential", "tophat"],
    "kernel_bandwidth": (0.05, 2.0),
    **GENERATOR_SPACE,
}
SEARCH_SPACES["preference_comparisons"] = {
    "fragment_length": [10, 25, 50, 100],
    "num_iterations": [5, 10, 20, 40],
    "initial_comparison_frac": [0.05, 0.1, 0.2, 0.5],
    "reward_learning_rate": (1e-4, 1e-2),
    "reward_epochs": [1, 3, 5, 10],
    **GENERATOR_SPACE,
}
SEARCH_SPACES["sqil"] = {
    "learning_rate": (1e-5, 1e-2),
    "batch_size": [32, 64, 128, 256],
    "gamma": [0.9, 0.95, 0.98, 0.99],
    "train_freq": [1, 4, 8, 16],
}


@pytest.mark.parametrize("algo", sorted(SEARCH_SPACES))
def test_each_trial_samples_its_own_hyperparameters_within_the_search_space(algo):
    import optuna

    from sb3_behave.zoo.registry import register_algorithms
    from sb3_behave.zoo.samplers import NET_ARCHS

    register_algorithms()
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space, n_envs, drawn = SEARCH_SPACES[algo], 2, []
    for _ in range(12):
        trial = study.ask()
        hyperparams = HYPERPARAMS_SAMPLER[algo](trial, 1, n_envs, {})
        study.tell(trial, 0.0)
        assert hyperparams.pop("policy_kwargs") == {"net_arch": NET_ARCHS[trial.params["net_arch"]]}
        if "n_steps" in space:  # a PPO generator: a batch of at most one rollout
            assert hyperparams["batch_size"] == min(trial.params["batch_size"], hyperparams["n_steps"] * n_envs)
            hyperparams["batch_size"] = trial.params["batch_size"]
        assert hyperparams == {key: trial.params[key] for key in space}  # the trial's own draws, every one
        for key, value in hyperparams.items():
            bounds = space[key]
            assert bounds[0] <= value <= bounds[1] if isinstance(bounds, tuple) else value in bounds, (key, value)
        drawn.append(trial.params)
    for key in [*space, "net_arch"]:
        assert len({params[key] for params in drawn}) > 1, f"{key}: the same value in every trial"
    # the sampled names are the algorithm's own hyperparameters (GAIL's unknown keys would raise)
    algorithm_class(algo)("MlpPolicy", "CartPole-v1", **HYPERPARAMS_SAMPLER[algo](study.ask(), 1, n_envs, {}))


def test_train_without_a_config_names_the_file_to_pass(capsys):
    assert main(["train", "--algo", "gail", "--env", "CartPole-v1"]) == 2
    assert "-conf zoo_configs/gail.yml" in capsys.readouterr().err


def test_a_failed_run_leaves_no_run_folder_and_the_next_run_takes_its_id(cartpole_demos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "bc.yml"
    entry = {"n_timesteps": 20, "policy": "MlpPolicy", "demonstrations": "nowhere", "batch_size": 16}
    conf.write_text(yaml.safe_dump({"CartPole-v1": entry}))
    train = ["train", "--algo", "bc", "--env", "CartPole-v1", "-conf", str(conf), "--eval-freq", "-1"]
    assert main(train) == 2  # refused before the zoo starts: one line, no folder
    out = capsys.readouterr()
    assert "bc.yml: CartPole-v1: demonstrations: nowhere: no such file" in out.err and out.err.count("\n") == 1
    assert out.out == "" and not (tmp_path / "logs").exists()
    import sb3_behave.zoo.config

    with monkeypatch.context() as patched:  # a failure the check cannot see: once the zoo has made the run folder
        patched.setattr(sb3_behave.zoo.config, "check_data", lambda where, entry: None)
        assert main(train) == 2
    out = capsys.readouterr()
    assert "nowhere: no such file" in out.err
    assert "logs/bc/CartPole-v1_1: removed, the run stopped before it trained" in out.out
    assert not (tmp_path / "logs").exists()  # logs/bc and logs, made for it, go too
    conf.write_text(yaml.safe_dump({"CartPole-v1": {**entry, "demonstrations": str(cartpole_demos)}}))
    assert main(train) == 0
    assert (tmp_path / "logs" / "bc" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()  # the id the failed run took


def test_what_training_made_keeps_a_failed_runs_folder(tmp_path):
    from sb3_behave.zoo.commands import _holds_results

    run = tmp_path / "CartPole-v1_1"
    (run / "CartPole-v1").mkdir(parents=True)
    (run / "CartPole-v1" / "config.yml").write_text("{}")
    (run / "0.monitor.csv").write_text('#{"t_start": 0}\nr,l,t\n')
    assert not _holds_results(run)  # set up, no episode finished
    (run / "0.monitor.csv").write_text('#{"t_start": 0}\nr,l,t\n12.0,12,0.1\n')
    assert _holds_results(run)  # an episode was played: kept
    (run / "0.monitor.csv").write_text('#{"t_start": 0}\nr,l,t\n')
    (run / "rl_model_1000_steps.zip").write_text("")
    assert _holds_results(run)  # a checkpoint: kept


def test_the_unmodified_zoo_trains_ppo_on_flappy_bird(tmp_path):
    # --gym-packages: gymnasium 1.x no longer loads the `gymnasium.envs` entry point (docs/install.md says so).
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", FLAPPY, "--gym-packages", "sb3_behave"]
    command += ["-n", "4096"]
    command += ["-conf", str(ROOT / "zoo_configs" / "ppo.yml"), "-f", str(tmp_path), "--eval-freq", "-1"]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    assert (tmp_path / "ppo" / "sb3_behave-FlappyBird-v0_1" / "sb3_behave-FlappyBird-v0.zip").is_file()


def _train_ppo_on_flappy(tmp_path, *extra, entry=None):
    tmp_path.mkdir(exist_ok=True)
    conf = tmp_path / "ppo.yml"
    entry = entry or {"n_envs": 4, "n_timesteps": 2048, "policy": "MlpPolicy", "n_steps": 256, "batch_size": 256}
    conf.write_text(yaml.safe_dump({FLAPPY: entry}))
    argv = ["train", "--algo", "ppo", "--env", FLAPPY, "-conf", str(conf), "--seed", "4", "--eval-freq", "-1", *extra]
    return main([*argv, "-f", str(tmp_path / "logs")])


def test_vec_env_flappy_trains_exactly_as_the_zoos_own_vec_env(tmp_path, monkeypatch):
    # FlappyBirdVecEnv plays game i like env i of make_vec_env: same seed, same training, to the bit.
    monkeypatch.chdir(tmp_path)
    assert _train_ppo_on_flappy(tmp_path / "dummy", "--vec-env", "dummy") == 0
    assert _train_ppo_on_flappy(tmp_path / "native", "--vec-env", "flappy") == 0
    run = "ppo/sb3_behave-FlappyBird-v0_1"
    native = tmp_path / "native" / "logs" / run
    assert list(native.glob("*.monitor.csv")) == [native / "flappy.monitor.csv"]  # one VecMonitor file, not one per env
    episodes = np.loadtxt(native / "flappy.monitor.csv", delimiter=",", skiprows=2, ndmin=2)
    assert len(episodes) >= 4 and (episodes[:, 1] > 30).all()  # (reward, length, time) of finished games
    weights = [
        algorithm_class("ppo").load(tmp_path / kind / "logs" / run / "sb3_behave-FlappyBird-v0.zip").policy.state_dict()
        for kind in ("dummy", "native")
    ]
    assert all(th.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_vec_env_flappy_refuses_other_envs_and_env_wrappers(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--vec-env", "flappy"]) == 2
    err = capsys.readouterr().err
    assert "--vec-env flappy: FlappyBirdVecEnv plays sb3_behave/FlappyBird-v0 only, not --env CartPole-v1" in err
    wrapper = "sb3_behave.envs.wrappers.AbsorbingHorizon"
    entry = {"n_envs": 2, "n_timesteps": 256, "policy": "MlpPolicy", "n_steps": 64, "env_wrapper": wrapper}
    assert _train_ppo_on_flappy(tmp_path, "--vec-env", "flappy", entry=entry) == 2
    assert "--vec-env flappy: the config's env_wrapper wraps one gymnasium env" in capsys.readouterr().err
    assert not (tmp_path / "logs" / "ppo").exists() or not list((tmp_path / "logs" / "ppo").rglob("*.zip"))


MUJOCO_MISSING = "the mujoco extra is not installed (pip install 'sb3-behave[mujoco]')"


def _shipped_entries():
    """``(config file, env id)`` of every entry of every shipped zoo config."""
    return [
        pytest.param(path.name, env_id, id=f"{path.stem}-{env_id}")
        for path in sorted((ROOT / "zoo_configs").glob("*.yml"))
        for env_id in yaml.safe_load(path.read_text())
    ]


@pytest.mark.parametrize("name, env_id", _shipped_entries())
def test_every_shipped_config_builds_its_algorithm(name, env_id, config_algorithm):
    import warnings

    from rl_zoo3.utils import ALGOS

    algo = config_algorithm(name.removesuffix(".yml"))  # registers sb3-behave's algorithms in ALGOS
    entry = dict(yaml.safe_load((ROOT / "zoo_configs" / name).read_text())[env_id])
    n_envs = entry.pop("n_envs", 1)
    for callback in entry.pop("callback", []):  # each names a class, with keyword arguments it takes
        from rl_zoo3.utils import get_class_by_name

        ((class_name, kwargs),) = callback.items()
        get_class_by_name(class_name)(**kwargs)
    for key in ("n_timesteps", "normalize", "env_wrapper", "vec_env_wrapper", "env_kwargs", "frame_stack", "demonstrations"):
        entry.pop(key, None)
    assert isinstance(entry.get("policy_kwargs", {}), dict)  # YAML mappings, never code to eval
    for key, value in list(entry.items()):
        if isinstance(value, str) and value.startswith("lin_"):
            entry[key] = float(value[4:])
    import_env_namespace(env_id)  # seals/CartPole-v0: imports seals, as sb3-behave train does
    if "mujoco" in gym.spec(env_id).entry_point:
        pytest.importorskip("mujoco", reason=MUJOCO_MISSING)
    with warnings.catch_warnings():  # gymnasium: "The environment Hopper-v4 is out of date" (the zoo's v4 entries)
        warnings.filterwarnings("ignore", message=r".*is out of date", category=DeprecationWarning)
        env = make_vec_env(env_id, n_envs=n_envs)
    model = ALGOS[algo](env=env, **entry)  # demonstrations are checked by the tests of each algorithm
    # Every hyperparameter of the entry is the one the model (or GAIL's / AIRL's generator) was built with.
    generator = model._make_generator() if hasattr(model, "gen_kwargs") else None
    for key, value in entry.items():
        if key == "policy":
            assert isinstance(model.policy, model.policy_aliases[value])
        elif key == "policy_kwargs":
            built = {k: getattr(model.policy, k) for k in value}
            arch = built.get("net_arch")
            if isinstance(arch, dict) and all(layers == value["net_arch"] for layers in arch.values()):
                built["net_arch"] = value["net_arch"]  # SAC's policy: one list is the actor's (pi) and the critics' (qf)
            assert built == value
        else:
            holder = generator if generator is not None and key in model.gen_kwargs else model
            built = getattr(holder, key)
            assert (built(1.0) if callable(built) else built) == value, key  # schedules at the start of training
    if "learning_rate" in entry and hasattr(model, "_config"):  # offline RL: d3rlpy's optimizers, from its config
        config = vars(model._config(model._net_arch()))
        rates = [config[k] for k in config if k.endswith("learning_rate")]
        assert rates and rates == pytest.approx([entry["learning_rate"]] * len(rates))
    elif "learning_rate" in entry:  # what the optimizer of the actor really got
        optimizer = getattr(model.policy, "optimizer", None) or model.actor.optimizer
        assert optimizer.param_groups[0]["lr"] == pytest.approx(entry["learning_rate"])
    if "nu_learning_rate" in entry:
        assert model.nu.optimizer.param_groups[0]["lr"] == pytest.approx(entry["nu_learning_rate"])


def test_enjoy_finds_the_shipped_flappy_bird_agent_and_prints_pipes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["enjoy", "--algo", "ppo", "--env", FLAPPY, "--no-render", "-n", "300", "--deterministic"]) == 0
    out = capsys.readouterr().out
    assert str(PRETRAINED_FOLDER) in out
    # No episode ends within 300 frames: the summary still says how far the agent got.
    cut = re.search(r"one cut short by the step budget at (\d+) pipes after 300 frames", out)
    assert cut and int(cut.group(1)) >= 2, out  # 300 frames reach the third pipe; a bird that never flaps scores 0
    argv = [
        "enjoy",
        "--algo",
        "ppo",
        "--env",
        FLAPPY,
        "--no-render",
        "-n",
        "700",
        "--deterministic",
        "--env-kwargs",
        "score_limit:3",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    finished = [int(n) for n in re.findall(r"episode \d+: (\d+) pipes in \d+ frames", out)]
    assert len(finished) >= 3 and max(finished) == 3 and min(finished) >= 0, out  # games end at the limit, or crash
    summary = f"{len(finished)} episode(s) finished: pipes mean {np.mean(finished):.1f}, min {min(finished)}, max 3"
    assert summary in out, out


def test_record_video_of_the_shipped_agent_goes_to_the_working_folder(tmp_path, monkeypatch, capsys):
    pytest.importorskip("moviepy")
    monkeypatch.chdir(tmp_path)
    shipped = sorted(PRETRAINED_FOLDER.rglob("*"))
    assert main(["record-video", "--algo", "ppo", "--env", FLAPPY, "-n", "100"]) == 0
    assert list((tmp_path / "videos").glob("*.mp4")) and "pipes after 100 frames" in capsys.readouterr().out
    assert sorted(PRETRAINED_FOLDER.rglob("*")) == shipped  # nothing written into the installed package
    assert main(["record-video", "--algo", "ppo", "--env", FLAPPY, "-n", "50", "-o", str(tmp_path / "mine")]) == 0
    assert list((tmp_path / "mine").glob("*.mp4"))


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
