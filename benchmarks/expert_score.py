"""How well the scripted Flappy Bird expert plays: pipes per episode over many seeded games.

    python benchmarks/expert_score.py --games 256 --frames 10000

Every game is a FlappyBirdVecEnv game seeded with seed + i, played until its first crash or the
registered time limit (10,000 frames, about 270 pipes at most).
"""

import argparse
import time

import numpy as np

from sb3_behave.envs import FlappyBirdExpert, evaluate_flappy_policy

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--games", type=int, default=256)
parser.add_argument("--frames", type=int, default=10_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

start = time.perf_counter()
result = evaluate_flappy_policy(FlappyBirdExpert(), games=args.games, max_frames=args.frames, seed=args.seed)
score = np.array(result["scores"])
crashed = np.array(result["crashed"])
print(f"games: {args.games} of at most {args.frames} frames, seeds {args.seed}..{args.seed + args.games - 1}")
print(f"pipes per game: mean {score.mean():.1f}, min {score.min():.0f}, median {np.median(score):.0f}, max {score.max():.0f}")
print(f"games ended by a crash: {crashed.sum()} of {args.games}")
print(f"goal (mean >= 100 pipes): {'met' if score.mean() >= 100 else 'MISSED'}  ({time.perf_counter() - start:.0f} s)")
