"""A person's preferences as the reward signal: deep RL from preferences with the comparison window.

A window plays two short clips of the agent side by side, looping: press LEFT or RIGHT for the
better one, DOWN for equal, S to skip, ESC to stop. Each answer is written into --out when it is
given; run the script again with the same --out to resume where you stopped.

    python examples/preferences_from_a_person.py                 # you answer
    python examples/preferences_from_a_person.py --auto-answer   # demo mode: the env reward presses the keys

The same in the RL Zoo: `preference_gatherer: person` and `preferences: FOLDER` in
zoo_configs/preference_comparisons.yml, with `--env-kwargs render_mode:"'rgb_array'"` (the zoo makes
its envs without a render mode).
"""

from __future__ import annotations

import argparse

import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

import sb3_behave  # noqa: F401 - registers Flappy Bird
from sb3_behave.preferences import auto_answer, load_preferences, preference_accuracy
from sb3_behave.zoo import PreferenceComparisons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="sb3_behave/FlappyBird-v0")
    parser.add_argument("--out", default="prefs/example", help="preferences folder (resumed if it holds answers)")
    parser.add_argument("--queries", type=int, default=30, help="answers asked for in all")
    parser.add_argument("--fragment-length", type=int, default=30)
    parser.add_argument("--timesteps", type=int, default=20_000, help="env steps of the PPO generator")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--auto-answer", action="store_true", help="demo mode: the env reward presses the keys")
    args = parser.parse_args()

    env = make_vec_env(args.env, n_envs=2, seed=args.seed, env_kwargs={"render_mode": "rgb_array"})
    model = PreferenceComparisons(
        "MlpPolicy",
        env,
        preference_gatherer="person",
        preferences=args.out,
        total_comparisons=args.queries,
        num_iterations=args.iterations,
        fragment_length=args.fragment_length,
        initial_comparison_frac=0.3,
        gatherer_kwargs={"fps": args.fps, "on_frame": auto_answer if args.auto_answer else None},
        n_steps=256,
        batch_size=128,
        seed=args.seed,
    )
    eval_env = make_vec_env(args.env, n_envs=1, seed=args.seed + 1000)
    before, _ = evaluate_policy(model, eval_env, n_eval_episodes=5)
    model.learn(args.timesteps)
    after, _ = evaluate_policy(model, eval_env, n_eval_episodes=5)

    pairs, preferences = load_preferences(args.out, env=env)
    accuracy = preference_accuracy(model.reward_net, pairs, preferences)
    print(f"answers: {len(pairs)} in {args.out} ({int(np.sum(preferences == 0.5))} equal)")
    print(f"reward model accuracy on the answers: {accuracy:.2f}")
    print(f"mean return: before {before:.2f}, after {after:.2f} ({model.num_timesteps} steps)")


if __name__ == "__main__":
    main()
