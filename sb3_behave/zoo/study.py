"""Many workers, one Optuna study: storages, race-free start, heartbeats, retries, budgets and provenance.

Workers on any number of machines share one study in a storage given as text (``--storage``):

- ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE``: PostgreSQL through psycopg 3
  (``pip install 'sb3-behave[postgres]'``); ``postgresql+psycopg://`` is the same;
- ``sqlite:///PATH``: one SQLite file (several processes on one machine);
- ``PATH.log``: Optuna's journal file (several processes on one machine or a shared filesystem).

What this module adds to Optuna, for every kind of storage:

- *race-free start*: creating the tables and the study is done under a lock (a PostgreSQL advisory
  lock, or a lock file beside a file storage), so workers started at the same moment on an empty
  database never collide;
- *heartbeats and retries*: a running trial's worker records a heartbeat; a trial whose heartbeat is
  older than the grace period (its worker was killed) is marked failed and a copy with the same
  parameters is queued, which the next worker that asks for a trial runs
  (Optuna's :class:`~optuna.storages.RetryFailedTrialCallback`). PostgreSQL and SQLite use Optuna's
  own heartbeat; the journal file, which has none, gets the same behaviour from this module;
- *an exact budget*: with ``max_total_trials``, a trial is handed out under the lock only while
  fewer than that many trials are complete, pruned or running (a failed one does not count). A
  worker that finds the budget full only because of running trials (or, for a benchmark, no cell
  waiting while others run) waits up to ``grace + interval`` seconds for one of them to fail, and
  runs its retry;
- *provenance*: each trial records the ``host``, ``pid`` and ``seed`` of its worker as user attributes.

A multi-seed benchmark is a study whose trials are queued cells (``{"algo": ..., "env": ..., "seed":
...}`` in the user attribute ``cell``): see :func:`queue_cells` and :func:`run_cells`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import inspect
import json
import os
import re
import socket
import threading
import time
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

#: Defaults of the heartbeat: a killed worker's trial is failed (and queued again) within
#: ``grace + interval`` seconds (80 s) by any live worker, and at the latest when the next worker starts.
HEARTBEAT_INTERVAL = 20
HEARTBEAT_GRACE = 60
#: How many times a trial whose worker died is run again.
MAX_RETRY = 3
#: The states a trial budget counts (as the RL Zoo's ``--max-total-trials``).
COUNTED_STATES = ("COMPLETE", "PRUNED", "RUNNING")
STORAGE_FORMS = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, sqlite:///PATH or a journal file PATH ending in .log"
_JOURNAL_HEARTBEAT = "sb3_behave:heartbeat"
_PG_LOCK_KEY = 0x5B3BE4A7  # pg_advisory_lock key of sb3-behave's study lock
#: libpq connection settings of every PostgreSQL connection: give up connecting after 10 s, and let
#: TCP keepalives notice a lost machine in about a minute (30 + 3 x 10 s), so the server ends its
#: session and releases its advisory lock then (not after the kernel's two hours).
PG_CONNECT_ARGS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def hide_password(text: str) -> str:
    """``text`` with the password of any ``SCHEME://USER:PASSWORD@HOST`` in it replaced by ``***``."""
    return re.sub(r"(://[^:/@\s]*:)\S*@", r"\1***@", text)  # to the last @ of the word: an unquoted @ in it too


@dataclass(frozen=True)
class Storage:
    """A parsed ``--storage``.

    :param text: as the user gave it
    :param kind: ``"postgresql"``, ``"sqlite"`` or ``"journal"``
    :param url: the SQLAlchemy URL (the driver filled in) or the journal file's path
    """

    text: str
    kind: str
    url: str

    @property
    def shown(self) -> str:
        """``text`` with any password hidden, for messages."""
        if self.kind != "postgresql":
            return self.text
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.text).render_as_string(hide_password=True)
        except Exception:  # a URL SQLAlchemy cannot read: never show its password
            return hide_password(self.text)

    @property
    def path(self) -> Path | None:
        """The file of a SQLite or journal storage (None for PostgreSQL)."""
        if self.kind == "journal":
            return Path(self.url)
        if self.kind == "sqlite":
            return Path(self.url[len("sqlite:///") :])
        return None


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker watches the others.

    :param heartbeat_interval: seconds between two heartbeats of a running trial
    :param grace_period: seconds without a heartbeat after which a running trial is failed
    :param max_retry: how many times a failed trial is queued again
    :param seed: the worker's seed (recorded on each trial; None: not recorded)
    """

    heartbeat_interval: int = HEARTBEAT_INTERVAL
    grace_period: int = HEARTBEAT_GRACE
    max_retry: int = MAX_RETRY
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("heartbeat_interval", "grace_period"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}: expected a whole number of seconds >= 1, got {getattr(self, name)}")
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(
                f"the heartbeat grace period ({self.grace_period} s) must be longer than its interval "
                f"({self.heartbeat_interval} s), else live workers' trials are failed"
            )


def parse_storage(text: str) -> Storage:
    """Check a ``--storage`` and fill in the PostgreSQL driver.

    :param text: ``postgresql://...``, ``sqlite:///PATH`` or ``PATH.log``
    :raises ValueError: another form, an in-memory SQLite database, or psycopg 3 missing
    """
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    if text.endswith(".log") and not sep:  # absolute: the workers' threads must not follow a change of folder
        return Storage(text, "journal", os.path.abspath(text))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg") and sep and rest:
        if importlib.util.find_spec("psycopg") is None:
            raise ValueError(
                f"--storage {hide_password(text)!r}: PostgreSQL storage needs the psycopg 3 driver, "
                "which is not installed: pip install 'sb3-behave[postgres]'"
            )
        return Storage(text, "postgresql", f"postgresql+psycopg://{rest}")
    if scheme == "sqlite" and sep:
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:":
            raise ValueError(
                f"--storage {hide_password(text)!r}: expected sqlite:///PATH (a file that every worker opens), got no file"
            )
        return Storage(text, "sqlite", f"sqlite:///{os.path.abspath(path)}")
    raise ValueError(f"--storage {hide_password(text)!r}: expected {STORAGE_FORMS}")


# ---------------------------------------------------------------- the study lock


_thread_locks: dict[str, threading.Lock] = {}
_engines: dict[str, Any] = {}


def _connection_error(storage: Storage, error: BaseException, what: str = "cannot open the database") -> ValueError:
    reason = hide_password(str(getattr(error, "orig", None) or error).strip().splitlines()[0])
    from sqlalchemy.engine import make_url

    with contextlib.suppress(Exception):
        password = make_url(storage.url).password
        if password:
            reason = reason.replace(str(password), "***")
    return ValueError(f"--storage {storage.shown}: {what}: {reason}")


@contextlib.contextmanager
def study_lock(storage: Storage) -> Iterator[None]:
    """Hold sb3-behave's lock on ``storage``: one worker at a time creates tables and studies, hands out
    trials under a budget and fails stale trials.

    PostgreSQL: a session advisory lock (released by the server if the worker dies). SQLite and
    journal files: a POSIX lock on ``<file>.sb3-behave.lock`` (``fcntl.lockf``, which NFS honours).

    :param storage: the storage
    """
    key = storage.url
    with _thread_locks.setdefault(key, threading.Lock()):  # POSIX locks do not exclude threads of one process
        if storage.kind == "postgresql":
            import sqlalchemy

            if key not in _engines:
                _engines[key] = sqlalchemy.create_engine(
                    storage.url, poolclass=sqlalchemy.pool.NullPool, connect_args=dict(PG_CONNECT_ARGS)
                )
            try:
                connection = _engines[key].connect()
            except sqlalchemy.exc.OperationalError as error:
                raise _connection_error(storage, error) from None
            with connection:
                connection.execute(sqlalchemy.text(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})"))
                try:
                    yield
                finally:
                    connection.execute(sqlalchemy.text(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})"))
                    connection.commit()
        else:
            path = storage.path
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(f"{path}.sb3-behave.lock", "a") as handle:
                fcntl.lockf(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.lockf(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- storages and studies


def _check_journal(storage: Storage) -> None:
    """Refuse a ``.log`` file that holds something other than Optuna's journal (it is never appended to).

    An empty file is a journal yet to be written. Otherwise its first line must be a journal record:
    a JSON object with an integer ``op_code``.
    """
    path = storage.path
    assert path is not None
    try:
        with open(path, "rb") as handle:
            first = handle.readline(1 << 20)
    except FileNotFoundError:
        return
    except OSError as error:
        raise ValueError(f"--storage {storage.text}: cannot read it: {error.strerror or error}") from None
    if not first:
        return
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and isinstance(record.get("op_code"), int)):
        raise ValueError(
            f"--storage {storage.text}: is not an Optuna journal file (its first line is not a journal record): "
            "give the path of a journal, or a new .log file"
        )


def _journal_storage(storage: Storage) -> Any:
    import optuna

    journal = optuna.storages.journal if hasattr(optuna.storages, "journal") else None
    backend = getattr(journal, "JournalFileBackend", None) or optuna.storages.JournalFileStorage  # optuna < 4
    try:
        return optuna.storages.JournalStorage(backend(storage.url))
    except ValueError as error:  # a line that is not JSON further on
        raise ValueError(f"--storage {storage.text}: is not a readable Optuna journal file: {error}") from None


def open_storage(storage: Storage | str, settings: WorkerSettings | None = None) -> Any:
    """The Optuna storage, its tables created under :func:`study_lock` (so workers may start together).

    :param storage: a :class:`Storage` or the text of ``--storage``
    :param settings: heartbeat and retries (default: :class:`WorkerSettings`'s)
    :return: an ``optuna.storages.RDBStorage`` with Optuna's heartbeat, or a ``JournalStorage``
    :raises ValueError: a database that cannot be opened, or a ``.log`` file that is not a journal
    """
    import optuna

    storage = parse_storage(storage) if isinstance(storage, str) else storage
    settings = settings or WorkerSettings()
    if storage.kind == "journal":
        _check_journal(storage)  # before the lock file is made beside it
        storage.path.parent.mkdir(parents=True, exist_ok=True)
        with study_lock(storage):
            _check_journal(storage)  # it may have been empty: now it is no more written to
            return _journal_storage(storage)
    import sqlalchemy

    retry = _retry_callback(settings.max_retry)
    parameters = inspect.signature(optuna.storages.RDBStorage).parameters
    callback = "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in parameters else "failed_trial_callback"
    if storage.kind == "sqlite":
        storage.path.parent.mkdir(parents=True, exist_ok=True)
    with study_lock(storage), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(
                storage.url,
                engine_kwargs=_engine_kwargs(storage),
                heartbeat_interval=settings.heartbeat_interval,
                grace_period=settings.grace_period,
                **{callback: retry},
            )
        except sqlalchemy.exc.DatabaseError as error:  # OperationalError, or a file that is not a database
            raise _connection_error(storage, error) from None


def _engine_kwargs(storage: Storage) -> dict[str, Any]:
    if storage.kind == "sqlite":
        return {"connect_args": {"timeout": 120}}  # writers wait for each other
    return {"pool_pre_ping": True, "connect_args": dict(PG_CONNECT_ARGS)}


def open_storage_to_read(storage: Storage | str) -> Any:
    """The Optuna storage opened to read only: no table, study, lock file or journal is created or written.

    :param storage: a :class:`Storage` or the text of ``--storage``; a file must exist
    :return: an ``RDBStorage`` (without heartbeat), a ``JournalStorage``, or None for a database
        without Optuna's tables (it holds no study)
    :raises ValueError: no such file, a database that cannot be opened, or a file that is not
        Optuna's (a ``.log`` file that is not a journal, a SQLite file without Optuna's tables)
    """
    import optuna
    import sqlalchemy

    storage = _existing(storage)
    if storage.kind == "journal":
        _check_journal(storage)
        return _journal_storage(storage)
    url = storage.url
    if storage.kind == "sqlite":  # read-only: SQLite itself refuses to write
        url = f"sqlite:///file:{storage.path}?mode=ro&uri=true"
    try:
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool, **_engine_kwargs(storage))
        try:
            tables = set(sqlalchemy.inspect(engine).get_table_names())
        finally:
            engine.dispose()
        if not _OPTUNA_TABLES <= tables:
            # Optuna is still creating them (alembic_version comes last): reading now would create
            # the missing ones too, racing the worker that creates them (PostgreSQL: a duplicate type).
            if storage.kind == "sqlite" and tables and "studies" not in tables:
                raise ValueError(f"--storage {storage.shown}: is not an Optuna storage (a SQLite file without its tables)")
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(storage), skip_table_creation=True)
    except sqlalchemy.exc.DatabaseError as error:
        raise _connection_error(storage, error) from None


#: The tables of a storage whose creation is finished (Optuna's RDBStorage makes alembic_version last).
_OPTUNA_TABLES = frozenset({"studies", "trials", "version_info", "alembic_version"})


def _retry_callback(max_retry: int) -> Any:
    """Optuna's callback that queues a copy of a trial failed for its stale heartbeat (named
    ``RetryHeartbeatStaleTrialCallback`` since Optuna 4.9, ``RetryFailedTrialCallback`` before)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback
        return retry(max_retry=max_retry)


# Optuna's ``_run_trial`` calls ``optuna.storages.fail_stale_trials(study)`` before each ``ask``, outside
# sb3-behave's lock: two workers could then both fail a stale trial's heartbeat and queue two retries.
# While a :class:`SharedStudy` optimizes, that call goes through the lock (other studies are left alone).
_optimizing: weakref.WeakKeyDictionary[Any, SharedStudy] = weakref.WeakKeyDictionary()
_optuna_fail_stale_trials: Callable[[Any], None] | None = None
_install_lock = threading.Lock()


def _fail_stale_trials_under_lock(study: Any) -> None:
    shared = _optimizing.get(study)
    if shared is None:
        assert _optuna_fail_stale_trials is not None
        _optuna_fail_stale_trials(study)
        return
    with study_lock(shared.storage):
        shared.fail_stale_trials()


def _route_fail_stale_trials_through_the_lock() -> None:
    global _optuna_fail_stale_trials
    import optuna

    with _install_lock:
        if _optuna_fail_stale_trials is None:
            _optuna_fail_stale_trials = optuna.storages.fail_stale_trials
            optuna.storages.fail_stale_trials = _fail_stale_trials_under_lock


class _BudgetSpent(Exception):
    """Raised by a worker's ``study.ask`` when no trial is left for it; ends its ``optimize``."""


class SharedStudy:
    """One worker's handle on a shared study: the study, its storage, the lock and the heartbeat.

    :param storage: the text of ``--storage`` (or a parsed :class:`Storage`)
    :param study_name: the study's name (every worker gives the same)
    :param settings: heartbeat, retries and this worker's seed
    :param direction: ``"maximize"`` or ``"minimize"``
    :param sampler: the Optuna sampler (default: Optuna's)
    :param pruner: the Optuna pruner (default: Optuna's)
    :param max_total_trials: hand out trials only while fewer are complete, pruned or running
    :param queued_only: hand out queued trials only (a benchmark's cells), never sample new ones
    :param watch: run a thread that fails stale trials every ``heartbeat_interval`` seconds
    """

    def __init__(
        self,
        storage: Storage | str,
        study_name: str,
        settings: WorkerSettings | None = None,
        direction: str = "maximize",
        sampler: Any = None,
        pruner: Any = None,
        max_total_trials: int | None = None,
        queued_only: bool = False,
        watch: bool = True,
    ) -> None:
        self.storage = parse_storage(storage) if isinstance(storage, str) else storage
        self.settings = settings or WorkerSettings()
        self.max_total_trials = max_total_trials
        self.queued_only = queued_only
        self.optuna_storage = open_storage(self.storage, self.settings)
        from optuna.study import create_study  # not optuna.create_study, which the zoo's train replaces

        with study_lock(self.storage):
            self.study = create_study(
                storage=self.optuna_storage,
                study_name=study_name,
                sampler=sampler,
                pruner=pruner,
                direction=direction,
                load_if_exists=True,
            )
            self.fail_stale_trials()
        self._ask = self.study.ask
        self._optimize = self.study.optimize
        self.study.optimize = self.optimize  # so the zoo's `study.optimize(...)` runs through this worker
        self._stop = threading.Event()
        if watch:
            threading.Thread(target=self._watch, name="sb3-behave-stale-trials", daemon=True).start()

    # -- who may run what

    def _why_no_trial(self) -> str | None:
        """Under the lock: None when this worker may take a trial, ``"running"`` when none is left but
        trials of other workers are running (one may yet fail and be queued again), else ``"spent"``."""
        from optuna.trial import TrialState

        # One read of the storage itself, then split by state. The study's cache of finished trials
        # (Optuna's _CachedStorage) may not have seen a trial another worker created a moment ago, and
        # one read per state would miss a trial that another worker completes between two reads (it
        # is told outside the lock): neither finished in the first nor running in the second.
        snapshot = self.optuna_storage.get_all_trials(self.study._study_id, deepcopy=False)

        def trials(*states: Any) -> list[Any]:
            return [t for t in snapshot if t.state in states]

        host, pid = socket.gethostname(), os.getpid()
        running = [  # other workers' (this one's own threads' trials will not go stale)
            t
            for t in trials(TrialState.RUNNING)
            if (t.user_attrs.get("host"), t.user_attrs.get("pid")) != (host, pid)
        ]
        if self.queued_only and not trials(TrialState.WAITING):
            return "running" if running else "spent"
        if self.max_total_trials is not None:
            finished = trials(TrialState.COMPLETE, TrialState.PRUNED)
            if len(finished) >= self.max_total_trials:
                return "spent"
            counted = len(finished) + len(trials(TrialState.RUNNING))
            if counted >= self.max_total_trials:  # full only with running trials: one may fail and free its place
                return "running" if running else "spent"
        return None

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        """``study.ask`` under the lock, after failing stale trials.

        When no trial is left but other workers' trials are running (the budget of ``max_total_trials``
        is full only because of them, or, with ``queued_only``, none is waiting), this worker waits,
        failing stale trials every ``heartbeat_interval`` seconds, for up to ``grace_period +
        heartbeat_interval`` seconds: a killed worker's trial goes stale in that time, and its retry is
        taken by this worker.

        :param args: handed to Optuna's ``study.ask`` (the ``fixed_distributions``)
        :param kwargs: handed to Optuna's ``study.ask``
        :return: the trial, its worker recorded (and, on a journal file, its first heartbeat)
        :raises _BudgetSpent: no trial is left for this worker (``optimize`` ends quietly)
        """
        trial = self._next(True, args, kwargs)
        if trial is None:
            raise _BudgetSpent
        self.record_worker(trial)
        return trial

    def wait_for_a_free_place(self) -> bool:
        """Wait as :meth:`ask` does while no trial is free only because other workers' trials run,
        without taking one. :return: whether a trial is free now"""
        return self._next(False, (), {}) is not None

    def _next(self, take: bool, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        deadline = None
        while True:
            with study_lock(self.storage):
                self.fail_stale_trials()
                why = self._why_no_trial()
                if why is None:
                    if not take:
                        return True
                    trial = self._ask(*args, **kwargs)
                    if self.storage.kind == "journal":  # a retry carries its dead worker's old heartbeat: renew it
                        self.optuna_storage.set_trial_system_attr(trial._trial_id, _JOURNAL_HEARTBEAT, time.time())
                    else:  # Optuna never fails a trial without a heartbeat: one before its heartbeat thread starts
                        self.optuna_storage.record_heartbeat(trial._trial_id)
                    return trial
            now = time.monotonic()
            if why == "spent" or (deadline is not None and now >= deadline):
                return None
            if deadline is None:
                deadline = now + self.settings.grace_period + self.settings.heartbeat_interval
                print(
                    f"worker {socket.gethostname()}:{os.getpid()}: no trial free while others run: waiting up to "
                    f"{self.settings.grace_period + self.settings.heartbeat_interval} s for one of them to fail",
                    flush=True,
                )
            time.sleep(max(0.0, min(self.settings.heartbeat_interval, deadline - now)))

    def optimize(self, func: Callable[[Any], Any], *args: Any, **kwargs: Any) -> None:
        """``study.optimize`` that asks for trials through :meth:`ask`, with this worker's heartbeat
        (journal files), and ends when no trial is left.

        Optuna's own check for stale trials before each trial runs under :func:`study_lock` meanwhile.
        The study is plain again afterwards (the zoo pickles it).

        :param func: the objective (a trial -> its value)
        :param args: handed to Optuna's ``study.optimize`` (``n_trials``, ``timeout``, ...)
        :param kwargs: handed to Optuna's ``study.optimize`` (``n_trials``, ``catch``, ``callbacks``, ...)
        """
        _route_fail_stale_trials_through_the_lock()
        if self.max_total_trials is not None and kwargs.get("callbacks"):
            # The zoo stops a worker with Optuna's MaxTrialsCallback once complete, pruned and running
            # trials reach the budget, though a running one may be a dead worker's: :meth:`ask` keeps the
            # budget instead, and waits for such a trial to fail and be queued again.
            from optuna.study import MaxTrialsCallback

            kwargs["callbacks"] = [c for c in kwargs["callbacks"] if not isinstance(c, MaxTrialsCallback)]
        self.study.ask = self.ask
        _optimizing[self.study] = self
        try:
            self._optimize(self._with_heartbeat(func), *args, **kwargs)
        except _BudgetSpent:
            print(f"worker {socket.gethostname()}:{os.getpid()}: no trial left for it in the study", flush=True)
        finally:
            _optimizing.pop(self.study, None)
            vars(self.study).pop("ask", None)
            vars(self.study).pop("optimize", None)

    def record_worker(self, trial: Any) -> None:
        """Record ``host``, ``pid`` and ``seed`` of this worker on ``trial`` (user attributes)."""
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        if self.settings.seed is not None:
            trial.set_user_attr("seed", int(self.settings.seed))

    # -- heartbeats

    def _with_heartbeat(self, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if self.storage.kind != "journal":
            return func  # Optuna's own heartbeat (RDBStorage) runs around each trial

        def with_heartbeat(trial: Any) -> Any:
            done = threading.Event()

            def beat() -> None:
                while not done.is_set():
                    with contextlib.suppress(Exception):
                        self.optuna_storage.set_trial_system_attr(trial._trial_id, _JOURNAL_HEARTBEAT, time.time())
                    done.wait(self.settings.heartbeat_interval)

            thread = threading.Thread(target=beat, name="sb3-behave-heartbeat", daemon=True)
            thread.start()
            try:
                return func(trial)
            finally:
                done.set()
                thread.join()

        return with_heartbeat

    def fail_stale_trials(self) -> list[int]:
        """Fail the running trials whose heartbeat is older than the grace period and queue their retries.

        Call it under :func:`study_lock`. :return: the numbers of the trials failed
        """
        import optuna
        from optuna.trial import TrialState

        before = {t.number for t in self.study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        if self.storage.kind != "journal":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                (_optuna_fail_stale_trials or optuna.storages.fail_stale_trials)(self.study)
        else:
            now = time.time()
            retry = _retry_callback(self.settings.max_retry)
            for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                # A retry starts with a copy of its failed trial's system attributes, the dead worker's
                # last heartbeat among them: its own start counts as a heartbeat too.
                start = trial.datetime_start.timestamp() if trial.datetime_start else now
                last = max(start, float(trial.system_attrs.get(_JOURNAL_HEARTBEAT, start)))
                if now - last <= self.settings.grace_period:
                    continue
                try:
                    failed = self.optuna_storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
                except optuna.exceptions.UpdateFinishedTrialError:
                    failed = False
                if failed:
                    retry(self.study, self.optuna_storage.get_trial(trial._trial_id))
        after = [t.number for t in self.study.get_trials(deepcopy=False, states=(TrialState.FAIL,))]
        failed_now = sorted(set(after) - before)
        for number in failed_now:
            print(f"trial {number}: its worker stopped sending heartbeats: marked failed, queued again", flush=True)
        return failed_now

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval):
            with contextlib.suppress(Exception), study_lock(self.storage):
                self.fail_stale_trials()

    def close(self) -> None:
        """Stop the thread that fails stale trials."""
        self._stop.set()

    def __getstate__(self) -> dict[str, Any]:
        # The study may be pickled (the zoo writes its report with pickle) while ``study.optimize`` is ours.
        return {key: value for key, value in vars(self).items() if key != "_stop"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._stop = threading.Event()


def worker_seed(seed: int, host: str | None = None, pid: int | None = None) -> int:
    """A seed of this worker's own, derived from ``seed``, the host name and the process id.

    Workers given the same ``--seed`` then sample different trials; the same worker
    (host, pid) with the same seed gets the same seed back.

    :param seed: the seed the user gave
    :param host: the host name (default: this machine's)
    :param pid: the process id (default: this process's)
    """
    text = f"{seed}:{host or socket.gethostname()}:{os.getpid() if pid is None else pid}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


# ---------------------------------------------------------------- status


def _existing(storage: Storage | str) -> Storage:
    """``storage`` parsed; a file storage must exist (reading a study never creates one)."""
    storage = parse_storage(storage) if isinstance(storage, str) else storage
    if storage.path is not None and not storage.path.is_file():
        raise ValueError(f"--storage {storage.text}: no such file (the first worker of a study creates it)")
    return storage


def load_study(storage: Storage | str, study_name: str) -> Any:
    """The study ``study_name`` in ``storage``, opened to read: nothing is created or written
    (no table, no lock file, no heartbeat).

    :param storage: a :class:`Storage` or the text of ``--storage``; a file storage must exist
    :param study_name: the study's name
    :return: the ``optuna.Study``
    :raises ValueError: no such study (the message lists the studies there), no such file, or a
        storage that cannot be read (see :func:`open_storage_to_read`)
    """
    import optuna

    storage = _existing(storage)
    optuna_storage = open_storage_to_read(storage)
    if optuna_storage is not None:
        try:
            return optuna.load_study(study_name=study_name, storage=optuna_storage)
        except KeyError:
            pass
    names = [s.study_name for s in _summaries(optuna_storage, include_best_trial=False)]
    raise ValueError(
        f"--study-name {study_name!r}: no such study in {storage.shown} (its studies: {', '.join(names) or 'none'})"
    )


def _summaries(optuna_storage: Any, include_best_trial: bool) -> list[Any]:
    import optuna

    if optuna_storage is None:  # a database without Optuna's tables
        return []
    return list(optuna.get_all_study_summaries(optuna_storage, include_best_trial=include_best_trial))


def list_studies(storage: Storage | str) -> str:
    """The studies in ``storage``, one line each with its trial count and best value (read only,
    as :func:`load_study`).

    :param storage: a :class:`Storage` or the text of ``--storage``; a file storage must exist
    :return: the text to print
    :raises ValueError: a file storage that does not exist, or a storage that cannot be read
    """
    storage = _existing(storage)
    summaries = _summaries(open_storage_to_read(storage), include_best_trial=True)
    if not summaries:
        return f"no study in {storage.shown} yet"
    lines = [f"{len(summaries)} stud{'y' if len(summaries) == 1 else 'ies'} in {storage.shown}:"]
    for summary in summaries:
        best = f", best value {summary.best_trial.value:.4g}" if summary.best_trial is not None else ""
        lines.append(f"  {summary.study_name}: {summary.n_trials} trial(s){best}")
    return "\n".join(lines)


def study_status(study: Any, limit: int | None = None) -> str:
    """A study's progress as text: done, running, failed and pending trials, then one line per trial.

    :param study: an Optuna study
    :param limit: show only the last ``limit`` trials (None: all)
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state == state for t in trials) for state in TrialState}
    lines = [
        f"study {study.study_name}: {len(trials)} trial(s): {counts[TrialState.COMPLETE]} done, "
        f"{counts[TrialState.PRUNED]} pruned, {counts[TrialState.RUNNING]} running, {counts[TrialState.FAIL]} failed, "
        f"{counts[TrialState.WAITING]} pending"
    ]
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if complete:
        best = study.best_trial
        lines.append(f"best: trial {best.number}, value {best.value:.4g}")
    now = time.time()
    shown = trials if limit is None else trials[-limit:]
    if shown:
        lines.append("")
        lines.append(f"{'trial':>5}  {'state':<8}  {'value':>10}  {'seconds':>8}  worker (host:pid, seed)  what")
    for t in shown:
        value = f"{t.value:.4g}" if t.value is not None else "-"
        if t.datetime_start is None:
            seconds = "-"
        else:
            end = t.datetime_complete.timestamp() if t.datetime_complete else now
            seconds = f"{end - t.datetime_start.timestamp():.0f}"
        attrs = t.user_attrs
        worker = f"{attrs['host']}:{attrs['pid']}" if "host" in attrs else "-"
        if "seed" in attrs:
            worker += f", seed {attrs['seed']}"
        what = ", ".join(f"{k}={v}" for k, v in attrs.get("cell", {}).items()) or ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items()
        )
        if "failed_trial" in t.system_attrs:
            what = f"retry of trial {t.system_attrs['failed_trial']}; {what}"
        lines.append(f"{t.number:>5}  {t.state.name:<8}  {value:>10}  {seconds:>8}  {worker}  {what}")
    return "\n".join(lines)


# ---------------------------------------------------------------- multi-seed benchmarks


def queue_cells(shared: SharedStudy, cells: Sequence[Mapping[str, Any]]) -> int:
    """Queue the benchmark cells that the study does not hold yet (safe when workers do it at once).

    A cell is waiting, running, complete or pruned in the study: left alone. A cell whose every
    trial failed (its retries spent) is queued again, so a rerun resumes it.

    :param shared: the shared study
    :param cells: e.g. ``[{"algo": "bc", "env": "CartPole-v1", "seed": 0}, ...]``
    :return: how many were queued
    """
    from optuna.trial import TrialState

    queued = 0
    with study_lock(shared.storage):
        held = {
            _cell_key(t.user_attrs["cell"])
            for t in shared.study.get_trials(deepcopy=False)
            if "cell" in t.user_attrs and t.state != TrialState.FAIL
        }
        for cell in cells:
            if _cell_key(cell) not in held:
                shared.study.enqueue_trial({}, user_attrs={"cell": dict(cell)})
                held.add(_cell_key(cell))
                queued += 1
    return queued


def _cell_key(cell: Mapping[str, Any]) -> tuple:
    return tuple(sorted((str(k), str(v)) for k, v in cell.items()))


def run_cells(shared: SharedStudy, run_cell: Callable[[dict[str, Any]], float]) -> int:
    """Run queued cells until none is waiting; each cell's value is ``run_cell(cell)``.

    While other workers' cells run and none is waiting, the worker waits up to ``grace_period +
    heartbeat_interval`` seconds (:meth:`SharedStudy.ask`): a killed worker's cell is then failed,
    queued again and run by this one.

    :param shared: a :class:`SharedStudy` made with ``queued_only=True``
    :param run_cell: runs one cell and returns its value (a failure marks the trial failed)
    :return: how many cells this worker ran
    """
    ran = 0

    def objective(trial: Any) -> float:
        nonlocal ran
        cell = dict(trial.user_attrs["cell"])
        print(f"trial {trial.number}: {cell}", flush=True)
        start = time.time()
        value = float(run_cell(cell))
        trial.set_user_attr("seconds", round(time.time() - start, 1))
        ran += 1
        return value

    from optuna.trial import TrialState

    while True:
        shared.optimize(objective, catch=(Exception,))
        with study_lock(shared.storage):
            shared.fail_stale_trials()
            if not shared.study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                return ran


def cell_results(study: Any) -> list[dict[str, Any]]:
    """The complete cells of a benchmark study.

    :param study: the Optuna study of a benchmark (its trials' user attribute ``cell``)
    :return: one dict per complete cell: the cell's keys plus ``value``, ``seconds`` (of its trial)
        and ``host`` (of its worker)
    """
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if "cell" in t.user_attrs:
            rows.append({**t.user_attrs["cell"], "value": t.value, **{k: t.user_attrs.get(k) for k in ("seconds", "host")}})
    return rows


def cell_progress(study: Any, where: Callable[[Mapping[str, Any]], bool] = lambda cell: True) -> dict[str, int]:
    """How many cells of a benchmark study are done, running, pending, and failed for good.

    A cell counts once, by its most advanced trial: complete (or pruned) is ``done``; else running;
    else waiting (``pending``, a retry included); else ``failed`` (every trial failed, retries spent).

    :param study: the Optuna study of a benchmark
    :param where: count only the cells it accepts (e.g. one env's)
    :return: ``{"done": ..., "running": ..., "pending": ..., "failed": ...}``
    """
    from optuna.trial import TrialState

    rank = {TrialState.COMPLETE: 3, TrialState.PRUNED: 3, TrialState.RUNNING: 2, TrialState.WAITING: 1, TrialState.FAIL: 0}
    best: dict[tuple, int] = {}
    for t in study.get_trials(deepcopy=False):
        if "cell" in t.user_attrs and where(t.user_attrs["cell"]):
            key = _cell_key(t.user_attrs["cell"])
            best[key] = max(best.get(key, 0), rank[t.state])
    names = {3: "done", 2: "running", 1: "pending", 0: "failed"}
    counts = dict.fromkeys(names.values(), 0)
    for value in best.values():
        counts[names[value]] += 1
    return counts


__all__ = [
    "HEARTBEAT_GRACE",
    "HEARTBEAT_INTERVAL",
    "MAX_RETRY",
    "SharedStudy",
    "Storage",
    "WorkerSettings",
    "cell_progress",
    "cell_results",
    "list_studies",
    "load_study",
    "open_storage",
    "open_storage_to_read",
    "parse_storage",
    "queue_cells",
    "run_cells",
    "study_lock",
    "study_status",
    "worker_seed",
]
