"""``sb3-behave train -optimize --storage``: workers on many machines sharing one Optuna study of the zoo's search.

:func:`shared_study` takes sb3-behave's own options (:data:`SHARED_STUDY_OPTIONS`) out of the
command line, gives this worker its own seed, and returns the context in which the zoo's
``ExperimentManager`` searches in a :class:`~sb3_behave.zoo.study.SharedStudy`.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager, Iterator, Sequence

from sb3_behave.zoo.argv import option, with_option

#: sb3-behave's own options of ``train -optimize --storage`` (taken out before the zoo reads the rest):
#: name -> (takes a value, help).
SHARED_STUDY_OPTIONS = {
    "--heartbeat-interval": (True, "seconds between the heartbeats of a running trial (default: 20)"),
    "--heartbeat-grace": (
        True,
        "seconds without a heartbeat after which a trial counts as its worker's death: it is marked failed "
        "and queued again (default: 60)",
    ),
    "--max-retry": (True, "how many times a trial whose worker died is run again (default: 3)"),
    "--force-seed": (False, "every worker uses --seed as given (by default each derives its own from it)"),
}


def take_shared_study_options(argv: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """``argv`` without :data:`SHARED_STUDY_OPTIONS`, and their values (checked)."""
    rest: list[str] = []
    values: dict[str, Any] = {}
    args = list(argv)
    i = 0
    while i < len(args):
        name, sep, value = args[i].partition("=")
        if name not in SHARED_STUDY_OPTIONS:
            rest.append(args[i])
            i += 1
            continue
        takes_value = SHARED_STUDY_OPTIONS[name][0]
        if not takes_value:
            if sep:
                raise ValueError(f"{name}: takes no value, got {args[i]!r}")
            values[name] = True
            i += 1
            continue
        if not sep:
            if i + 1 >= len(args):
                raise ValueError(f"{name}: expected a whole number >= 0 after it, got nothing")
            value = args[i + 1]
            i += 1
        i += 1
        try:
            number = int(value)
        except ValueError:
            number = -1
        if number < (0 if name == "--max-retry" else 1):
            raise ValueError(f"{name}: expected a whole number >= {0 if name == '--max-retry' else 1}, got {value!r}")
        values[name] = number
    return rest, values


def shared_study(argv: list[str]) -> tuple[list[str], ContextManager[Any]]:
    """For ``-optimize --storage``: the zoo's arguments (this worker's seed in ``--seed``) and a context in
    which the zoo's hyperparameter search runs through :class:`sb3_behave.zoo.study.SharedStudy`."""
    from sb3_behave.zoo.storage import WorkerSettings, check_storage_file, parse_storage
    from sb3_behave.zoo.study import worker_seed

    argv, values = take_shared_study_options(argv)
    optimize = "-optimize" in argv or "--optimize-hyperparameters" in argv
    text = option(argv, "--storage")
    if not (optimize and text is not None):
        if values:
            raise ValueError(f"{', '.join(values)}: only with -optimize --storage (workers sharing an Optuna study)")
        return argv, nullcontext()
    storage = parse_storage(text)
    check_storage_file(storage)  # before the zoo starts: a file that is no storage, in one line
    if option(argv, "--study-name") is None:
        raise ValueError(f"--storage {storage.shown}: give --study-name NAME too: the workers share the study of that name")
    settings = WorkerSettings(
        heartbeat_interval=values.get("--heartbeat-interval", WorkerSettings.heartbeat_interval),
        grace_period=values.get("--heartbeat-grace", WorkerSettings.grace_period),
        max_retry=values.get("--max-retry", WorkerSettings.max_retry),
    )
    seed = option(argv, "--seed")
    if seed is not None and not values.get("--force-seed") and seed.lstrip("-").isdigit() and int(seed) >= 0:
        own = worker_seed(int(seed))
        print(f"worker seed {own} (from --seed {seed}, this host and process; --force-seed uses {seed} as given)", flush=True)
        argv = with_option(argv, ("--seed",), str(own))
    return argv, searching_in(storage, settings)


@contextmanager
def searching_in(storage: Any, settings: Any) -> Iterator[None]:
    """While the zoo's train runs, its ExperimentManager searches in a :class:`~sb3_behave.zoo.study.SharedStudy`."""
    import dataclasses

    import optuna
    import rl_zoo3.train
    from rl_zoo3.exp_manager import ExperimentManager

    from sb3_behave.zoo.study import SharedStudy

    class SharedStudyExperimentManager(ExperimentManager):
        def hyperparameters_optimization(self) -> None:
            create_study = optuna.create_study
            worker = dataclasses.replace(settings, seed=self.seed)
            opened: list[SharedStudy] = []

            def shared_study(
                *, study_name: str, sampler: Any = None, pruner: Any = None, direction: Any = None, **_: Any
            ) -> Any:
                direction = direction or "maximize"
                budget = self.max_total_trials
                shared = SharedStudy(storage, study_name, worker, direction, sampler, pruner, max_total_trials=budget)
                opened.append(shared)
                if budget is not None:  # the zoo runs nothing when the budget is full, dead workers' trials counted
                    shared.wait_for_a_free_place()
                print(f"worker {shared.study.study_name!r} in {storage.shown}: seed {self.seed}", flush=True)
                return shared.study

            optuna.create_study = shared_study
            try:
                super().hyperparameters_optimization()
            except ValueError as error:  # the zoo reports the best trial: there may be none yet
                if not opened or opened[-1].study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
                    raise
                print(f"no trial of study {opened[-1].study.study_name!r} is complete yet ({error}): nothing to report")
            finally:
                optuna.create_study = create_study
                for shared in opened:
                    shared.close()

    original = rl_zoo3.train.ExperimentManager
    rl_zoo3.train.ExperimentManager = SharedStudyExperimentManager
    try:
        yield
    finally:
        rl_zoo3.train.ExperimentManager = original
