"""One warm-start run of ``warm_start_robustness.py`` with other arguments of ``BCWarmStartCallback``: what breaks it?

    python benchmarks/warm_start_probe.py base 0 --budget 100000 actor_ramp_steps=0
    python benchmarks/warm_start_probe.py base 0 --budget 100000 --config dapg bc_term_weight=0.0

SETTING is one of ``warm_start_robustness.SETTINGS``; each ``KEY=VALUE`` (a Python literal) is
added to the callback's arguments of the ``--config`` of ``bc_warm_start.CONFIGS`` (``warm``, the
callback's defaults, unless told; the probes in ``results/warm_start_robustness/probes/`` ran on
the defaults of 0.1.0, ``--config dapg``). The run is the robustness study's (same
demonstrations, PPO, evaluation of 32 games) and goes to
``--out/<setting>/<keys and values>/<config>_seed<k>.json``; the lowest evaluation return over the
first 20,000 env steps and over the whole run, as fractions of the warm-started return, are printed.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import torch as th
from bc_warm_start import lowest_after_start
from warm_start_robustness import CONFIGS, SETTINGS, folder_name, run_in_setting, setting_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("setting", choices=list(SETTINGS), metavar="SETTING")
    parser.add_argument("seed", type=int)
    parser.add_argument("kwargs", nargs="*", metavar="KEY=VALUE", help="more arguments of BCWarmStartCallback")
    parser.add_argument("--config", choices=CONFIGS, default="warm", help="the arguments KEY=VALUE are added to")
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_warm_start_probes"))
    args = parser.parse_intermixed_args()
    extra = {}
    for item in args.kwargs:
        key, sep, value = item.partition("=")
        try:
            extra[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parser.error(f"{item!r}: expected KEY=VALUE with VALUE a Python literal (a string in quotes)")
        if not sep:
            parser.error(f"{item!r}: expected KEY=VALUE")
    th.set_num_threads(1)
    setting_folder = args.out / folder_name(args.setting)
    setup = setting_setup(args.setting, setting_folder)
    folder = setting_folder / ("_".join(f"{k}={v}" for k, v in extra.items()) or "defaults")
    record = run_in_setting(args.setting, setup, args.config, args.seed, extra, args.budget, 5_000, 32, folder)
    evaluations = record["evaluations"]
    first = evaluations[0]["return"]
    early = lowest_after_start(record, 20_480) / first
    whole = lowest_after_start(record) / first
    scores = ", ".join(f"{e['score']:.1f}" for e in evaluations)
    print(f"{args.setting}, seed {args.seed}, {args.config} {extra or ''}: lowest/warm-start return {early:.2f} over")
    print(f"the first 20,480 steps, {whole:.2f} over the run; pipes at each evaluation: {scores}")


if __name__ == "__main__":
    main()
