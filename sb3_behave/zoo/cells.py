"""Multi-seed benchmarks as shared studies: each cell (``{"algo": ..., "env": ..., "seed": ...}``) is a
queued trial of a :class:`~sb3_behave.zoo.study.SharedStudy` (its user attribute ``cell``), run once
by whichever worker takes it, and run again by another if its worker dies.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from sb3_behave.zoo.storage import study_lock
from sb3_behave.zoo.study import SharedStudy


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


__all__ = ["cell_progress", "cell_results", "queue_cells", "run_cells"]
