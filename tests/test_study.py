"""Workers sharing one Optuna study (``train -optimize --storage``, ``benchmarks/imitation_zoo.py --storage``).

These tests check coordination, not learning: A2C on CartPole-v1 for a few hundred steps, 1-4 trials.
The PostgreSQL cases need a server: SB3_BEHAVE_TEST_POSTGRES=postgresql+psycopg://USER@HOST:PORT/DB
(``.ci/run`` starts one and sets it). Without the variable they skip; with it, an unreachable server fails.
Each test gets a fresh database on that server (created, then dropped).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sb3_behave.cli import main

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_VARIABLE = "SB3_BEHAVE_TEST_POSTGRES"
#: A short heartbeat, so that a killed worker's trial goes stale in seconds (defaults: 20 s and 60 s).
HEARTBEAT = ["--heartbeat-interval", "1", "--heartbeat-grace", "3"]


@pytest.fixture
def postgres_url():
    """The URL of a fresh, empty PostgreSQL database (dropped afterwards)."""
    url = os.environ.get(POSTGRES_VARIABLE)
    if not url:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_VARIABLE}=postgresql+psycopg://USER@HOST:PORT/DB (.ci/run does)")
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url).set(drivername="postgresql")
    dsn = server.render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(f"{POSTGRES_VARIABLE} is set but its server cannot be reached: {error}")
    name = f"sb3_behave_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        try:
            yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["postgresql", "sqlite", "journal"])
def storage(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'study.db'}" if request.param == "sqlite" else str(tmp_path / "study.log")


def worker(tmp_path, storage, name, *extra, steps=256, log="worker.log"):
    """Start ``sb3-behave train -optimize`` as a separate process (a worker), its output to ``log``."""
    args = [
        *("train", "--algo", "a2c", "--env", "CartPole-v1", "-optimize", "--storage", storage, "--study-name", name),
        *("-n", str(steps), "--n-evaluations", "1", "--eval-episodes", "2", "--sampler", "random", "--pruner", "none"),
        *("--no-optim-plots", "--seed", "0", "-f", str(tmp_path / "logs"), *HEARTBEAT, *extra),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    out = open(tmp_path / log, "w")
    process = subprocess.Popen([sys.executable, "-m", "sb3_behave.cli", *args], cwd=tmp_path, env=env, stdout=out, stderr=out)
    process.log = tmp_path / log
    return process


def finish(process, timeout=240):
    status = process.wait(timeout=timeout)
    text = process.log.read_text()
    assert status == 0, f"worker {process.pid} exited with {status}:\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    return text


def trials(storage, name):
    from sb3_behave.zoo.study import load_study

    return load_study(storage, name).get_trials(deepcopy=False)


@pytest.mark.slow
def test_two_workers_started_at_once_on_an_empty_storage_split_the_trials(tmp_path, storage):
    budget = ("--n-trials", "4", "--max-total-trials", "4")
    workers = [worker(tmp_path, storage, "split", *budget, log=f"w{i}.log") for i in (1, 2)]
    logs = [finish(w) for w in workers]
    found = trials(storage, "split")
    assert [t.state.name for t in found] == ["COMPLETE"] * 4, [(t.number, t.state.name) for t in found]  # no more, no less
    assert len({tuple(sorted(t.params.items())) for t in found}) == 4, "two trials ran the same parameters"
    pids = {w.pid for w in workers}
    assert {t.user_attrs["pid"] for t in found} <= pids
    seeds = {w.pid: int(log.split("worker seed ")[1].split()[0]) for w, log in zip(workers, logs)}
    assert len(set(seeds.values())) == 2, "both workers got --seed 0 and kept it"
    for t in found:  # provenance: who ran it
        assert t.user_attrs["seed"] == seeds[t.user_attrs["pid"]]
        assert t.user_attrs["host"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgresql", "journal"])
def test_the_trial_of_a_killed_worker_is_failed_and_run_again_by_the_next(tmp_path, request, kind):
    storage = request.getfixturevalue("postgres_url") if kind == "postgresql" else str(tmp_path / "study.log")
    budget = ("--n-trials", "1", "--max-total-trials", "1")
    doomed = worker(tmp_path, storage, "kill", *budget, steps=10_000_000, log="doomed.log")
    deadline = time.time() + 120
    from sb3_behave.zoo.study import parse_storage

    parse_storage(storage)
    while time.time() < deadline:
        assert doomed.poll() is None, doomed.log.read_text()[-3000:]
        try:
            if any(t.state.name == "RUNNING" for t in trials(storage, "kill")):
                break
        except ValueError:  # the study is not created yet
            pass
        time.sleep(0.5)
    time.sleep(1.5)  # a heartbeat or two
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    (running,) = trials(storage, "kill")
    assert running.state.name == "RUNNING"  # nobody told the study
    time.sleep(3)  # past the grace period
    log = finish(worker(tmp_path, storage, "kill", *budget, log="next.log"))
    first, retry = trials(storage, "kill")
    assert first.state.name == "FAIL" and first.user_attrs["pid"] == doomed.pid
    assert retry.state.name == "COMPLETE" and retry.user_attrs["pid"] != doomed.pid
    assert retry.params == first.params and retry.system_attrs["failed_trial"] == first.number
    assert "trial 0: its worker stopped sending heartbeats" in log


@pytest.mark.slow
def test_two_workers_share_a_multi_seed_benchmark_and_make_its_table(tmp_path, request):
    if os.environ.get(POSTGRES_VARIABLE):
        storage = request.getfixturevalue("postgres_url")
    else:
        storage = f"sqlite:///{tmp_path / 'bench.db'}"
    args = [sys.executable, str(ROOT / "benchmarks" / "imitation_zoo.py"), "--env", "cartpole", "--algos", "bc"]
    args += ["--seeds", "0", "1", "--n-timesteps", "300", "--out", str(tmp_path / "runs")]
    args += ["--results", str(tmp_path / "results")]
    args += ["--storage", storage, "--study-name", "bench"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy"}
    workers = [subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)]
    workers.append(subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    for w, output in zip(workers, outputs):
        assert w.returncode == 0, output[-3000:]
    found = trials(storage, "bench")
    assert sorted((t.user_attrs["cell"]["algo"], t.user_attrs["cell"]["seed"]) for t in found) == [
        ("bc", 0), ("bc", 1)
    ]  # fmt: skip  (each cell once, though both workers queued them)
    assert all(t.state.name == "COMPLETE" for t in found)
    ran = [int(o.split("this worker ran ")[1].split()[0]) for o in outputs]
    assert sum(ran) == 2, outputs
    (table,) = (tmp_path / "results" / "cartpole").glob("*/table.md")
    lines = table.read_text().splitlines()
    rows = {line.split("|")[1].strip(): line for line in lines if line.startswith("| bc")}
    assert set(rows) == {"bc"}
    for t in found:  # the table is made from the study's values
        assert f"{t.value:.1f}" in rows[t.user_attrs["cell"]["algo"]].split("|")[3]


@pytest.mark.parametrize(
    "storage, expected",
    [
        ("mysql://u@h/db", "--storage 'mysql://u@h/db': expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"),
        ("sqlite://", "expected sqlite:///PATH"),
        ("study.txt", "or a journal file PATH ending in .log"),
        ("postgresql://u:secret@127.0.0.1:9/db", "cannot open the database: connection failed"),
    ],
)
def test_a_bad_storage_is_one_line_naming_it(storage, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["study", "status", "--storage", storage, "--study-name", "x"]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert "secret" not in err


@pytest.mark.parametrize("storage", ["missing.log", "sqlite:///missing.db"])
def test_status_of_a_file_that_does_not_exist_says_so_and_creates_nothing(storage, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv in (["--storage", storage], ["--storage", storage, "--study-name", "x"]):
        assert main(["study", "status", *argv]) == 2
        assert f"--storage {storage}: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_postgresql_without_its_driver_says_which_extra_to_install(capsys, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else find_spec(name, *a))
    assert main(["train", "-optimize", "--storage", "postgresql://u@localhost/db", "--study-name", "x"]) == 2
    assert "pip install 'sb3-behave[postgres]'" in capsys.readouterr().err


def test_a_shared_search_needs_a_study_name_and_sane_heartbeats(capsys):
    assert main(["train", "-optimize", "--storage", "study.log"]) == 2
    assert "give --study-name NAME too" in capsys.readouterr().err
    assert main(["train", "-optimize", "--storage", "s.log", "--study-name", "x", "--heartbeat-grace", "soon"]) == 2
    assert "--heartbeat-grace: expected a whole number >= 1, got 'soon'" in capsys.readouterr().err
    shared = ["train", "-optimize", "--storage", "s.log", "--study-name", "x"]
    assert main([*shared, "--heartbeat-interval", "9", "--heartbeat-grace", "5"]) == 2
    assert "must be longer than its interval" in capsys.readouterr().err
    assert main(["train", "--algo", "ppo", "--max-retry", "2"]) == 2
    assert "only with -optimize --storage" in capsys.readouterr().err


def test_status_shows_done_running_failed_and_pending(tmp_path, capsys):
    import optuna

    from sb3_behave.zoo.study import SharedStudy

    storage = str(tmp_path / "status.log")
    shared = SharedStudy(storage, "progress", watch=False)
    shared.study.enqueue_trial({"x": 1.0})
    done = shared.study.ask({"x": optuna.distributions.FloatDistribution(0, 2)})
    shared.study.tell(done, 3.0)
    shared.study.ask()  # running
    failed = shared.study.ask()
    shared.study.tell(failed, state=optuna.trial.TrialState.FAIL)
    shared.study.enqueue_trial({"x": 2.0})  # pending
    assert main(["study", "status", "--storage", storage, "--study-name", "progress"]) == 0
    out = capsys.readouterr().out
    assert "4 trial(s): 1 done, 0 pruned, 1 running, 1 failed, 1 pending" in out
    assert "best: trial 0, value 3" in out
    assert main(["study", "status", "--storage", storage]) == 0
    assert "progress: 4 trial(s)" in capsys.readouterr().out


def test_worker_seeds_differ_between_workers_and_repeat_for_one():
    from sb3_behave.zoo.study import worker_seed

    assert worker_seed(0, "a", 1) == worker_seed(0, "a", 1)
    assert len({worker_seed(0, "a", 1), worker_seed(0, "a", 2), worker_seed(0, "b", 1), worker_seed(1, "a", 1)}) == 4
