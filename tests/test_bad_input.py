"""Bad input: crafted episode files and metadata end in one DemonstrationError naming the file and the field."""

import io
import json
import re
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sb3_behave.cli import main
from sb3_behave.demos import DemonstrationError, load_demonstrations, read_episode, record_demonstrations
from sb3_behave.demos.storage import MAX_TEXT_CHARS

ENV_ID = "sb3_behave/FlappyBird-v0"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    (path,) = record_demonstrations(ENV_ID, folder, 1, max_episode_steps=40, progress_bar=False)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def write_npz(path, arrays, raw=None):
    """An .npz archive of ``arrays``, plus ``raw`` members written byte for byte (crafted headers)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        for name, content in (raw or {}).items():
            archive.writestr(f"{name}.npy", content)
    return path


def crafted_header(shape, dtype="<f4"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


def with_metadata(good, **changes):
    meta = json.loads(str(good["metadata"]))
    meta.update(changes)
    return {**good, "metadata": np.asarray(json.dumps(meta))}


CASES = {
    "score is a string": (
        lambda g: with_metadata(g, score="lots"),
        r"metadata field 'score' is 'lots': expected a finite number",
    ),
    "score is NaN": (lambda g: with_metadata(g, score=float("nan")), "field 'score' is nan: expected a finite number"),
    "env_id is a number": (lambda g: with_metadata(g, env_id=7), "field 'env_id' is 7: expected a string"),
    "a long player name": (
        lambda g: with_metadata(g, player="x" * 1_000),
        rf"field 'player' is 'xxx.*\.\.\.: 1,000 characters, expected at most {MAX_TEXT_CHARS}",
    ),
    "seed is true": (lambda g: with_metadata(g, seed=True), "field 'seed' is True: expected an integer"),
    "a time limit of 0": (lambda g: with_metadata(g, max_episode_steps=0), "'max_episode_steps' is 0: expected a positive"),
    "huge metadata": (
        lambda g: {**g, "metadata": np.asarray(json.dumps({"format": "sb3-behave-episode", "notes": "x" * 10**6}))},
        "metadata is 1,000,0.. characters, expected at most 65,536",
    ),
    "deeply nested metadata": (lambda g: {**g, "metadata": np.asarray("[" * 30_000 + "]" * 30_000)}, "nested too deeply"),
    "metadata is a list": (lambda g: {**g, "metadata": np.asarray("[1, 2]")}, "metadata is a JSON list, expected an object"),
    "metadata is a number array": (lambda g: {**g, "metadata": np.arange(3)}, r"metadata has shape \(3,\), expected a single"),
    "0-d observations": (
        lambda g: {**g, "obs": np.asarray(1.0, np.float32)},
        r"obs has shape \(\), expected one entry per step",
    ),
    "3 terminal flags": (lambda g: {**g, "terminal": np.array([True, False, True])}, r"terminal has shape \(3,\)"),
    "complex observations": (lambda g: {**g, "obs": g["obs"].astype(np.complex64)}, "obs has dtype complex64, expected real"),
    "rewards of 2 columns": (lambda g: {**g, "rews": np.stack([g["rews"], g["rews"]], 1)}, r"rews has shape \(40, 2\)"),
}


@pytest.mark.parametrize("case", CASES)
def test_crafted_files_give_one_error_naming_the_file_and_field(case, good, tmp_path, capsys):
    make, message = CASES[case]
    path = write_npz(tmp_path / "episode-bad.npz", make(good))
    with pytest.raises(DemonstrationError, match=message) as info:
        load_demonstrations(tmp_path, env=ENV_ID)
    assert str(info.value).startswith(str(path))
    assert main(["demos", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "episode-bad.npz" in err and len(err) < 500  # one line, whatever the file holds


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (2**40, 12)])
def test_a_header_claiming_a_huge_array_is_refused_before_anything_is_allocated(shape, good, tmp_path):
    arrays = {k: v for k, v in good.items() if k != "obs"}
    path = write_npz(tmp_path / "episode-huge.npz", arrays, raw={"obs": crafted_header(shape)})
    tracemalloc.start()
    try:
        with pytest.raises(DemonstrationError, match=r"array 'obs' claims shape .* bytes"):
            read_episode(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


def test_a_header_claiming_more_than_the_file_holds_is_refused(good, tmp_path):
    arrays = {k: v for k, v in good.items() if k != "obs"}
    path = write_npz(tmp_path / "episode-short.npz", arrays, raw={"obs": crafted_header((1000, 12))})
    with pytest.raises(DemonstrationError, match=r"claims shape \(1000, 12\) of float32 \(48,000 bytes\), but holds"):
        read_episode(path)


# Deterministic: the same examples every run, none remembered between runs.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "format",
        "env_id",
        "env_kwargs",
        "seed",
        "score",
        "return",
        "length",
        "terminated",
        "player",
        "skill",
        "max_episode_steps",
    ]
)


@FUZZ
@given(changes=st.dictionaries(field_names, json_values, max_size=4))
def test_any_metadata_is_read_or_refused_with_our_error(changes, good, tmp_path):
    path = write_npz(tmp_path / "episode-fuzz.npz", with_metadata(good, **changes))
    try:
        load_demonstrations(path, env=ENV_ID)
    except DemonstrationError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)


arrays = st.sampled_from(["obs", "acts", "rews", "terminal", "metadata"])
dtypes = st.sampled_from(["<f4", "<f8", "<i8", "|b1", "<c8", "<U3", "|u1", "|V4"])
shapes = st.lists(st.integers(0, 5), max_size=3).map(tuple) | st.lists(st.integers(0, 2**40), min_size=1, max_size=3).map(
    tuple
)


@FUZZ
@given(name=arrays, dtype=dtypes, shape=shapes, payload=st.binary(max_size=64), drop=st.booleans())
def test_any_array_header_is_read_or_refused_with_our_error_and_little_memory(
    name, dtype, shape, payload, drop, good, tmp_path
):
    kept = {k: v for k, v in good.items() if k != name}
    header = crafted_header(shape, dtype)[:-64] + payload
    path = write_npz(tmp_path / "episode-fuzz.npz", kept, raw={} if drop else {name: header})
    tracemalloc.start()
    try:
        try:
            load_demonstrations(path, env=ENV_ID)
        except DemonstrationError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


# --------------------------------------------------------------------------- the command line
# Each wrong invocation: exit status 2 and one line on stderr naming the culprit. None plays anything.
BATTERY = {
    "misspelt env kwarg": (
        ["record-demos", "--env-kwargs", "obs_typ=lidar", "--out", "{tmp}/d"],
        "has no env kwarg 'obs_typ'; it takes obs_type, reward_mode",
    ),
    "env kwarg of another env": (
        ["play", "--env", "CartPole-v1", "--env-kwargs", "obs_type=lidar"],
        "CartPole-v1 has no env kwarg",
    ),
    "unknown env id": (["record-demos", "--env", "NoSuchEnv-v0", "--out", "{tmp}/d"], "NoSuchEnv"),
    "negative episodes": (
        ["record-demos", "--episodes", "-5", "--out", "{tmp}/d"],
        "--episodes: expected a whole number >= 1, got -5",
    ),
    "words for a number": (
        ["record-demos", "--episodes", "ten", "--out", "{tmp}/d"],
        "--episodes: expected a whole number >= 1, got 'ten'",
    ),
    "negative seed": (["record-demos", "--seed", "-3", "--out", "{tmp}/d"], "--seed: expected a whole number >= 0, got -3"),
    "time limit 0": (
        ["record-demos", "--max-episode-steps", "0", "--out", "{tmp}/d"],
        "--max-episode-steps: expected a whole number >= 1",
    ),
    "epsilon 2": (["record-demos", "--epsilon", "2", "--out", "{tmp}/d"], r"--epsilon: expected a number in \[0, 1\], got 2"),
    "speed 0": (["play", "--speed", "0"], r"--speed: expected a number in \(0, inf\], got 0"),
    "span nan": (["landscape", "--demos", "x", "--span", "nan"], "--span: expected a number"),
    "gamma 1.5": (["landscape", "--demos", "x", "--gamma", "1.5"], "--gamma: expected a number in"),
    "grid 1": (["landscape", "--demos", "x", "--grid", "1"], "--grid: expected a whole number from 2 to 401, got 1"),
    "bench seconds -1": (["bench", "env", "--seconds", "-1"], "--seconds: expected a number"),
    "out is a file": (["record-demos", "--out", "{tmp}/file"], "file: is a file, and episodes are written into a folder"),
    "enjoy from nowhere": (
        ["enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", "{tmp}/nowhere", "--no-render"],
        "nowhere/ppo folder",
    ),
    "no such demos": (["demos", "info", "{tmp}/nowhere"], "nowhere: no such file or folder"),
    "a billion queries": (
        ["compare", "--out", "{tmp}/a", "--queries", "1000000000"],
        "--queries: expected a whole number from 1 to 10,000, got 1,000,000,000",
    ),
    "an 8000-pixel clip": (["compare", "--out", "{tmp}/a", "--clip-height", "8000"], "--clip-height: expected .* 16 to 2,160"),
    "an IRL horizon of 1e9": (["irl", "--horizon", "1000000000"], "--horizon: expected a whole number from 1 to 10,000"),
    "a word for an env flag": (
        ["irl", "--env-kwargs", "is_slippery:maybe", "--out", "{tmp}/i"],
        "FrozenLake-v1: env kwarg is_slippery='maybe': expected true or false",
    ),
    "a map the env does not have": (
        ["irl", "--env-kwargs", "map_name:9x9", "--out", "{tmp}/i"],
        r"FrozenLake-v1 refused env kwargs \{'map_name': '9x9'\} \(KeyError: '9x9'\)",
    ),
    "a file for a tensorboard folder": (
        ["irl", "--tensorboard-log", "{tmp}/file", "--out", "{tmp}/i"],
        "--tensorboard-log .*file: is a file, expected a folder",
    ),
    "weights without weight directions": (
        ["landscape", "--demos", "x", "--weights", "a[0,0]", "b[0,1]"],
        "--weights chooses the weights of --directions weights; with --directions filter it does nothing",
    ),
    "a Minari id too long for a folder": (
        ["demos", "export", "{tmp}/d", "--format", "minari", "--out", "x" * 300 + "-v0"],
        "a part of 303 bytes, over the 200 a folder name may have",
    ),
    "a player name the loader would refuse": (
        ["record-demos", "--player", "x" * 300, "--out", "{tmp}/d"],
        "metadata field 'player' is 'xxx.*: 300 characters, expected at most 256",
    ),
}


def exit_status(argv):
    """What the ``sb3-behave`` command exits with (argparse's errors raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize("case", BATTERY)
def test_a_wrong_command_line_is_one_line_naming_the_culprit(case, tmp_path, capsys):
    argv, message = BATTERY[case]
    (tmp_path / "file").write_text("not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert exit_status([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_record_demos_and_play_refuse_to_mix_envs_in_a_folder(tmp_path, capsys):
    folder = tmp_path / "flappy"
    assert main(["record-demos", "--episodes", "1", "--max-episode-steps", "20", "--out", str(folder)]) == 0
    files = sorted(folder.iterdir())
    capsys.readouterr()
    cases = {
        (
            "record-demos",
            "--env",
            "CartPole-v1",
            "--expert",
            "random",
        ): "holds episodes of sb3_behave/FlappyBird-v0, not of CartPole-v1",
        ("record-demos", "--env-kwargs", "obs_type=lidar"): "other env kwargs (obs_type: unset there, 'lidar' here)",
        ("play", "--env", "CartPole-v1"): "not of CartPole-v1",
    }
    for argv, message in cases.items():
        flag = "--record" if argv[0] == "play" else "--out"
        assert main([*argv, "--episodes", "1", flag, str(folder)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert sorted(folder.iterdir()) == files  # the folder is as it was
    # the same env and kwargs, another time limit: added
    assert main(["record-demos", "--episodes", "1", "--max-episode-steps", "30", "--out", str(folder)]) == 0
    assert len(list(folder.iterdir())) == 2


CONFIGS = {
    "misspelt for bc": (
        "bc",
        "learning_rat: 0.001",
        r"unknown hyperparameter 'learning_rat' for bc \(did you mean 'learning_rate'\?\)",
    ),
    "misspelt for valuedice": ("valuedice", "batch_sise: 64", "unknown hyperparameter 'batch_sise' for valuedice"),
    "misspelt for ppo": ("ppo", "n_step: 64", r"unknown hyperparameter 'n_step' for ppo \(did you mean 'n_steps'\?\)"),
    "a word for a rate": ("bc", "learning_rate: fast", "learning_rate is 'fast': expected a number, or 'lin_<number>'"),
    "a number as text": ("ppo", "batch_size: '64'", "batch_size is '64': expected a number like 64 .*drop the quotes"),
    "1e-3 read as text": (
        "ppo",
        "ent_coef: 1e-3",
        r"ent_coef is '1e-3': expected a number like 0.0 \(YAML reads 1e-3 as text",
    ),
    "misspelt callback class": (
        "ppo",
        "callback: sb3_behave.callbacks.BCWarmStartCalback",
        r"callback 'sb3_behave.callbacks.BCWarmStartCalback': sb3_behave.callbacks has no BCWarmStartCalback "
        r"\(did you mean 'BCWarmStartCallback'\?\)",
    ),
    "callback module missing": ("ppo", "callback: [no_such_module.Callback]", "cannot import no_such_module"),
    "env_wrapper not a class path": ("ppo", "env_wrapper: 3", r"env_wrapper is 3: expected 'module.Class'"),
    "misspelt policy_kwargs key": (
        "ppo",
        "policy_kwargs: {net_arc: [64, 64]}",
        r"policy_kwargs: unknown key 'net_arc' for ActorCriticPolicy \(did you mean 'net_arch'\?\)",
    ),
    "policy_kwargs a list": ("ppo", "policy_kwargs: [64, 64]", r"policy_kwargs is \[64, 64\]: expected a mapping"),
    "policy_kwargs code": (
        "ppo",
        "policy_kwargs: \"__import__('os').getcwd()\"",
        "policy_kwargs: Python text .* more than data",
    ),
    "normalize a word": ("ppo", "normalize: maybe", "normalize: Python text 'maybe' is more than data"),
    "learning rate inf": ("ppo", "learning_rate: .inf", r"learning_rate is inf: expected a finite number > 0"),
    "learning rate negative": ("bc", "learning_rate: -0.1", r"learning_rate is -0.1: expected a finite number > 0"),
    "batch size 0": ("bc", "batch_size: 0", r"batch_size is 0: expected a whole number >= 1"),
    "batch size 1.5": ("ppo", "batch_size: 1.5", r"batch_size is 1.5: expected a whole number >= 1"),
    "n_envs 0": ("ppo", "n_envs: 0", r"n_envs is 0: expected a whole number >= 1"),
    "gamma 2": ("ppo", "gamma: 2.0", r"gamma is 2.0: expected a number in \[0, 1\]"),
    "an env kwarg CartPole lacks": ("ppo", "env_kwargs: {gravity: 3}", "CartPole-v1 has no env kwarg 'gravity'"),
    "env_kwargs a list": ("ppo", "env_kwargs: [1]", r"env_kwargs is \[1\]: expected a mapping"),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_a_wrong_zoo_config_is_one_line_naming_file_entry_and_key(case, tmp_path, capsys):
    algo, line, message = CONFIGS[case]
    conf = tmp_path / f"{algo}.yml"
    conf.write_text(f"CartPole-v1:\n  n_timesteps: 100\n  policy: MlpPolicy\n  {line}\n")
    assert not (tmp_path / "ran").exists()
    argv = ["train", "--algo", algo, "--env", "CartPole-v1", "-conf", str(conf), "-f", str(tmp_path / "logs")]
    assert exit_status(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"sb3-behave: error: {conf}: CartPole-v1: ") and re.search(message, err), (
        err
    )
    assert not (tmp_path / "logs").exists()


def test_a_broken_or_missing_zoo_config(tmp_path, capsys):
    conf = tmp_path / "broken.yml"
    conf.write_text("CartPole-v1:\n  n_timesteps: [1\n")
    assert exit_status(["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(conf)]) == 2
    assert f"{conf}: not valid YAML (line 3)" in capsys.readouterr().err
    assert exit_status(["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(tmp_path / "none.yml")]) == 2
    assert "none.yml: no such file" in capsys.readouterr().err


def test_every_shipped_config_passes_the_check(config_algorithm):
    from pathlib import Path

    import yaml

    from sb3_behave.zoo.config import check_config_entry

    for conf in sorted((Path(__file__).parent.parent / "zoo_configs").glob("*.yml")):
        for env_id in yaml.safe_load(conf.read_text()):
            check_config_entry(conf, config_algorithm(conf.stem), env_id, read_data=False)  # the demos a user records


# --------------------------------------------------------------------------- nothing overwritten
def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_report_is_never_written_over_an_earlier_one_without_overwrite(tmp_path, capsys):
    demos = tmp_path / "demos"
    for skill in ("poor", "strong"):
        record_demonstrations(ENV_ID, demos / skill, 1, skill=skill, max_episode_steps=60, progress_bar=False)
    out = tmp_path / "report"
    base = ["landscape", "--grid", "3", "--no-progress", "--out", str(out), "--demos"]
    assert main([*base, str(demos / "poor"), str(demos / "strong")]) == 0
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    assert main([*base, str(demos / "poor")]) == 2  # refused before any work
    err = capsys.readouterr().err
    assert f"--out {out}: is not empty (" in err and "--overwrite" in err and err.count("\n") == 1
    assert snapshot(out) == before
    # a failed run with --overwrite leaves the earlier report as it was
    assert main([*base, str(tmp_path / "nowhere"), "--overwrite"]) == 2
    assert snapshot(out) == before
    assert main([*base, str(demos / "strong"), "--overwrite"]) == 0
    after = {str(p) for p in snapshot(out)}
    assert "poor.png" not in after and "strong.png" in after and "notes.txt" in after  # no stale figure; yours stay
    report = json.loads((out / "landscape.json").read_text())
    assert report["sets"].keys() == {"strong"} and report["env_kwargs"] == {}  # a mapping, even when empty


def test_quickstart_and_bench_refuse_to_overwrite_before_any_work(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ppo_bc_warm_start.zip").write_bytes(b"an earlier run")
    assert exit_status(["quickstart", "--out", str(tmp_path / "run")]) == 2
    assert "is not empty (ppo_bc_warm_start.zip), and may hold an earlier report" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["ppo_bc_warm_start.zip"]
    table = tmp_path / "table.md"
    table.write_text("an earlier table")
    assert exit_status(["bench", "env", "--seconds", "0.01", "--repeats", "1", "--markdown-out", str(table)]) == 2
    assert f"--markdown-out {table}: already exists" in capsys.readouterr().err and table.read_text() == "an earlier table"
    assert (
        exit_status(["bench", "env", "--seconds", "0.01", "--repeats", "1", "--markdown-out", str(table), "--overwrite"]) == 0
    )
    assert table.read_text().startswith("Machine:")


def test_a_folder_that_cannot_be_written_is_refused_before_playing(tmp_path, monkeypatch, capsys):
    import sb3_behave.demos.storage as storage

    (tmp_path / "locked").mkdir()
    played = []
    monkeypatch.setattr(storage.os, "access", lambda path, mode: False)  # as for a read-only folder (root ignores chmod)
    monkeypatch.setattr("sb3_behave.demos.record.play_episodes", lambda *args, **kwargs: played.append(1))
    assert exit_status(["record-demos", "--episodes", "1", "--out", str(tmp_path / "locked")]) == 2
    assert "locked: cannot write into this folder (permission denied)" in capsys.readouterr().err and not played


def test_an_algorithm_the_zoo_does_not_know_is_one_line_with_the_closest_name(capsys):
    # Checked before the zoo's parser (its whole usage) and before the config check (a KeyError traceback once).
    for command in ("train", "enjoy", "record-video"):
        assert exit_status([command, "--algo", "PPO", "--env", "CartPole-v1", "-conf", "zoo_configs/ppo.yml"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--algo 'PPO': unknown algorithm (did you mean 'ppo'?); the zoo has a2c," in err, err
