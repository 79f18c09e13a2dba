"""Many workers, one Optuna study: race-free start, heartbeats, retries, budgets and provenance.

Workers on any number of machines share one study in a storage given as text (``--storage``, see
:mod:`sb3_behave.zoo.storage`).

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

A multi-seed benchmark is a study whose trials are queued cells: see :mod:`sb3_behave.zoo.cells`.
Reading a study without joining it: :mod:`sb3_behave.zoo.study_report`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import time
import warnings
import weakref
from typing import Any, Callable, Mapping, Sequence

from sb3_behave.zoo.storage import Storage, WorkerSettings, open_storage, parse_storage, retry_callback, study_lock

#: The states a trial budget counts (as the RL Zoo's ``--max-total-trials``).
COUNTED_STATES = ("COMPLETE", "PRUNED", "RUNNING")
_JOURNAL_HEARTBEAT = "sb3_behave:heartbeat"


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
            t for t in trials(TrialState.RUNNING) if (t.user_attrs.get("host"), t.user_attrs.get("pid")) != (host, pid)
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
        :raises Exception: ``_BudgetSpent`` when no trial is left for this worker (``optimize`` ends quietly)
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
            retry = retry_callback(self.settings.max_retry)
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


__all__ = ["COUNTED_STATES", "SharedStudy", "worker_seed"]
