"""Small files that claim a lot of memory, and files that contradict themselves, are refused before they are read.

Each crafted file here is small on disk and declares (in an array header, a zip directory, an HDF5
shape, YAML aliases) far more than the budget; the reader must refuse it in one line naming the
file and the size, without allocating it. The budget is lowered with ``SB3_BEHAVE_MAX_READ_BYTES``
so that the files stay a few kB.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from imitation.data.types import TrajectoryWithRew

from sb3_behave.cli import main
from sb3_behave.demos import load_episodes
from sb3_behave.demos.storage import DemonstrationError, episode_metadata, read_episode, write_episode
from sb3_behave.limits import ENV_VAR, TooLargeError, check_claim, max_read_bytes
from sb3_behave.preferences.storage import PreferenceError, answer_files, load_preferences, read_answer, write_answer
from sb3_behave.zoo.config import check_config_entry

FLAPPY = "sb3_behave/FlappyBird-v0"
ROOT = Path(__file__).resolve().parent.parent


def zeros_episode(folder: Path, steps: int) -> Path:
    env = gym.make("CartPole-v1")
    trajectory = TrajectoryWithRew(
        obs=np.zeros((steps + 1, 4), np.float32),
        acts=np.zeros(steps, np.int64),
        infos=None,
        terminal=True,
        rews=np.ones(steps, np.float32),
    )
    return write_episode(folder, trajectory, episode_metadata(env, seed=0))


def test_the_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert max_read_bytes() == 256 * 2**20
    for text, expected in (("1000", 1000), ("512M", 512 * 2**20), ("2G", 2 * 2**30), ("1.5k", 1536), ("64MiB", 64 * 2**20)):
        monkeypatch.setenv(ENV_VAR, text)
        assert max_read_bytes() == expected
    monkeypatch.setenv(ENV_VAR, "lots")
    with pytest.raises(ValueError, match=f"{ENV_VAR}='lots': expected a size in bytes"):
        max_read_bytes()
    with pytest.raises(TooLargeError, match=r"x.npz: its arrays would take 2.0 kiB in memory, over the 1000 bytes"):
        check_claim("x.npz", 2048, "its arrays", budget=1000)


def test_an_episode_that_inflates_past_the_budget_is_refused_before_reading(tmp_path, monkeypatch):
    path = zeros_episode(tmp_path / "demos", 100_000)  # 2 MB of zeros in memory, a few kB on disk
    assert path.stat().st_size < 20_000
    assert len(read_episode(path).trajectory.acts) == 100_000  # within the default budget
    monkeypatch.setenv(ENV_VAR, "1M")
    with pytest.raises(DemonstrationError, match=rf"{path.name}: its arrays would take 2.7 MiB in memory, over the 1.0 MiB"):
        read_episode(path)
    assert main(["demos", "info", str(tmp_path / "demos")]) == 2


def test_an_array_header_claiming_more_than_its_member_holds_is_refused(tmp_path):
    path = zeros_episode(tmp_path, 10)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()  # a header claiming 16 GB, over 64 bytes of data
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 4)})
    files["obs.npy"] = buffer.getvalue() + bytes(64)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    with pytest.raises(DemonstrationError, match=r"array 'obs' claims shape \(1000000000, 4\) of float32 .* but holds"):
        read_episode(path)


def answer(folder: Path, steps: int = 5, **change):
    fragment = TrajectoryWithRew(
        obs=np.zeros((steps + 1, 12), np.float32),
        acts=np.zeros(steps, np.int64),
        infos=None,
        terminal=False,
        rews=np.ones(steps, np.float32),
    )
    path = write_answer(folder, (fragment, fragment), 1.0, {"env_id": FLAPPY, "env_kwargs": {}})
    if change:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays.update({k: np.asarray(v) for k, v in change.items()})
        with open(path, "wb") as file:
            np.savez_compressed(file, **arrays)
    return path


def test_an_answer_that_inflates_past_the_budget_is_refused(tmp_path, monkeypatch):
    path = answer(tmp_path / "answers", steps=50_000)
    monkeypatch.setenv(ENV_VAR, "1M")
    with pytest.raises(PreferenceError, match=rf"{path.name}: its arrays would take 5.7 MiB in memory, over the 1.0 MiB"):
        read_answer(path)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"metadata": json.dumps({"env_id": "CartPole-v1"})}, "an answer about 'CartPole-v1', not 'sb3_behave/FlappyBird-v0'"),
        (
            {"metadata": json.dumps({"env_id": FLAPPY, "env_kwargs": {"pipe_gap": 200}})},
            "with other env kwargs .differing: pipe_gap",
        ),
        ({"acts1": np.full(5, 7)}, r"fragment 1: action 0 is 7, outside .* action space Discrete\(2\)"),
        ({"obs2": np.full((6, 12), 50.0, np.float32)}, "fragment 2: observation 0 is outside the observation space"),
        ({"obs1": np.full((6, 12), np.nan, np.float32)}, "fragment 1: obs holds NaN or inf"),
        ({"rews1": np.full(5, 1e30, np.float32)}, r"fragment 1 has a reward of 1e\+30, beyond the \+-1e\+06"),
        ({"acts1": np.zeros(9, np.int64)}, "fragment 1: inconsistent lengths"),
        ({"metadata": "[1, 2]"}, "metadata is a JSON list, expected an object"),
    ],
)
def test_answers_of_another_env_or_outside_its_spaces_are_refused(change, message, tmp_path):
    answer(tmp_path / "answers")
    assert len(load_preferences(tmp_path / "answers", gym.make(FLAPPY))[0]) == 1  # the answer as written loads
    answer(tmp_path / "bad", **change)
    with pytest.raises(PreferenceError, match=message):
        load_preferences(tmp_path / "bad", gym.make(FLAPPY))


def laughs(levels: int = 8) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            laughs() + "CartPole-v1:\n  policy: MlpPolicy\n  env_kwargs: {junk: *l7}\n",
            "its YAML aliases expand to more than 100,000 values",
        ),
        (
            "CartPole-v1:\n  policy: MlpPolicy\nlong: [" + "1, " * 400_000 + "1]\n",
            r"a zoo config of 1.1 MiB, over the 1.0 MiB",
        ),
        (
            "CartPole-v1: !!python/object/apply:os.system ['touch ran']\n",
            "the YAML tag !!python/object/apply:os.system asks to run",
        ),
        ("CartPole-v1:\n  gamma: !!python/name:os.system\n", "the YAML tag !!python/name:os.system asks to run code"),
    ],
)
def test_a_zoo_config_that_is_a_bomb_or_runs_code_is_refused_before_the_zoo_reads_it(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf.yml").write_text(text)
    with pytest.raises(ValueError, match=message):
        check_config_entry(tmp_path / "conf.yml", "ppo", "CartPole-v1")
    assert not (tmp_path / "ran").exists()
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "-conf", str(tmp_path / "conf.yml")]) == 2
    assert not (tmp_path / "logs").exists() and not (tmp_path / "ran").exists()


def test_a_minari_dataset_declaring_more_than_the_budget_or_contradicting_itself_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("minari")
    import h5py

    from sb3_behave.demos.minari_datasets import export_minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    zeros_episode(tmp_path / "demos", 20)
    folder = export_minari(load_episodes(tmp_path / "demos"), "test/zeros-v0") / "data"
    assert len(load_episodes("test/zeros-v0")) == 1
    with h5py.File(folder / "main_data.hdf5", "a") as file:  # 200 million rows, no data written: a few kB
        group = file["episode_0"]
        del group["observations"]
        group.create_dataset("observations", shape=(200_000_001, 4), dtype="f4", chunks=(2**16, 4), compression="gzip")
    assert (folder / "main_data.hdf5").stat().st_size < 200_000
    with pytest.raises(
        DemonstrationError, match=r"zeros-v0/data: its episodes would take 3.0 GiB in memory, over the 256 MiB"
    ):
        load_episodes("test/zeros-v0")
    with h5py.File(folder / "main_data.hdf5", "a") as file:
        group = file["episode_0"]
        del group["observations"]
        group["observations"] = np.zeros((21, 4), np.float32)
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "total_steps": 10**12}))
    with pytest.raises(DemonstrationError, match=r"metadata.json says total_steps 1000000000000, but the dataset holds 20"):
        load_episodes("test/zeros-v0")


def test_compare_stops_on_sigterm_and_keeps_its_answers(tmp_path):
    pytest.importorskip("pygame")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "TQDM_DISABLE": "1"}
    argv = [
        sys.executable,
        "-m",
        "sb3_behave.cli",
        "compare",
        "--env",
        "CartPole-v1",
        "--out",
        "answers",
        "--auto-answer",
        "--queries",
        "2000",
        "--fragment-length",
        "5",
        "--fps",
        "1000",
    ]
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while len(answer_files(tmp_path / "answers")) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    kept = answer_files(tmp_path / "answers")
    assert process.returncode == 130, output
    assert "Traceback" not in output and "(stopped: run the same command again to resume)" in output
    assert 3 <= len(kept) < 2000 and all(read_answer(path) for path in kept)  # each kept answer is whole
    assert not [p for p in (tmp_path / "answers").iterdir() if p.name.startswith(".")]  # no half-written file


WITHOUT_COMPILER = """
import sys
import gymnasium as gym
import torch
from sb3_behave.agents import load_agent_from_path
from sb3_behave.envs.flappy_bird import jit
from sb3_behave.zoo.commands import PRETRAINED_FOLDER

env = gym.make("sb3_behave/FlappyBird-v0")
model, _ = load_agent_from_path(next((PRETRAINED_FOLDER / "ppo").iterdir()), env)
obs, _ = env.reset(seed=0)
for _ in range(200):
    obs, _, done, _, _ = env.step(model.predict(obs, deterministic=True)[0])
    if done:
        obs, _ = env.reset()
acted = ["torch._dynamo" in sys.modules, "numba" in sys.modules, jit.compiled()]
wrapped = torch.optim.Optimizer.add_param_group.__wrapped__
restored = not hasattr(wrapped, "__dynamo_disable")
model.policy.optimizer.zero_grad()  # outside the context the optimizer's wrappers import the compiler as before
print(acted, restored, "torch._dynamo" in sys.modules)
"""


def test_an_agent_loads_and_acts_without_torch_compiler_or_numba():
    """Loading an SB3 agent to act imports neither torch's compiler (about 90 MB: SB3 builds an
    optimizer with every policy) nor numba (one bird plays uncompiled): 200 steps of the shipped
    agent, then the optimizer's wrappers are as they were."""
    done = subprocess.run([sys.executable, "-c", WITHOUT_COMPILER], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "[False, False, False] True True"
