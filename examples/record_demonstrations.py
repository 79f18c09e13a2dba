"""Record poor and strong Flappy Bird demonstrations, load them back, and train imitation's BC on them.

    python examples/record_demonstrations.py --out runs/demos --episodes 5

To add your own play to a demo folder: sb3-behave play --record runs/demos/alice --player alice
"""

import argparse

import gymnasium as gym
import numpy as np
from imitation.algorithms import bc

from sb3_behave.demos import load_demonstrations, load_episodes, record_demonstrations, summarize

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="runs/demos")
parser.add_argument("--episodes", type=int, default=5)
parser.add_argument("--max-episode-steps", type=int, default=2_000)
args = parser.parse_args()

env = gym.make("sb3_behave/FlappyBird-v0")
for skill in ("poor", "strong"):
    folder = f"{args.out}/{skill}"
    record_demonstrations(env.spec.id, folder, args.episodes, skill=skill, max_episode_steps=args.max_episode_steps)
    summary = summarize(load_episodes(folder))
    mean_score = summary["score"]["mean"]
    print(f"{skill}: {summary['episodes']} episodes, {summary['transitions']} transitions, mean score {mean_score:.1f}")

demos = load_demonstrations(f"{args.out}/strong", env=env)  # checked against the env's spaces
trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=demos,
    rng=np.random.default_rng(0),
    device="cpu",
)
trainer.train(n_epochs=1)
obs, _ = env.reset(seed=100)
done, score = False, 0
while not done:
    action, _ = trainer.policy.predict(obs, deterministic=True)
    obs, _, terminated, truncated, info = env.step(action)
    done, score = terminated or truncated, info["score"]
print(f"BC after one epoch on the strong demonstrations: {score} pipes")
