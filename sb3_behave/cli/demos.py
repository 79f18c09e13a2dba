"""``sb3-behave demos info|export``: what demonstrations hold, and writing them in imitation's or Minari's format."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sb3_behave.cli.common import print_stats


def add_parser(commands: argparse._SubParsersAction) -> None:
    demos = commands.add_parser("demos", help="inspect demonstrations, export them to imitation's format or Minari")
    actions = demos.add_subparsers(dest="demos_command", metavar="ACTION", required=True)
    info = actions.add_parser(
        "info",
        help="what demonstration folders or datasets hold",
        description=(
            "Episodes, transitions, scores, returns, envs, players and skills of demonstrations, and the DART noise "
            "of episodes recorded with it."
        ),
    )
    info.add_argument(
        "paths", nargs="+", type=Path, help="demo folders, episode files, imitation datasets, Minari datasets or ids"
    )
    info.add_argument("--env", default=None, help="also check the demonstrations against this env id")
    info.set_defaults(func=run_info)
    export = actions.add_parser(
        "export",
        help="write demonstrations in imitation's format or as a Minari dataset",
        description=(
            "Load and check demonstrations, then write them with imitation.data.serialize.save (--format imitation, "
            "--out a new folder), or as a new Minari dataset in the local Minari root ($MINARI_DATASETS_PATH, "
            "default ~/.minari/datasets) with terminations, truncations and each episode's metadata kept "
            "(--format minari, --out a dataset id such as sb3_behave/flappy-strong-v0; pip install 'sb3-behave[minari]')."
        ),
    )
    export.add_argument("paths", nargs="+", type=Path, help="demo folders, episode files or datasets")
    export.add_argument(
        "--format", choices=("imitation", "minari"), default="imitation", help="what to write (default: %(default)s)"
    )
    export.add_argument("--out", required=True, help="imitation: a new folder; minari: a new dataset id")
    export.add_argument("--env", default=None, help="also check the demonstrations against this env id")
    export.set_defaults(func=run_export)


def run_info(args: argparse.Namespace) -> int:
    from sb3_behave.demos import load_episodes, summarize

    summary = summarize(load_episodes(args.paths, env=args.env))
    print(f"episodes     {summary['episodes']} ({summary['terminated']} ended by a termination)")
    print(f"transitions  {summary['transitions']}")
    print_stats(summary)
    for key in ("envs", "players", "skills"):
        counts = ", ".join(f"{name} ({n})" for name, n in summary[key].items())
        print(f"  {key:<12} {counts}")
    print_dart(summary)
    return 0


def print_dart(summary: dict[str, Any]) -> None:
    """The DART line of a demonstration summary: its sigmas and the share of steps perturbed (nothing without DART)."""
    dart = summary.get("dart")
    if not dart:
        return
    sigmas = ", ".join(f"{sigma:g}" for sigma in dart["sigmas"])
    some = "" if dart["episodes"] == summary["episodes"] else f" (in {dart['episodes']} of {summary['episodes']} episodes)"
    print(f"  DART noise   sigma {sigmas}, {100 * dart['perturbed_fraction']:.1f}% of steps perturbed{some}")


def run_export(args: argparse.Namespace) -> int:
    from sb3_behave.demos import load_episodes, save_demonstrations
    from sb3_behave.demos.minari_datasets import check_dataset_id, export_minari

    if args.format == "minari":
        check_dataset_id(args.out)  # before reading anything
    episodes = load_episodes(args.paths, env=args.env)
    if args.format == "minari":
        folder = export_minari(episodes, args.out, env=args.env)
        print(f"{len(episodes)} episodes written as the Minari dataset {args.out} in {folder}")
        print(f"  load it with minari.load_dataset({args.out!r}), or pass {args.out} wherever demonstrations are read")
        return 0
    save_demonstrations([e.trajectory for e in episodes], args.out)
    print(f"{len(episodes)} trajectories written in imitation's format to {args.out}")
    return 0
