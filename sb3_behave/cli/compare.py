"""``sb3-behave compare``: a person states preferences between two clips of an agent (a reward signal)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import (
    SEED,
    add_env_arguments,
    add_trust_code_argument,
    parse_env_kwargs,
    real,
    stopping_on_signals,
    whole,
)

#: The most answers one ``compare`` asks for, and the longest clip in steps.
MAX_QUERIES = 10_000
MAX_FRAGMENT = 1_000


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare",
        help="a person states preferences between two clips of an agent (a reward signal)",
        description=(
            "An agent plays; a window shows two short clips of it side by side, looping. Press LEFT or RIGHT for the "
            "better one, DOWN for equal, S to skip, ESC to stop. Each answer is written into --out the moment it is "
            "given; run the same command again to resume. Train on the answers with --train-reward here, or with "
            "`sb3-behave train --algo preference_comparisons` and `preferences: FOLDER` in its YAML."
        ),
    )
    add_env_arguments(parser)
    parser.add_argument("--agent", default="random", help="random, scripted (Flappy Bird), a model .zip or a zoo run folder")
    add_trust_code_argument(parser)
    parser.add_argument(
        "--algo", default=None, help="algorithm of a model .zip (default ppo) or zoo folder (default: inferred)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="preferences folder (answers are added; resumed if it has some)"
    )
    parser.add_argument(
        "--queries", type=whole(1, MAX_QUERIES), default=20, help="answers wanted in --out in all, up to 10,000 (default: 20)"
    )
    parser.add_argument(
        "--fragment-length", type=whole(1, MAX_FRAGMENT), default=50, help="steps per clip, at most 1,000 (default: 50)"
    )
    parser.add_argument(
        "--fps",
        type=real(0.0, 1000.0, open_low=True),
        default=15.0,
        help="frames per second of the clips, up to 1,000 (default: 15)",
    )
    parser.add_argument(
        "--clip-height",
        type=whole(16, 2160),
        default=320,
        help="height of each clip on screen, 16 to 2,160 pixels (default: %(default)s)",
    )
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the env, the agent and the pairs (default: %(default)s)")
    parser.add_argument(
        "--train-reward", action="store_true", help="then train a reward model on the answers and print its accuracy"
    )
    parser.add_argument(
        "--auto-answer",
        action="store_true",
        help="demo mode: the env reward presses the keys (to try the window without a person)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sb3_behave  # noqa: F401 - registers Flappy Bird
    from sb3_behave.preferences.compare import auto_answer, compare, reward_model_from_answers

    env_kwargs = parse_env_kwargs(args.env_kwargs)
    with stopping_on_signals():  # SIGTERM stops it as Ctrl-C does: the answers given are kept
        summary = compare(
            args.env,
            args.out,
            agent=args.agent,
            algo=args.algo,
            queries=args.queries,
            fragment_length=args.fragment_length,
            seed=args.seed,
            env_kwargs=env_kwargs,
            max_episode_steps=args.max_episode_steps,
            fps=args.fps,
            clip_height=args.clip_height,
            on_frame=auto_answer if args.auto_answer else None,
        )
    stopped = " (stopped: run the same command again to resume)" if summary["stopped"] else ""
    print(
        f"{summary['answered']} answer(s) in {args.out}: {summary['new']} new, {summary['skipped']} skipped, "
        f"{summary['left']} left{stopped}"
    )
    if summary.get("interrupted"):
        return 130  # the shell's status for a command stopped by Ctrl-C
    if args.train_reward:
        result = reward_model_from_answers(
            args.env, args.out, seed=args.seed, env_kwargs=env_kwargs, max_episode_steps=args.max_episode_steps
        )
        accuracy = "n/a (every answer says equal)" if result["accuracy"] != result["accuracy"] else f"{result['accuracy']:.2f}"
        print(f"reward model trained on {result['answers']} answer(s): accuracy {accuracy} on the strict answers")
    return 0
