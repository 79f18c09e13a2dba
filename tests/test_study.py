"""Workers sharing one Optuna study (``train -optimize --storage``, ``benchmarks/imitation_zoo.py --storage``).

These tests check coordination, not learning: A2C on CartPole-v1 for a few hundred steps, 1-4 trials.
The PostgreSQL cases need a server: SB3_BEHAVE_TEST_POSTGRES=postgresql+psycopg://USER@HOST:PORT/DB
(``.ci/run`` starts one and sets it). Without the variable they skip; with it, an unreachable server fails.
Each test gets a fresh database on that server (created, then dropped).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
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
    from sb3_behave.zoo.study_report import load_study

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
    # A grace period longer than a worker's start: the next worker asks while the killed trial still
    # looks alive, finds the budget full, and must wait for that trial to go stale, not give up.
    heartbeat = ("--heartbeat-interval", "1", "--heartbeat-grace", "10")
    doomed = worker(tmp_path, storage, "kill", *budget, *heartbeat, steps=10_000_000, log="doomed.log")
    deadline = time.time() + 120
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
    killed_at = time.time()
    (running,) = trials(storage, "kill")
    assert running.state.name == "RUNNING"  # nobody told the study
    log = finish(worker(tmp_path, storage, "kill", *budget, *heartbeat, log="next.log"))
    first, retry = trials(storage, "kill")
    assert first.state.name == "FAIL" and first.user_attrs["pid"] == doomed.pid
    assert retry.state.name == "COMPLETE" and retry.user_attrs["pid"] != doomed.pid
    assert retry.params == first.params and retry.system_attrs["failed_trial"] == first.number
    assert "trial 0: its worker stopped sending heartbeats" in log
    assert first.datetime_complete.timestamp() > killed_at + 5, "the trial was failed before its grace period"
    # (a worker starts in about 5 s: if this fails on a slow machine, give the grace period more)
    assert "no trial free while others run: waiting" in log, "the next worker started after the grace period"


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
        ("bc", 0),
        ("bc", 1),
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


# ---------------------------------------------------------------- workers in one process (fast)


def short_heartbeat(**kwargs):
    from sb3_behave.zoo.storage import WorkerSettings

    return WorkerSettings(heartbeat_interval=1, grace_period=2, **kwargs)


def age_journal_heartbeat(shared, trial, seconds):
    """Pretend the worker of the running ``trial`` (a journal's) was last heard of ``seconds`` ago."""
    from sb3_behave.zoo.study import _JOURNAL_HEARTBEAT

    shared.optuna_storage.set_trial_system_attr(trial._trial_id, _JOURNAL_HEARTBEAT, time.time() - seconds)


def test_a_retry_taken_by_a_worker_is_not_failed_for_the_dead_workers_old_heartbeat(tmp_path):
    from sb3_behave.zoo.study import SharedStudy

    shared = SharedStudy(str(tmp_path / "retry.log"), "retry", short_heartbeat(), watch=False)
    dead = shared.ask()
    age_journal_heartbeat(shared, dead, 100)  # its worker's last heartbeat, long ago
    time.sleep(2.2)  # and it started longer ago than the grace period
    assert shared.fail_stale_trials() == [dead.number]
    retry = shared.ask()  # the queued copy, which carries the dead worker's heartbeat
    assert shared.optuna_storage.get_trial(retry._trial_id).system_attrs["failed_trial"] == dead.number
    assert shared.fail_stale_trials() == []  # e.g. another worker's watcher, right after
    assert shared.study.get_trials(deepcopy=False)[retry.number].state.name == "RUNNING"
    shared.study.tell(retry, 1.0)


@pytest.mark.parametrize("budget", ["max_total_trials", "queued_only"])
def test_a_worker_that_finds_no_trial_while_a_dead_workers_runs_waits_and_runs_its_retry(tmp_path, budget):
    from sb3_behave.zoo.study import SharedStudy

    storage = str(tmp_path / "wait.log")
    limits = {"max_total_trials": 1} if budget == "max_total_trials" else {"queued_only": True}
    dead = SharedStudy(storage, "wait", short_heartbeat(), watch=False, **limits)
    if budget == "queued_only":
        dead.study.enqueue_trial({}, user_attrs={"cell": {"seed": 0}})
    dead.ask().set_user_attr("host", "elsewhere")  # a worker on another machine, then killed: no more heartbeats
    alive = SharedStudy(storage, "wait", short_heartbeat(), watch=False, **limits)
    ran = []
    start = time.time()
    alive.optimize(lambda trial: ran.append(trial.number) or 1.0)
    assert ran == [1], "the live worker gave up while the dead worker's trial was still running"
    assert time.time() - start < 10
    assert [t.state.name for t in alive.study.get_trials(deepcopy=False)] == ["FAIL", "COMPLETE"]


def test_the_zoos_budget_callback_does_not_stop_a_worker_while_a_dead_workers_trial_runs(tmp_path):
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from sb3_behave.zoo.study import SharedStudy

    storage = str(tmp_path / "zoo.log")
    dead = SharedStudy(storage, "zoo", short_heartbeat(), watch=False, max_total_trials=2)
    dead.ask().set_user_attr("host", "elsewhere")  # then killed
    alive = SharedStudy(storage, "zoo", short_heartbeat(), watch=False, max_total_trials=2)
    assert alive.wait_for_a_free_place()  # at once: one place is free
    ran = []
    counted = [TrialState.COMPLETE, TrialState.RUNNING, TrialState.PRUNED]  # as the zoo's
    alive.study.optimize(lambda trial: ran.append(trial.number) or 1.0, callbacks=[MaxTrialsCallback(2, states=counted)])
    assert ran == [1, 2], "the worker stopped while the dead worker's trial was still running"
    assert [t.state.name for t in alive.study.get_trials(deepcopy=False)] == ["FAIL", "COMPLETE", "COMPLETE"]


def test_a_worker_waits_no_longer_than_grace_and_interval_for_a_live_trial(tmp_path):
    from sb3_behave.zoo.study import SharedStudy, _BudgetSpent

    storage = str(tmp_path / "live.log")
    busy = SharedStudy(storage, "live", short_heartbeat(), watch=False, max_total_trials=1)
    running = busy.ask()
    running.set_user_attr("host", "elsewhere")
    other = SharedStudy(storage, "live", short_heartbeat(), watch=False, max_total_trials=1)
    stop = threading.Event()

    def beat():  # the busy worker is alive
        while not stop.wait(0.5):
            age_journal_heartbeat(busy, running, 0)

    thread = threading.Thread(target=beat)
    thread.start()
    start = time.time()
    try:
        with pytest.raises(_BudgetSpent):
            other.ask()
    finally:
        stop.set()
        thread.join()
    assert 2.5 < time.time() - start < 6  # grace 2 s + interval 1 s
    busy.study.tell(running, 1.0)
    with pytest.raises(_BudgetSpent):  # complete: nothing to wait for
        other.ask()
    assert time.time() - start < 7


def test_a_worker_does_not_wait_for_its_own_running_trials(tmp_path):
    from sb3_behave.zoo.study import SharedStudy, _BudgetSpent

    shared = SharedStudy(str(tmp_path / "own.log"), "own", short_heartbeat(), watch=False, max_total_trials=1)
    shared.ask()  # run by another thread of this worker (n_jobs > 1): it will not go stale
    start = time.time()
    with pytest.raises(_BudgetSpent):
        shared.ask()
    assert time.time() - start < 1


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_optunas_own_check_for_stale_trials_runs_under_the_lock(tmp_path):
    """Optuna fails stale trials before each ``ask`` of ``optimize``: outside the lock, two workers
    could both fail one trial and queue two retries. Held by another worker, the lock holds it back."""
    from sb3_behave.zoo.storage import study_lock
    from sb3_behave.zoo.study import SharedStudy

    shared = SharedStudy(f"sqlite:///{tmp_path / 'lock.db'}", "lock", short_heartbeat(), watch=False)
    shared.ask()  # then its worker dies: the heartbeat recorded as it was asked is its last
    time.sleep(3.2)  # past the grace period: stale
    states = lambda: [t.state.name for t in shared.study.get_trials(deepcopy=False)]  # noqa: E731
    with study_lock(shared.storage):  # another worker holds the lock
        thread = threading.Thread(target=shared.optimize, args=(lambda trial: 1.0,), kwargs={"n_trials": 1})
        thread.start()
        time.sleep(1.0)
        assert states() == ["RUNNING"], "Optuna failed the stale trial without the lock"
    thread.join(30)
    assert states() == ["FAIL", "COMPLETE"]
    assert shared.study.get_trials(deepcopy=False)[1].system_attrs["failed_trial"] == 0


# ---------------------------------------------------------------- reading never writes


def test_status_of_files_that_are_not_optunas_is_one_line_and_changes_nothing(tmp_path, capsys, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.log").write_text("my notes\n")
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("CREATE TABLE mine (x)")
    (tmp_path / "empty.db").write_bytes(b"")
    files = lambda: {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}  # noqa: E731
    before = files()
    cases = [
        ("notes.log", "--storage notes.log: is not an Optuna journal file"),
        ("sqlite:///other.db", "--storage sqlite:///other.db: is not an Optuna storage"),
    ]
    for storage, expected in cases:
        for argv in (["--storage", storage], ["--storage", storage, "--study-name", "x"]):
            assert main(["study", "status", *argv]) == 2
            err = capsys.readouterr().err
            assert expected in err and len(err.strip().splitlines()) == 1, err
    assert main(["train", "-optimize", "--storage", "notes.log", "--study-name", "x"]) == 2  # nor does a worker
    assert "notes.log: is not an Optuna journal file" in capsys.readouterr().err
    assert main(["study", "status", "--storage", "sqlite:///empty.db"]) == 0
    assert "no study in sqlite:///empty.db yet" in capsys.readouterr().out
    assert main(["study", "status", "--storage", "sqlite:///empty.db", "--study-name", "x"]) == 2
    assert "no such study in sqlite:///empty.db (its studies: none)" in capsys.readouterr().err
    assert files() == before  # no lock file, table or record


def test_status_of_a_study_creates_no_lock_file(tmp_path, capsys):
    from sb3_behave.zoo.study import SharedStudy

    for storage in (str(tmp_path / "a" / "s.log"), f"sqlite:///{tmp_path / 'b' / 's.db'}"):
        SharedStudy(storage, "s", watch=False)
        folder = (tmp_path / "a") if storage.endswith(".log") else (tmp_path / "b")
        for lock in folder.glob("*.sb3-behave.lock"):
            lock.unlink()
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        assert main(["study", "status", "--storage", storage, "--study-name", "s"]) == 0
        assert "study s: 0 trial(s)" in capsys.readouterr().out
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_status_of_an_empty_postgresql_database_creates_no_table(postgres_url, capsys):
    import sqlalchemy

    assert main(["study", "status", "--storage", postgres_url]) == 0
    assert "no study in" in capsys.readouterr().out
    assert main(["study", "status", "--storage", postgres_url, "--study-name", "x"]) == 2
    assert "(its studies: none)" in capsys.readouterr().err
    engine = sqlalchemy.create_engine(postgres_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        assert sqlalchemy.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_postgresql_connections_give_up_and_notice_a_lost_machine_in_about_a_minute(postgres_url):
    import sqlalchemy

    from sb3_behave.zoo.storage import _engines, open_storage, parse_storage, study_lock

    storage = parse_storage(postgres_url)
    expected = {"connect_timeout": "10", "keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10"}
    expected["keepalives_count"] = "3"
    with study_lock(storage):
        with _engines[storage.url].connect() as connection:
            parameters = connection.connection.dbapi_connection.info.get_parameters()
            assert {k: parameters.get(k) for k in expected} == expected
    optuna_storage = open_storage(storage)
    with optuna_storage.engine.connect() as connection:
        parameters = connection.connection.dbapi_connection.info.get_parameters()
        assert {k: parameters.get(k) for k in expected} == expected
    assert isinstance(optuna_storage.engine, sqlalchemy.engine.Engine)


def test_the_benchmark_table_of_a_missing_study_is_one_line_and_creates_nothing(tmp_path):
    storage = str(tmp_path / "bench.log")
    from sb3_behave.zoo.study import SharedStudy

    SharedStudy(storage, "bench", watch=False)
    before = (tmp_path / "bench.log").read_bytes()
    args = [sys.executable, str(ROOT / "benchmarks" / "imitation_zoo.py"), "--env", "cartpole", "--algos", "bc"]
    args += ["--results", str(tmp_path / "results"), "--storage", storage, "--study-name", "bnech", "--table-only"]
    run = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        f"imitation_zoo.py: error: --study-name 'bnech': no such study in {storage} (its studies: bench)"
    ]
    assert (tmp_path / "bench.log").read_bytes() == before
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize(
    "storage",
    [
        "postgresql+psycopg2://u:secret@h/db",
        "mysql://u:secret@h/db",
        "sqlite://u:secret@",
        "postgresql://u:secret@tail@127.0.0.1:1/db",  # drivers would take "tail@127.0.0.1" for the host
        "postgresql://u:secret/tail@127.0.0.1:1/db",
        "postgresql://u:secret#tail@127.0.0.1:1/db",
        "postgresql://u:secret@127.0.0.1:port/db",
    ],
)
def test_a_password_is_never_shown(storage, capsys):
    assert main(["study", "status", "--storage", storage]) == 2
    assert main(["train", "-optimize", "--storage", storage, "--study-name", "x"]) == 2
    err = capsys.readouterr().err
    assert "secret" not in err and "tail" not in err and "u:***@" in err, err
    assert err.count("\n") == 2 and "Traceback" not in err


def test_force_seed_takes_no_value_and_help_needs_no_study_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shared = ["train", "--algo", "no-such-algo", "-optimize", "--storage", "s.log", "--study-name", "x"]  # never runs
    assert main([*shared, "--force-seed=1"]) == 2
    assert "--force-seed: takes no value, got '--force-seed=1'" in capsys.readouterr().err
    assert main(["train", "-h", "-optimize", "--storage", "s.log"]) == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--heartbeat-grace N" in out


# ---------------------------------------------------------------- the benchmark's runs


@pytest.fixture
def imitation_zoo(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import imitation_zoo

    return imitation_zoo


def test_a_killed_cells_leftover_run_is_trained_afresh_and_that_run_evaluated(imitation_zoo, tmp_path, monkeypatch):
    folder = tmp_path / "logs" / "bc_seed3"
    (folder / "bc" / "CartPole-v1_1").mkdir(parents=True)  # a killed worker's run: no model
    (folder / "bc" / "CartPole-v1_1" / "monitor.csv").write_text("partial")

    def train(args, cwd, log):  # the zoo: the next run number in the folder
        runs = folder / "bc"
        number = 1 + len(list(runs.glob("CartPole-v1_*"))) if runs.exists() else 1
        (runs / f"CartPole-v1_{number}").mkdir(parents=True)
        (runs / f"CartPole-v1_{number}" / "CartPole-v1.zip").write_bytes(b"model")
        return 5.0

    def evaluate_run(algo, env_id, where, exp_id, seed=None):
        assert (where / algo / f"{env_id}_{exp_id}" / f"{env_id}.zip").is_file(), f"run {exp_id} has no model"
        return 100.0 + exp_id + (0 if seed is None else seed)

    monkeypatch.setattr(imitation_zoo, "run_sb3_behave", train)
    monkeypatch.setattr(imitation_zoo, "evaluate_run", evaluate_run)
    assert imitation_zoo.train_and_evaluate("bc", "CartPole-v1", 3, tmp_path) == (101.0, 5.0)
    assert [p.name for p in (folder / "bc").iterdir()] == ["CartPole-v1_1"]
    value, seconds = imitation_zoo.train_and_evaluate("bc", "CartPole-v1", 3, tmp_path)  # there: reused
    assert value == 101.0 and seconds != seconds
    assert imitation_zoo.took(seconds) == "(run already there)" and imitation_zoo.took(12.3) == "(12 s)"
    # --eval-seed: the same run, evaluated on other episodes
    assert imitation_zoo.train_and_evaluate("bc", "CartPole-v1", 3, tmp_path, eval_seed=1000)[0] == 1101.0


def test_a_variant_row_trains_its_own_config_and_budget_into_its_own_folder(imitation_zoo, tmp_path, monkeypatch):
    commands = []

    def train(args, cwd, log):
        commands.append(args)
        run = Path(args[args.index("-f") + 1]) / args[args.index("--algo") + 1] / "CartPole-v1_1"
        run.mkdir(parents=True)
        (run / "CartPole-v1.zip").write_bytes(b"model")
        return 5.0

    monkeypatch.setattr(imitation_zoo, "run_sb3_behave", train)
    monkeypatch.setattr(imitation_zoo, "evaluate_run", lambda algo, env_id, where, exp_id, seed=None: 500.0)
    budgets = {"airl": 7}  # --budget airl=7 is the airl row's, not the variant's
    for row in ("airl_bc_warm_start_clone", "airl_bc_warm_start"):
        imitation_zoo.train_row(row, "CartPole-v1", 0, tmp_path, imitation_zoo.row_budget(row, budgets, None))
    clone, full = commands
    for command in commands:
        assert command[command.index("--algo") + 1] == "airl"
        assert command[command.index("-conf") + 1] == "zoo_configs/airl_bc_warm_start.yml"
    assert clone[clone.index("-n") + 1] == "1" and "-n" not in full
    assert clone[clone.index("-f") + 1].endswith("airl_bc_warm_start_seed0_n1")
    assert full[full.index("-f") + 1].endswith("airl_bc_warm_start_seed0")
    results = {
        "expert": "PPO",
        "expert_value": 500.0,
        "demos": "10 episodes",
        "stack": "current",
        "runs": {
            "airl_bc_warm_start": [{"seed": 0, "value": 450.0, "budget": None}],
            "airl_bc_warm_start_clone": [{"seed": 0, "value": 500.0, "budget": 1}],
        },
    }
    text = imitation_zoo.table("cartpole", results)
    assert (
        "| airl_bc_warm_start | 450.0 ± 0.0 | 450.0 | 90% | ≥ 90%: met | 300,000 env steps "
        "(`zoo_configs/airl_bc_warm_start.yml`) |" in text
    )
    clone_row = "| airl_bc_warm_start_clone | 500.0 ± 0.0 | 500.0 | 100% | no goal | the warm start alone (`-n 1`: no round) |"
    assert clone_row in text


def test_a_benchmark_runs_child_dies_with_its_parent(tmp_path):
    child_pid = tmp_path / "child.pid"
    parent = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT / "benchmarks")!r})
        from common import run_dying_with_parent
        child = "import os, time; open({str(child_pid)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
        run_dying_with_parent([sys.executable, "-c", child], Path("."), {{}}, Path({str(tmp_path / "child.log")!r}))
    """)
    process = subprocess.Popen([sys.executable, "-c", parent], cwd=tmp_path)
    deadline = time.time() + 60
    while not (child_pid.exists() and child_pid.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    pid = int(child_pid.read_text())
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 10
    while alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the child of a killed benchmark worker ran on")


def alive(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_table_written_before_every_cell_is_done_says_so(imitation_zoo):
    results = {"expert": "PPO", "expert_value": 500.0, "demos": "10", "stack": "current", "n_timesteps": 300}
    results["runs"] = {"bc": [{"seed": 0, "value": 400.0, "seconds": 1.0}]}
    results["cells"] = {"done": 1, "running": 1, "pending": 2, "failed": 0}
    assert "**Partial**: 1 cell(s) done, 2 pending, 1 running, 0 failed" in imitation_zoo.table("cartpole", results)
    results["cells"] = {"done": 1, "running": 0, "pending": 0, "failed": 0}
    assert "Partial" not in imitation_zoo.table("cartpole", results)


def test_cell_progress_counts_each_cell_by_its_most_advanced_trial(tmp_path):
    import optuna

    from sb3_behave.zoo.cells import cell_progress, queue_cells
    from sb3_behave.zoo.study import SharedStudy

    shared = SharedStudy(str(tmp_path / "cells.log"), "cells", queued_only=True, watch=False)
    queue_cells(shared, [{"seed": s} for s in range(4)])
    first = shared.ask()
    shared.study.tell(first, state=optuna.trial.TrialState.FAIL)
    shared.study.enqueue_trial({}, user_attrs={"cell": {"seed": 0}})  # its retry
    shared.study.tell(shared.ask(), 1.0)  # seed 1 done
    shared.ask()  # seed 2 running
    assert cell_progress(shared.study) == {"done": 1, "running": 1, "pending": 2, "failed": 0}
    assert cell_progress(shared.study, lambda cell: cell["seed"] == 2) == {"done": 0, "running": 1, "pending": 0, "failed": 0}


def test_other_demonstrations_and_evaluation_games_get_their_own_folders(imitation_zoo, tmp_path, monkeypatch):
    recorded, evaluated = [], []

    def record(args, cwd, log):
        recorded.append(args)
        (cwd / "demos" / "flappy_strong").mkdir(parents=True)
        return 1.0

    def evaluate(policy, env_id, episodes=10, max_frames=2_000, seed=None):
        evaluated.append(seed)
        return 249.0

    monkeypatch.setattr(imitation_zoo, "run_sb3_behave", record)
    monkeypatch.setattr(imitation_zoo, "evaluate", evaluate)
    setup = imitation_zoo.prepare("flappy", tmp_path / "other", demo_seed=7, eval_seed=50_000, dart=0.01)
    assert recorded[0][recorded[0].index("--seed") + 1] == "7" and evaluated == [50_000]
    assert recorded[0][recorded[0].index("--dart") + 1] == "0.01"
    assert setup["expert_value"] == 249.0
    results = {
        "expert": "e",
        "expert_value": 249.0,
        "demos": "d",
        "stack": "s",
        "runs": {},
        "demo_seed": 7,
        "eval_seed": 50_000,
    }
    assert "Demonstrations from seed 7, evaluation episodes from seed 50000." in imitation_zoo.table("flappy", results)
    assert "DART noise 0.01" in imitation_zoo.table("flappy", {**results, "dart": 0.01})


def test_the_benchmark_with_other_seeds_writes_its_own_results(imitation_zoo, tmp_path, monkeypatch):
    from sb3_behave.stack import stack_name

    seen = {}
    monkeypatch.setattr(
        imitation_zoo,
        "prepare",
        lambda *args: seen.setdefault("prepare", args) and {"expert": "e", "expert_value": 249.0, "demos": "d"},
    )

    def train_row(row, env_id, seed, out, budget, eval_seed):
        seen["train"] = (out, eval_seed)
        return 100.0, 1.0

    monkeypatch.setattr(imitation_zoo, "train_row", train_row)
    argv = ["imitation_zoo.py", "--env", "flappy", "--algos", "bc", "--seeds", "0", "--demo-seed", "7", "--dart", "0.01"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path / "out"), "--results", str(tmp_path / "res")])
    imitation_zoo.main()
    folder = f"flappy_demos7_eval12345_dart0.01/{stack_name()}"
    assert seen["prepare"][1:] == (tmp_path / "out" / folder, None, 7, 12_345, 0.01)
    assert seen["train"] == (tmp_path / "out" / folder, 12_345)
    results = json.loads((tmp_path / "res" / folder / "results.json").read_text())
    assert results["runs"]["bc"][0]["value"] == 100.0 and (results["demo_seed"], results["eval_seed"]) == (7, 12_345)
    assert results["dart"] == 0.01
    assert not (tmp_path / "res" / "flappy").exists()  # the table's own results are left alone
