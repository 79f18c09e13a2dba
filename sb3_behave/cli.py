"""The ``sb3-behave`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

DESCRIPTION = """\
sb3-behave: learn behaviours from demonstrations and from rewards with Stable-Baselines3.

Commands:
  quickstart     the end-to-end story: the scripted expert plays Flappy Bird, poor and strong
                 demonstrations are recorded, PPO is warm-started by BC and fine-tuned, and
                 the imitation and RL loss landscapes of poor and strong play are drawn
  play           play an env with the keyboard in a window, recording your demonstrations
  record-demos   let a program play (scripted expert, random, a trained agent) and record it
  demos info     what a demonstration folder holds
  demos export   write demonstrations in the imitation library's format or as a Minari dataset
  landscape      the imitation loss and the RL loss of one policy on the same 2-D slice of its
                 weights, for each demonstration set: figures, JSON and TensorBoard
  train          the RL Zoo's train with BC, DAgger, GAIL, AIRL and ValueDICE added: every zoo
                 flag works (-conf, -tb, --eval-freq, --save-freq, -i, -optimize, ...)
  enjoy          the RL Zoo's enjoy; finds the pretrained agents shipped with the package
  record-video   the RL Zoo's record_video, likewise
  bench env      steps per second of the Flappy Bird env against flappy-bird-gymnasium
  bench landscape  a 41x41 landscape batched against the one-point-at-a-time loop

Run `sb3-behave COMMAND --help` for the options of a command.
"""

#: Commands whose arguments go to the RL Zoo's own parser, unchanged.
ZOO_COMMANDS = {
    "train": "train with the RL Zoo (imitation's BC, DAgger, GAIL, AIRL and ValueDICE registered)",
    "enjoy": "watch a trained agent with the RL Zoo (pretrained agents shipped with the package)",
    "record-video": "record a video of a trained agent with the RL Zoo",
}


def _parse_env_kwargs(pairs: Sequence[str] | None) -> dict:
    """``["obs_type=lidar", "score_limit=10"]`` -> ``{"obs_type": "lidar", "score_limit": 10}``."""
    import json

    kwargs = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env-kwargs: {pair!r} is not KEY=VALUE (example: obs_type=lidar)")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _cmd_play(args: argparse.Namespace) -> int:
    from sb3_behave.demos.play import play

    summaries = play(
        args.env,
        record=args.record,
        player=args.player,
        episodes=args.episodes,
        speed=args.speed,
        seed=args.seed,
        keys=args.keys,
        env_kwargs=_parse_env_kwargs(args.env_kwargs),
        max_episode_steps=args.max_episode_steps,
        skill=args.skill,
    )
    if args.record is not None:
        print(f"{len(summaries)} episode(s) recorded in {args.record}")
    return 0


def _cmd_record_demos(args: argparse.Namespace) -> int:
    from sb3_behave.demos import load_episodes, record_demonstrations, summarize

    files = record_demonstrations(
        args.env,
        args.out,
        args.episodes,
        expert=args.expert,
        epsilon=args.epsilon,
        skill=args.skill,
        algo=args.algo,
        seed=args.seed,
        env_kwargs=_parse_env_kwargs(args.env_kwargs),
        max_episode_steps=args.max_episode_steps,
        player=args.player,
    )
    summary = summarize(load_episodes(files))
    print(f"{len(files)} episode(s) recorded in {args.out}")
    _print_stats(summary)
    return 0


def _print_stats(summary: dict) -> None:
    for key in ("score", "return", "length"):
        stats = summary.get(key)
        if stats is not None:
            print(f"  {key:<12} mean {stats['mean']:.2f}   min {stats['min']:.2f}   max {stats['max']:.2f}")


def _cmd_demos_info(args: argparse.Namespace) -> int:
    from sb3_behave.demos import load_episodes, summarize

    summary = summarize(load_episodes(args.paths, env=args.env))
    print(f"episodes     {summary['episodes']} ({summary['terminated']} ended by a termination)")
    print(f"transitions  {summary['transitions']}")
    _print_stats(summary)
    for key in ("envs", "players", "skills"):
        counts = ", ".join(f"{name} ({n})" for name, n in summary[key].items())
        print(f"  {key:<12} {counts}")
    return 0


def _cmd_demos_export(args: argparse.Namespace) -> int:
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


def _cmd_quickstart(args: argparse.Namespace) -> int:
    from sb3_behave import quickstart

    quickstart.run(
        out=args.out,
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        bc_epochs=args.bc_epochs,
        fine_tune_steps=args.fine_tune_steps,
        landscape_grid=args.landscape_grid,
    )
    return 0


def _cmd_bench_env(args: argparse.Namespace) -> int:
    from sb3_behave import bench

    if not bench.peer_available():
        print("flappy-bird-gymnasium is not installed (pip install 'sb3-behave[bench]'): no peer column", file=sys.stderr)
    results = bench.run_env_benchmark(
        obs_types=tuple(args.obs),
        n_envs=args.n_envs,
        seconds=args.seconds,
        repeats=args.repeats,
        progress=lambda label: print(f"  timing {label} ...", file=sys.stderr, flush=True),
    )
    from sb3_behave.stack import machine_description

    text = "\n".join(
        [
            f"Machine: {machine_description()}",
            f"Each figure: median of {args.repeats} runs of {args.seconds:g} s, random actions (10% flaps).",
            "",
            bench.format_table(results),
        ]
    )
    print(text)
    if args.markdown_out is not None:
        args.markdown_out.parent.mkdir(parents=True, exist_ok=True)
        args.markdown_out.write_text(text + "\n")
        print(f"\ntable written to {args.markdown_out}")
    return 0


def _cmd_landscape(args: argparse.Namespace) -> int:
    from sb3_behave.landscape.report import LandscapeConfig, landscape_report

    config = LandscapeConfig(
        directions=args.directions,
        grid=args.grid,
        span=args.span,
        il_loss=args.il_loss,
        gamma=args.gamma,
        baseline=args.baseline,
        normalize_returns=args.normalize_returns,
        weights=tuple(args.weights),
        seed=args.seed,
        bias=args.bias,
        method=args.method,
        chunk_size=args.chunk_size,
    )
    landscape_report(
        args.env,
        args.demos,
        args.out,
        config,
        policy=args.policy,
        algo=args.algo,
        env_kwargs=_parse_env_kwargs(args.env_kwargs),
        tensorboard=not args.no_tensorboard,
        progress=not args.no_progress,
    )
    return 0


def _cmd_bench_landscape(args: argparse.Namespace) -> int:
    import time

    from sb3_behave.landscape import bench

    wall, cpu = time.perf_counter(), time.process_time()
    results = bench.run_landscape_benchmark(
        env_id=args.env,
        grid=args.grid,
        transitions=args.transitions,
        directions=tuple(args.directions),
        loop_points=args.loop_points,
        repeats=args.repeats,
        vmap_grid=args.vmap_grid,
        progress=lambda label: print(f"  timing {label} ...", file=sys.stderr, flush=True),
    )
    # CPU time over wall time: well under the number of torch threads means the machine was shared.
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    table = bench.format_table(results)
    header = [
        f"Machine: {bench.machine_description()}; this process got {share:.2f} CPU-seconds per second during the run",
        f"{args.grid}x{args.grid} grid, {args.transitions:,} synthetic transitions of {args.env}, a fresh PPO MlpPolicy; "
        f"IL (cross-entropy) and RL (REINFORCE) losses at every point. Loops timed on {args.loop_points} evenly "
        f"spaced points and extrapolated; each figure is the median of {args.repeats} interleaved rounds.",
    ]
    goals = bench.goal_lines(results)
    text = "\n".join(header) + "\n\n" + table + "\n\n" + "\n".join(f"- {line}" for line in goals)
    print(text)
    if args.markdown_out is not None:
        args.markdown_out.parent.mkdir(parents=True, exist_ok=True)
        args.markdown_out.write_text(text + "\n")
        print(f"\ntable written to {args.markdown_out}")
    return 0


def _add_env_arguments(parser: argparse.ArgumentParser, time_limit: bool = True) -> None:
    """``--env``, ``--env-kwargs`` (and ``--max-episode-steps``): how commands make their env."""
    parser.add_argument("--env", default="sb3_behave/FlappyBird-v0", help="env id (default: %(default)s)")
    parser.add_argument("--env-kwargs", nargs="*", metavar="KEY=VALUE", help="keyword arguments of gym.make")
    if time_limit:
        parser.add_argument("--max-episode-steps", type=int, default=None, help="override the env's time limit")


def _add_landscape_parser(commands: argparse._SubParsersAction) -> None:
    from sb3_behave.landscape.directions import DEFAULT_WEIGHTS

    landscape = commands.add_parser(
        "landscape",
        help="IL and RL loss landscapes of one policy on demonstration sets",
        description=(
            "Draw the imitation loss (cross-entropy or MSE to the demonstrated actions) and the RL loss "
            "(REINFORCE weighted by the demonstrations' discounted reward-to-go) of one policy over the same "
            "2-D slice theta0 + alpha*d1 + beta*d2 of its actor's weights, for each demonstration folder. "
            "Writes OUT/<set>.png (IL | RL | standardized difference, with the minima), OUT/landscape.json "
            "(grids, axes, and the agreement: Pearson and Spearman correlation of the surfaces, distance "
            "between their minima, cosine of the two gradients at theta0) and TensorBoard events in "
            "OUT/tensorboard. Demonstrations are checked against --env with --env-kwargs: demonstrations "
            "recorded with reward_mode=score need --env-kwargs reward_mode=score."
        ),
    )
    _add_env_arguments(landscape, time_limit=False)
    landscape.add_argument("--demos", nargs="+", type=Path, required=True, help="one demonstration folder per set")
    landscape.add_argument(
        "--directions",
        choices=("weights", "filter", "gradients"),
        default="filter",
        help="the slice: two scalar weights (--weights), filter-normalized random directions (Li et al. 2018), "
        "or the IL and RL gradients at theta0 (default: %(default)s)",
    )
    landscape.add_argument("--grid", type=int, default=41, help="points per axis (default: %(default)s)")
    landscape.add_argument("--span", type=float, default=1.0, help="the grid covers [-span, span] (default: %(default)s)")
    landscape.add_argument("--out", type=Path, default=Path("reports/landscape"), help="output folder (default: %(default)s)")
    landscape.add_argument(
        "--policy", default="fresh", help="'fresh' (a random init of --algo's MlpPolicy), a model .zip or an RL Zoo run folder"
    )
    landscape.add_argument(
        "--algo", default=None, help="algorithm of the policy: ppo, a2c, trpo (default: ppo; inferred for a zoo folder)"
    )
    landscape.add_argument("--seed", type=int, default=0, help="seed of the fresh policy and the random directions")
    landscape.add_argument(
        "--il-loss", choices=("ce", "mse", "nll"), default=None, help="IL loss (default: ce for Discrete, nll for Box)"
    )
    landscape.add_argument("--gamma", type=float, default=0.99, help="discount of the reward-to-go (default: %(default)s)")
    landscape.add_argument(
        "--baseline",
        choices=("none", "mean", "time"),
        default="none",
        help="subtracted from the reward-to-go: the mean return, or the mean at each time step (default: %(default)s)",
    )
    landscape.add_argument("--normalize-returns", action="store_true", help="standardize the reward-to-go of each set")
    landscape.add_argument(
        "--weights",
        nargs=2,
        default=list(DEFAULT_WEIGHTS),
        metavar="NAME[i,j]",
        help="the two scalar weights of --directions weights (default: %(default)s)",
    )
    landscape.add_argument(
        "--bias", choices=("zero", "copy"), default="zero", help="filter direction of biases and log_std (default: zero)"
    )
    landscape.add_argument(
        "--method", choices=("auto", "mlp", "vmap"), default="auto", help="grid evaluation (default: %(default)s)"
    )
    landscape.add_argument("--chunk-size", type=int, default=None, help="grid points per batch (default: automatic)")
    landscape.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard events")
    landscape.add_argument("--no-progress", action="store_true", help="no progress bars")
    landscape.set_defaults(func=_cmd_landscape)


def _add_zoo_commands(commands: argparse._SubParsersAction) -> None:
    # Listed for --help only: main() hands their arguments to the zoo before parsing.
    for name, text in ZOO_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sb3-behave`` command."""
    parser = argparse.ArgumentParser(
        prog="sb3-behave", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from sb3_behave import __version__
    from sb3_behave.stack import describe

    parser.add_argument("--version", action="version", version=f"sb3-behave {__version__} ({describe()})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    quick = commands.add_parser(
        "quickstart",
        help="the end-to-end story of the package in one run",
        description=(
            "Play Flappy Bird with the scripted expert and save a frame, record poor and strong "
            "demonstration sets, warm-start PPO by BC on the strong set and fine-tune it (TensorBoard logs, "
            "a saved model), draw the IL and RL loss landscapes of poor and strong play; prints where "
            "everything went."
        ),
    )
    quick.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder (default: %(default)s)")
    quick.add_argument(
        "--episodes", type=int, default=5, help="expert episodes, and episodes per demonstration set (default: %(default)s)"
    )
    quick.add_argument("--seed", type=int, default=0, help="seed of everything (default: %(default)s)")
    quick.add_argument("--max-steps", type=int, default=10_000, help="frames per episode at most (default: %(default)s)")
    quick.add_argument("--bc-epochs", type=int, default=20, help="epochs of BC in the warm start (default: %(default)s)")
    quick.add_argument(
        "--fine-tune-steps", type=int, default=100_000, help="PPO env steps after the warm start (default: %(default)s)"
    )
    quick.add_argument(
        "--landscape-grid", type=int, default=41, help="points per axis of the landscapes (default: %(default)s)"
    )
    quick.set_defaults(func=_cmd_quickstart)

    play = commands.add_parser(
        "play",
        help="play with the keyboard, recording demonstrations",
        description=(
            "Play an env in a pygame window and record every finished episode. Flappy Bird: SPACE or UP "
            "to flap. CartPole-v1, MountainCar-v0, Acrobot-v1, LunarLander (v3; v2 on gymnasium 0.29): the arrow keys. "
            "P pauses, ESC quits (the episode in progress is then not saved)."
        ),
    )
    _add_env_arguments(play)
    play.add_argument("--record", type=Path, default=None, help="demonstration folder to add your episodes to")
    play.add_argument("--player", default=None, help="your name, saved with each episode (default: login name)")
    play.add_argument("--skill", default=None, help="a skill label saved with each episode (poor, medium, strong...)")
    play.add_argument("--episodes", type=int, default=None, help="stop after this many episodes (default: until ESC)")
    play.add_argument("--speed", type=float, default=1.0, help="game speed: 0.5 plays at half speed (default: %(default)s)")
    play.add_argument("--seed", type=int, default=None, help="seed of the first episode (default: random)")
    play.add_argument("--keys", default=None, help="key map for other Discrete envs, e.g. 'left=0,right=1,default=0'")
    play.set_defaults(func=_cmd_play)

    record = commands.add_parser(
        "record-demos",
        help="record demonstrations from a program",
        description=(
            "Let the scripted expert, random play or a trained agent (a model .zip or an RL Zoo run folder) play "
            "and record the episodes. For Flappy Bird, --skill poor|medium|strong picks a demonstrator: "
            + "; ".join(f"{name}: {preset.description}" for name, preset in _skill_presets().items())
            + "."
        ),
    )
    _add_env_arguments(record)
    record.add_argument("--expert", default="scripted", help="scripted, random, a model .zip or a zoo run folder")
    record.add_argument(
        "--algo", default=None, help="algorithm of a model .zip (default ppo) or zoo folder (default: inferred)"
    )
    record.add_argument("--episodes", type=int, default=10, help="episodes to record (default: %(default)s)")
    record.add_argument("--out", type=Path, required=True, help="demonstration folder (episodes are added)")
    record.add_argument("--epsilon", type=float, default=None, help="probability of a random action at each step")
    record.add_argument("--skill", choices=("poor", "medium", "strong"), default=None, help="Flappy Bird demonstrator preset")
    record.add_argument("--player", default=None, help="name saved as the player (default: a description of the expert)")
    record.add_argument("--seed", type=int, default=0, help="episode k is reset with seed + k (default: %(default)s)")
    record.set_defaults(func=_cmd_record_demos)

    demos = commands.add_parser("demos", help="inspect and export demonstrations")
    demos_commands = demos.add_subparsers(dest="demos_command", metavar="ACTION", required=True)
    info = demos_commands.add_parser(
        "info", help="what demonstration folders hold", description="Episodes, transitions, scores, returns, players."
    )
    info.add_argument(
        "paths", nargs="+", type=Path, help="demo folders, episode files, imitation datasets, Minari datasets or ids"
    )
    info.add_argument("--env", default=None, help="also check the demonstrations against this env id")
    info.set_defaults(func=_cmd_demos_info)
    export = demos_commands.add_parser(
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
    export.set_defaults(func=_cmd_demos_export)

    _add_landscape_parser(commands)
    _add_zoo_commands(commands)

    bench = commands.add_parser("bench", help="benchmarks", description="Benchmarks whose tables go in benchmarks/README.md.")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
    env = bench_commands.add_parser(
        "env",
        help="env steps per second against flappy-bird-gymnasium",
        description=(
            "Time sb3_behave/FlappyBird-v0 (one env, through gym.make), FlappyBirdVecEnv and "
            "flappy-bird-gymnasium (if installed: pip install 'sb3-behave[bench]') in this process, "
            "on the same observation kind, and print steps per second and the ratios to the peer."
        ),
    )
    env.add_argument(
        "--obs", nargs="+", choices=("features", "lidar"), default=["features", "lidar"], help="observation kinds"
    )
    env.add_argument("--n-envs", type=int, default=1024, help="games in the VecEnv (default: %(default)s)")
    env.add_argument("--seconds", type=float, default=2.0, help="length of one timed run (default: %(default)s)")
    env.add_argument("--repeats", type=int, default=3, help="timed runs per figure, median kept (default: %(default)s)")
    env.add_argument("--markdown-out", type=Path, default=None, help="also write the table to this file")
    env.set_defaults(func=_cmd_bench_env)
    bench_landscape = bench_commands.add_parser(
        "landscape",
        help="batched landscape against the one-point-at-a-time loop",
        description=(
            "Compute the IL and RL losses of a fresh PPO MlpPolicy on every point of a GRID x GRID slice over "
            "TRANSITIONS synthetic demonstration transitions, batched, and with the one-point-at-a-time loop "
            "(load_state_dict per point), in one process; print seconds and speedups as a Markdown table, and "
            "whether the goals (10x the loop, under 10 s) are met."
        ),
    )
    bench_landscape.add_argument("--env", default="sb3_behave/FlappyBird-v0", help="env id (default: %(default)s)")
    bench_landscape.add_argument("--grid", type=int, default=41, help="points per axis (default: %(default)s)")
    bench_landscape.add_argument(
        "--transitions", type=int, default=10_000, help="demonstration transitions (default: %(default)s)"
    )
    bench_landscape.add_argument(
        "--directions",
        nargs="+",
        choices=("filter", "weights"),
        default=["filter", "weights"],
        help="slices to time: filter (every weight matrix moves), weights (two scalars of the last layer)",
    )
    bench_landscape.add_argument(
        "--loop-points", type=int, default=64, help="grid points the loops evaluate, extrapolated (default: %(default)s)"
    )
    bench_landscape.add_argument(
        "--repeats", type=int, default=3, help="interleaved timing rounds, medians kept (default: %(default)s)"
    )
    bench_landscape.add_argument(
        "--vmap-grid", type=int, default=11, help="points per axis for timing the vmap path, 0 to skip (default: %(default)s)"
    )
    bench_landscape.add_argument("--markdown-out", type=Path, default=None, help="also write the table to this file")
    bench_landscape.set_defaults(func=_cmd_bench_landscape)
    return parser


def _skill_presets() -> dict:
    from sb3_behave.agents import SKILL_PRESETS

    return SKILL_PRESETS


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sb3-behave`` command.

    Errors a user can act on (a bad file, value or option) print one line and exit with 2;
    set ``SB3_BEHAVE_DEBUG=1`` for the traceback.
    """
    import os

    from gymnasium import error as gym_error  # unknown, deprecated or uninstallable env ids

    from sb3_behave.stack import MissingImitationError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        if argv and argv[0] in ZOO_COMMANDS:
            from sb3_behave.zoo import commands

            return {"train": commands.train, "enjoy": commands.enjoy, "record-video": commands.record_video}[argv[0]](argv[1:])
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, MissingImitationError, gym_error.Error) as error:  # DemonstrationError: ValueError
        if os.environ.get("SB3_BEHAVE_DEBUG"):
            raise
        print(f"sb3-behave: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
