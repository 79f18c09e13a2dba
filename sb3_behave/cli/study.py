"""``sb3-behave study status``: the progress of a study that workers share (``train -optimize --storage``,
``benchmarks/imitation_zoo.py --storage``): what is done, running, failed and pending."""

from __future__ import annotations

import argparse
import time

from sb3_behave.cli.common import COUNT, POSITIVE


def add_parser(commands: argparse._SubParsersAction) -> None:
    study = commands.add_parser(
        "study",
        help="progress of an Optuna study shared by workers (train -optimize --storage)",
        description=(
            "The trials of an Optuna study that workers share: how many are done, running, failed and pending, "
            "then one line per trial (its state, value, duration, worker and parameters)."
        ),
    )
    studies = study.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    status = studies.add_parser(
        "status",
        help="done, running, failed and pending trials of a study",
        description="Print a study's progress; without --study-name, list the studies in the storage.",
    )
    status.add_argument(
        "--storage",
        required=True,
        help="postgresql://USER:PASSWORD@HOST:PORT/DATABASE, sqlite:///PATH or a journal file PATH.log",
    )
    status.add_argument("--study-name", default=None, help="the study (default: list the studies)")
    status.add_argument("--last", type=COUNT, default=None, help="show only the last N trials")
    status.add_argument("--every", type=POSITIVE, default=None, help="print again every SECONDS until Ctrl-C")
    status.set_defaults(func=run_status)


def run_status(args: argparse.Namespace) -> int:
    from sb3_behave.zoo.storage import parse_storage
    from sb3_behave.zoo.study_report import list_studies, load_study, study_status

    storage = parse_storage(args.storage)
    while True:
        if args.study_name is None:
            print(list_studies(storage))
        else:
            print(study_status(load_study(storage, args.study_name), limit=args.last), flush=True)
        if args.every is None:
            return 0
        try:
            time.sleep(args.every)
        except KeyboardInterrupt:
            return 0
        print()
