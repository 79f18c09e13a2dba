"""``sb3-behave compare``: a person states preferences between two clips of an agent (a reward signal)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sb3_behave.cli.common import COUNT, POSITIVE, SEED, add_env_arguments, add_trust_code_argument, parse_env_kwargs, whole


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
    parser.add_argument("--queries", type=COUNT, default=20, help="answers wanted in --out in all (default: %(default)s)")
    parser.add_argument("--fragment-length", type=COUNT, default=50, help="steps per clip (default: %(default)s)")
    parser.add_argument("--fps", type=POSITIVE, default=15.0, help="frames per second of the clips (default: %(default)s)")
    parser.add_argument(
        "--clip-height",
        type=whole(16),
        default=320,
        help="height of each clip on screen, at least 16 pixels (default: %(default)s)",
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
    if args.train_reward:
        result = reward_model_from_answers(
            args.env, args.out, seed=args.seed, env_kwargs=env_kwargs, max_episode_steps=args.max_episode_steps
        )
        accuracy = "n/a (every answer says equal)" if result["accuracy"] != result["accuracy"] else f"{result['accuracy']:.2f}"
        print(f"reward model trained on {result['answers']} answer(s): accuracy {accuracy} on the strict answers")
    return 0
