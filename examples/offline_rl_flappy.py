"""Copy, or learn from the recorded rewards: BC and offline RL (CQL) on the same Flappy Bird recording.

    python examples/offline_rl_flappy.py                       # 10 medium games, 10,000 gradient steps each
    python examples/offline_rl_flappy.py --steps 200 --games 2  # a quick look

A demonstrator of the chosen skill (``--skill``: ``medium`` flaps like the precise expert with 2%
random actions, and crashes within a few pipes) plays ``--episodes`` recorded games. BC copies its
actions; CQL (d3rlpy's DiscreteCQL, ``sb3_behave.offline.CQL``) learns from the rewards recorded with
them, without a single new game. Each then plays ``--games`` evaluation games it never saw (seeds
from 12,345), and the demonstrator plays them too. Needs the offline extra (docs/install.md).
"""

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import sb3_behave  # noqa: F401  (registers the env)
from sb3_behave.agents import SCRIPTED_EXPERTS, SKILL_PRESETS
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.envs import FlappyBirdExpert
from sb3_behave.envs.flappy_bird.evaluation import evaluate_flappy_policy
from sb3_behave.offline import CQL
from sb3_behave.zoo import BC

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--skill", default="medium", choices=sorted(SKILL_PRESETS), help="the demonstrator")
parser.add_argument("--episodes", type=int, default=10, help="recorded games")
parser.add_argument("--steps", type=int, default=10_000, help="gradient steps of BC and of CQL")
parser.add_argument("--games", type=int, default=20, help="evaluation games")
parser.add_argument("--out", default=None, help="folder for the recording and the models (default: a temporary one)")
args = parser.parse_args()

out = Path(args.out or tempfile.mkdtemp(prefix="offline-rl-"))
demos = out / f"flappy_{args.skill}"
if not demos.is_dir():
    record_demonstrations("sb3_behave/FlappyBird-v0", demos, args.episodes, skill=args.skill, seed=100, progress_bar=False)
episodes = load_demonstrations(demos)
print(
    f"recording: {len(episodes)} {args.skill} games, {sum(len(t.acts) for t in episodes)} frames, "
    f"return {np.mean([t.rews.sum() for t in episodes]):.1f} per game"
)

env = gym.make("sb3_behave/FlappyBird-v0")
results = {}
for name, model in (
    ("bc", BC("MlpPolicy", env, demonstrations=str(demos), batch_size=256, standardize_observations=True, seed=0)),
    ("cql", CQL("MlpPolicy", env, demonstrations=str(demos), seed=0)),
):
    start = time.perf_counter()
    model.learn(args.steps)
    model.save(out / f"{name}.zip")
    results[name] = evaluate_flappy_policy(model, games=args.games)
    print(f"{name}: {args.steps} gradient steps in {time.perf_counter() - start:.0f} s, saved to {out / f'{name}.zip'}")


class Demonstrator:
    """The recording's demonstrator (its preset's scripted expert, or none, and its random actions), on batches."""

    def __init__(self, skill: str) -> None:
        preset = SKILL_PRESETS[skill]
        self.expert = None if preset.expert == "random" else FlappyBirdExpert.from_style(SCRIPTED_EXPERTS[preset.expert])
        self.epsilon = preset.epsilon
        self.rng = np.random.default_rng(0)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        if self.expert is None:
            return self.rng.integers(0, 2, len(obs)), None
        actions = self.expert.predict(obs)[0]
        random = self.rng.random(len(obs)) < self.epsilon
        actions[random] = self.rng.integers(0, 2, random.sum())
        return actions, None


demonstrator = evaluate_flappy_policy(Demonstrator(args.skill), games=args.games)
print(f"pipes over {args.games} new games (mean): demonstrator_pipes={demonstrator['score']:.1f}", end=" ")
print(" ".join(f"{name}_pipes={result['score']:.1f}" for name, result in results.items()))
