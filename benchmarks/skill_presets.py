"""Pipes per episode of the Flappy Bird demonstrator presets of `sb3-behave record-demos --skill`.

    python benchmarks/skill_presets.py --episodes 30

Records each preset with record_demonstrations (the code path of the command) into a temporary
folder, with the registered time limit of 10,000 frames, and prints the scores.
"""

import argparse
import tempfile

import numpy as np

from sb3_behave.demos import load_episodes, record_demonstrations

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=30)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

print(f"{args.episodes} episodes per preset, seeds {args.seed}..{args.seed + args.episodes - 1}, 10,000-frame limit\n")
print("| skill | mean pipes | min | median | max | mean frames |")
print("|---|---:|---:|---:|---:|---:|")
with tempfile.TemporaryDirectory() as tmp:
    for skill in ("poor", "medium", "strong", "precise"):
        files = record_demonstrations(
            "sb3_behave/FlappyBird-v0", f"{tmp}/{skill}", args.episodes, skill=skill, seed=args.seed, progress_bar=False
        )
        episodes = load_episodes(files)
        scores = np.array([e.metadata["score"] for e in episodes])
        frames = np.array([len(e.trajectory) for e in episodes])
        row = [f"{scores.mean():.1f}", f"{scores.min():.0f}", f"{np.median(scores):.0f}", f"{scores.max():.0f}"]
        print(f"| {skill} | {' | '.join(row)} | {frames.mean():.0f} |")
