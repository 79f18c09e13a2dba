"""Agents made elsewhere run no code when loaded: crafted model zips, run folders and statistics files.

Each crafted file asks, when unpickled or read as YAML the unsafe way, to create a marker file.
Every command and function that loads an agent must refuse it in one line and create nothing;
``--trust-code`` is the one way to load such a file with SB3's and the zoo's own readers.
"""

import base64
import itertools
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

from sb3_behave.agents import load_agent_from_path
from sb3_behave.cli import main
from sb3_behave.limits import TooLargeError
from sb3_behave.untrusted import UntrustedFileError, check_zip_sizes, load_data_pickle, no_code_from_files, zoo_yaml_loader
from sb3_behave.zoo import load_agent
from sb3_behave.zoo.commands import PRETRAINED_FOLDER
from sb3_behave.zoo.config import check_config_entry

FLAPPY = "sb3_behave/FlappyBird-v0"
RUN = "sb3_behave-FlappyBird-v0"
SHIPPED = PRETRAINED_FOLDER / "ppo" / f"{RUN}_1"


class RunsCommand:
    """Unpickled, it runs ``touch MARKER`` (what a crafted file would do, harmlessly)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted_zip(source: Path, target: Path, marker: Path, member: str) -> Path:
    """The shipped model with one pickled member replaced by a pickle that runs a command."""
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["data"])
    data[member] = {":type:": "<class 'type'>", ":serialized:": base64.b64encode(pickle.dumps(RunsCommand(marker))).decode()}
    files["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return target


def crafted_run(tmp_path: Path, marker: Path, what: str) -> Path:
    """A zoo run folder ``logs/ppo/<env>_1`` copied from the shipped agent, with one of its files crafted."""
    run = tmp_path / "logs" / "ppo" / f"{RUN}_1"
    shutil.copytree(SHIPPED, run)
    if what == "model":
        crafted_zip(SHIPPED / f"{RUN}.zip", run / f"{RUN}.zip", marker, "policy_class")
    elif what in ("config", "args"):
        yml = run / RUN / f"{what}.yml"
        yml.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    elif what == "statistics":
        (run / RUN / "vecnormalize.pkl").write_bytes(pickle.dumps(RunsCommand(marker)))
    return run


@pytest.mark.parametrize("member", ["policy_class", "observation_space", "_last_obs", "lr_schedule"])
def test_a_crafted_model_zip_runs_no_code(member, tmp_path):
    marker = tmp_path / "ran"
    model = crafted_zip(SHIPPED / f"{RUN}.zip", tmp_path / "model.zip", marker, member)
    env = gym.make(FLAPPY)
    if member == "lr_schedule":  # a schedule is code anyway: replaced by the saved constant rate, to act
        loaded, _ = load_agent_from_path(model, env)
        assert loaded.lr_schedule(0.5) == pytest.approx(3e-4)
    else:
        with pytest.raises(UntrustedFileError, match=rf"model.zip: member '{member}': holds posix.system \(code"):
            load_agent_from_path(model, env)
    assert not marker.exists()


@pytest.mark.parametrize("what", ["model", "config", "args", "statistics"])
def test_a_crafted_run_folder_runs_no_code_in_load_agent(what, tmp_path):
    marker = tmp_path / "ran"
    crafted_run(tmp_path, marker, what)
    if what == "statistics":  # the shipped agent has no statistics: load_agent_from_path reads them for a run folder
        with pytest.raises(UntrustedFileError, match=r"vecnormalize\.pkl: holds posix\.system"):
            load_agent_from_path(tmp_path / "logs" / "ppo" / f"{RUN}_1", gym.make(FLAPPY))
    else:
        with pytest.raises(UntrustedFileError, match=r"posix\.system|!!python/object/apply:os\.system"):
            load_agent("ppo", FLAPPY, folder=tmp_path / "logs", hub=False)
    assert not marker.exists()


@pytest.mark.parametrize("what", ["model", "config", "args"])
@pytest.mark.parametrize("command", ["enjoy", "record-video"])
def test_a_crafted_run_folder_runs_no_code_in_the_zoos_scripts(command, what, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    crafted_run(tmp_path, marker, what)
    argv = [command, "--algo", "ppo", "--env", FLAPPY, "-f", "logs", "-n", "10"]
    argv += ["--no-render"] if command == "enjoy" else ["-o", "videos"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--trust-code" in err, err
    assert not marker.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["record-demos", "--env", FLAPPY, "--expert", "model.zip", "--episodes", "1", "--out", "demos"],
        ["compare", "--env", FLAPPY, "--agent", "model.zip", "--queries", "1", "--out", "prefs"],
        ["landscape", "--demos", "demos_in", "--policy", "model.zip", "--out", "report"],
    ],
    ids=lambda argv: argv[0],
)
def test_commands_that_play_a_model_refuse_a_crafted_one(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    crafted_zip(SHIPPED / f"{RUN}.zip", tmp_path / "model.zip", marker, "policy_class")
    if argv[0] == "landscape":
        from sb3_behave.demos import record_demonstrations

        record_demonstrations(FLAPPY, "demos_in", episodes=1, skill="strong", max_episode_steps=50, progress_bar=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "model.zip: member 'policy_class': holds posix.system" in err and len(err.strip().splitlines()) == 1, err
    assert not marker.exists() and not (tmp_path / "demos").exists()


def test_trust_code_is_the_way_to_load_with_sbs_own_unpickling(tmp_path):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=lambda progress: 1e-3 * progress, n_steps=64, seed=0)
    model.save(tmp_path / "linear")
    safe = PPO.load(tmp_path / "linear")  # outside the context: SB3's own load (the user's own file)
    assert safe.lr_schedule(0.5) == pytest.approx(5e-4)
    with no_code_from_files():
        acted = PPO.load(tmp_path / "linear")
    assert acted.lr_schedule(0.5) == 0.0  # a schedule pickled as code: a constant, enough to act
    with no_code_from_files(trust_code=True):
        trusted = PPO.load(tmp_path / "linear")
    assert trusted.lr_schedule(0.5) == pytest.approx(5e-4)
    obs = np.zeros((1, 4), dtype=np.float32)
    assert acted.predict(obs, deterministic=True)[0] == safe.predict(obs, deterministic=True)[0]  # same weights


def test_the_data_unpickler_builds_data_and_nothing_else(tmp_path):
    from collections import OrderedDict, deque

    from stable_baselines3.common.policies import ActorCriticPolicy

    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32, seed=0)
    value = {"a": np.arange(5.0), "b": deque([1, 2]), "c": OrderedDict(x=(1, 2.5)), "space": space, "cls": ActorCriticPolicy}
    loaded = load_data_pickle(pickle.dumps(value), "x")
    np.testing.assert_array_equal(loaded["a"], value["a"])
    assert loaded["b"] == value["b"] and loaded["c"] == value["c"] and loaded["cls"] is ActorCriticPolicy
    assert loaded["space"] == space and loaded["space"].sample() in space
    for unsafe in (print, shutil.rmtree, eval, getattr, Path):
        with pytest.raises(UntrustedFileError, match="which sb3-behave does not run from a file"):
            load_data_pickle(pickle.dumps(unsafe), "x")
    with pytest.raises(UntrustedFileError, match="not a readable pickle"):
        load_data_pickle(b"\x80\x04garbage", "x")


def test_the_zoo_yaml_loader_reads_what_the_zoo_writes_and_refuses_the_rest(tmp_path):
    from collections import OrderedDict

    written = yaml.dump(OrderedDict(env_kwargs={"image_size": (84, 84)}, n_envs=4))  # as the zoo dumps config.yml
    assert yaml.load(written, Loader=zoo_yaml_loader()) == OrderedDict(env_kwargs={"image_size": (84, 84)}, n_envs=4)
    marker = tmp_path / "ran"
    crafted = (f"!!python/object/apply:os.system ['touch {marker}']", "!!python/name:os.system", "!!python/object:os.Path {}")
    for text in crafted:
        with pytest.raises(UntrustedFileError, match=r"config\.yml: the YAML tag !!python/"):
            yaml.load(text, Loader=zoo_yaml_loader("config.yml"))
    names = "abcdefghijklmnopqrstuvwxyz"
    laughs = "a: &a [x, x, x]\n" + "".join(f"{k}: &{k} [*{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, k in itertools.pairwise(names))
    with pytest.raises(UntrustedFileError, match="more than 100 YAML aliases"):
        yaml.load(laughs, Loader=zoo_yaml_loader("config.yml"))
    assert not marker.exists()


def test_a_model_zip_that_claims_too_much_memory_is_refused_before_reading(tmp_path):
    model = SHIPPED / f"{RUN}.zip"
    check_zip_sizes(model)  # the shipped agent is well within the budget
    with pytest.raises(TooLargeError, match=r"its members would take 151 kiB in memory, over the 1000 bytes"):
        check_zip_sizes(model, limit=1000)
    (tmp_path / "not.zip").write_bytes(b"PK not really")
    with pytest.raises(UntrustedFileError, match="not a zip file"):
        check_zip_sizes(tmp_path / "not.zip")


@pytest.mark.parametrize("key", ["policy_kwargs", "normalize", "replay_buffer_kwargs", "monitor_kwargs"])
def test_python_text_the_zoo_evaluates_is_read_as_data_or_refused_unless_trusted(key, tmp_path):
    data = {
        "policy_kwargs": "dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.ReLU, optimizer_class=th.optim.AdamW)",
        "normalize": "{'norm_obs': True, 'norm_reward': False}",
        "replay_buffer_kwargs": "dict(handle_timeout_termination=True)",
        "monitor_kwargs": "dict(info_keywords=('score',))",
    }[key]
    algo = "dqn" if key == "replay_buffer_kwargs" else "ppo"
    conf = tmp_path / "conf.yml"
    conf.write_text(yaml.safe_dump({"CartPole-v1": {"policy": "MlpPolicy", key: data}}))
    check_config_entry(conf, algo, "CartPole-v1")  # text that is data: the zoo evaluates it as always, it runs nothing
    conf.write_text(yaml.safe_dump({"CartPole-v1": {"policy": "MlpPolicy", key: "__import__('os').system('touch ran')"}}))
    with pytest.raises(ValueError, match=rf"conf.yml: CartPole-v1: {key}: Python text .* is more than data .* --trust-code"):
        check_config_entry(conf, algo, "CartPole-v1")
    assert not (tmp_path / "ran").exists()
    config = crafted_run(tmp_path, tmp_path / "ran", "none") / RUN / "config.yml"  # a run folder the zoo wrote
    config.write_text(config.read_text().replace("- - - ", f"- - - {key}\n    - {json.dumps(data)}\n  - - ", 1))
    with no_code_from_files():
        yaml.load(config.read_text(), Loader=yaml.UnsafeLoader)  # what rl_zoo3 calls: data, read
        config.write_text(config.read_text().replace(json.dumps(data), json.dumps("__import__('os').system('touch ran')")))
        with pytest.raises(UntrustedFileError, match=f"{key}: Python text"):
            yaml.load(config.read_text(), Loader=yaml.UnsafeLoader)
    assert not (tmp_path / "ran").exists()


def test_the_shipped_agent_loads_as_data():
    with no_code_from_files():
        model = load_agent("ppo", FLAPPY, hub=False)
    obs = model.get_env().reset()
    assert model.predict(obs, deterministic=True)[0].shape == (1,)


@pytest.mark.parametrize("algo", ["dqn", "sac", "td3", "ddpg", "qrdqn", "tqc", "a2c", "trpo", "ars"])
def test_an_agent_of_every_zoo_algorithm_loads_as_data(algo, tmp_path):
    """What SB3 and sb3-contrib pickle in a model of their own (off-policy agents' ``train_freq``, TD3's
    action noise) is data: a zip any zoo algorithm saved loads without ``--trust-code``."""
    from stable_baselines3.common.noise import NormalActionNoise

    from sb3_behave.agents import algorithm_class

    env = gym.make("CartPole-v1" if algo in ("dqn", "qrdqn", "a2c", "trpo", "ars") else "Pendulum-v1")
    kwargs = {"action_noise": NormalActionNoise(np.zeros(1), 0.1 * np.ones(1))} if algo in ("td3", "ddpg") else {}
    if algo in ("dqn", "qrdqn", "sac", "td3", "ddpg", "tqc"):
        kwargs["buffer_size"] = 100
    model = algorithm_class(algo)("MlpPolicy", env, seed=0, device="cpu", **kwargs)
    model.save(tmp_path / f"{algo}.zip")
    loaded, _ = load_agent_from_path(tmp_path / f"{algo}.zip", env, algo=algo)
    obs = env.reset(seed=0)[0]
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    if hasattr(model, "train_freq"):
        assert loaded.train_freq == model.train_freq
