"""Optuna storages that many workers share: ``--storage`` parsed, opened with its tables made under a lock.

A storage is given as text:

- ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE``: PostgreSQL through psycopg 3
  (``pip install 'sb3-behave[postgres]'``); ``postgresql+psycopg://`` is the same;
- ``sqlite:///PATH``: one SQLite file (several processes on one machine);
- ``PATH.log``: Optuna's journal file (several processes on one machine or a shared filesystem).

:func:`study_lock` is sb3-behave's lock on a storage (a PostgreSQL advisory lock, or a lock file
beside a file storage): tables and studies are created under it, so workers started at the same
moment on an empty database never collide. :func:`open_storage` opens a storage to work in (with
Optuna's heartbeat and retries, :class:`WorkerSettings`), :func:`open_storage_to_read` to read only.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import inspect
import json
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

#: Defaults of the heartbeat: a killed worker's trial is failed (and queued again) within
#: ``grace + interval`` seconds (80 s) by any live worker, and at the latest when the next worker starts.
HEARTBEAT_INTERVAL = 20
#: Seconds without a heartbeat after which a running trial counts as dead (see :data:`HEARTBEAT_INTERVAL`).
HEARTBEAT_GRACE = 60
#: How many times a trial whose worker died is run again.
MAX_RETRY = 3
#: The forms ``--storage`` takes, as error messages name them.
STORAGE_FORMS = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, sqlite:///PATH or a journal file PATH ending in .log"
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
        return hide_password(self.text) if self.kind == "postgresql" else self.text

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
        _check_password_characters(text, rest)
        return Storage(text, "postgresql", f"postgresql+psycopg://{rest}")
    if scheme == "sqlite" and sep:
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:":
            raise ValueError(
                f"--storage {hide_password(text)!r}: expected sqlite:///PATH (a file that every worker opens), got no file"
            )
        return Storage(text, "sqlite", f"sqlite:///{os.path.abspath(path)}")
    raise ValueError(f"--storage {hide_password(text)!r}: expected {STORAGE_FORMS}")


def _check_password_characters(text: str, rest: str) -> None:
    """Refuse a password with characters a URL must percent-encode (drivers would split the URL inside it), and a bad port.

    ``user:se@cret@host`` would reach the server as host ``cret@host``, and the error would show
    that part of the password. The message never shows the password.
    """
    userinfo, at, location = rest.rpartition("@")  # the user's part ends at the last @
    _, colon, password = userinfo.partition(":")
    raw = sorted({c for c in password if c in "@/#?[] "}) if at and colon else []
    if raw:
        encoded = ", ".join(f"{c!r} as %{ord(c):02X}" for c in raw)
        raise ValueError(
            f"--storage {hide_password(text)!r}: the password holds characters a URL must percent-encode: write "
            f"{encoded} (python -c \"import urllib.parse; print(urllib.parse.quote(input(), safe=''))\")"
        )
    host = location.split("/", 1)[0].split("?", 1)[0]
    port = host.rpartition(":")[2] if ":" in host and not host.endswith("]") else ""
    if port and not port.isdigit():
        raise ValueError(
            f"--storage {hide_password(text)!r}: the port {port!r} is not a number (HOST:PORT, e.g. localhost:5432)"
        )


# ---------------------------------------------------------------- the study lock


_thread_locks: dict[str, threading.Lock] = {}
_engines: dict[str, Any] = {}


def _connection_error(storage: Storage, error: BaseException, what: str = "cannot open the database") -> ValueError:
    reason = hide_password(str(getattr(error, "orig", None) or error).strip().splitlines()[0])
    if storage.kind == "postgresql":  # the password as given and as decoded, wherever a driver may have quoted it
        from urllib.parse import unquote

        userinfo = storage.text.partition("://")[2].rpartition("@")[0]
        password = userinfo.partition(":")[2]
        for form in {password, unquote(password)} - {""}:  # as a whole word: a password "p" leaves "port" alone
            reason = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", "***", reason)
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


def check_storage_file(storage: Storage) -> None:
    """Refuse, before any work, a journal or SQLite file that holds something else (a PostgreSQL URL is left alone).

    :param storage: the parsed ``--storage``
    :raises ValueError: naming the file and what it should be
    """
    if storage.kind == "journal":
        _check_journal(storage)
    elif storage.kind == "sqlite" and storage.path is not None and storage.path.is_file():
        with open(storage.path, "rb") as handle:
            head = handle.read(16)
        if head and head != b"SQLite format 3\x00":
            raise ValueError(f"--storage {storage.text}: is not an SQLite database: give a database file, or a new path")


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

    retry = retry_callback(settings.max_retry)
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

    storage = existing_storage(storage)
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


def retry_callback(max_retry: int) -> Any:
    """Optuna's callback that queues a copy of a trial failed for its stale heartbeat (named
    ``RetryHeartbeatStaleTrialCallback`` since Optuna 4.9, ``RetryFailedTrialCallback`` before)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback
        return retry(max_retry=max_retry)


def existing_storage(storage: Storage | str) -> Storage:
    """``storage`` parsed; a file storage must exist (reading a study never creates one)."""
    storage = parse_storage(storage) if isinstance(storage, str) else storage
    if storage.path is not None and not storage.path.is_file():
        raise ValueError(f"--storage {storage.text}: no such file (the first worker of a study creates it)")
    return storage


__all__ = [
    "HEARTBEAT_GRACE",
    "HEARTBEAT_INTERVAL",
    "MAX_RETRY",
    "PG_CONNECT_ARGS",
    "STORAGE_FORMS",
    "Storage",
    "WorkerSettings",
    "hide_password",
    "open_storage",
    "open_storage_to_read",
    "parse_storage",
    "study_lock",
]
