"""Reading shared studies without joining them: a study, the studies of a storage, a study's progress.

Nothing here creates or writes anything in the storage (no table, lock file or heartbeat):
``sb3-behave study`` and ``benchmarks/imitation_zoo.py --table-only`` use it while workers run.
"""

from __future__ import annotations

import time
from typing import Any

from sb3_behave.zoo.storage import Storage, existing_storage, open_storage_to_read


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

    storage = existing_storage(storage)
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
    storage = existing_storage(storage)
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


__all__ = ["list_studies", "load_study", "study_status"]
