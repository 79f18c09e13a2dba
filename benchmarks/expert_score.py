"""How well each style of the scripted Flappy Bird expert plays, and how well a clumsy copy of it plays.

    python benchmarks/expert_score.py --games 256 --frames 10000

Every game is a FlappyBirdVecEnv game seeded with seed + i, played until its first crash or the
registered time limit (10,000 frames, about 270 pipes at most). Besides the expert itself, two
clumsy copies of it play the same games; they make the mistakes a behavioural clone makes, at the
frames where the expert's decision changes:

- *late*: each flap is missed with probability 0.1 (so made one frame late, or more);
- *off by a frame*: wherever the expert flaps, or would flap at the next frame, the copy flaps one
  frame late, or one frame early, each with probability 0.05.

A demonstrator whose copies survive such mistakes is one that BC can learn from: the ``steady``
style (``--skill strong``) is built for it, the ``precise`` one (``--skill precise``) is not.
"""

import argparse
import time

import numpy as np

from sb3_behave.envs import EXPERT_STYLES, FlappyBirdExpert, evaluate_flappy_policy
from sb3_behave.envs.flappy_bird.core import PIPE_VEL_X, PLAYER_ACC_Y, PLAYER_MAX_VEL_Y
from sb3_behave.envs.flappy_bird.observations import decode_features


class ClumsyCopy:
    """The expert with timing mistakes (see the module's docstring), seeded."""

    def __init__(self, expert: FlappyBirdExpert, late: float, early: float, seed: int = 0) -> None:
        self.expert, self.late, self.early = expert, late, early
        self.rng = np.random.default_rng(seed)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        raw = decode_features(obs)
        flap = self.expert.rule(raw)
        # The state one frame later if the bird does not flap now (pipes move, gravity acts).
        later = raw.copy()
        later[:, 0:9:3] += PIPE_VEL_X
        later[:, 10] = np.minimum(raw[:, 10] + PLAYER_ACC_Y, PLAYER_MAX_VEL_Y)
        later[:, 9] += later[:, 10]
        u = self.rng.random(len(flap))
        early = ~flap & self.expert.rule(later) & (u < self.early)
        late = flap & (u < self.late)
        return np.where(early, 1, np.where(late, 0, flap)).astype(np.int64), None


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--games", type=int, default=256)
parser.add_argument("--frames", type=int, default=10_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

start = time.perf_counter()
print(f"games: {args.games} of at most {args.frames} frames, seeds {args.seed}..{args.seed + args.games - 1}\n")
print("| style | pipes (mean) | min | games crashed | copy, late flaps (0.1) | copy, off by a frame (0.05 each way) |")
print("|---|---:|---:|---:|---:|---:|")
for style in EXPERT_STYLES:
    expert = FlappyBirdExpert.from_style(style)
    result = evaluate_flappy_policy(expert, games=args.games, max_frames=args.frames, seed=args.seed)
    scores = np.array(result["scores"])
    copies = [
        evaluate_flappy_policy(ClumsyCopy(expert, late, early), games=args.games, max_frames=args.frames, seed=args.seed)
        for late, early in ((0.1, 0.0), (0.05, 0.05))
    ]
    row = [f"{scores.mean():.1f}", f"{scores.min():.0f}", f"{sum(result['crashed'])}", *(f"{c['score']:.1f}" for c in copies)]
    print(f"| {style} | {' | '.join(row)} |")
print(f"\n({time.perf_counter() - start:.0f} s)")
