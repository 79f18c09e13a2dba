"""Share demonstrations as a Minari dataset, and train from one: record, export, load with Minari, load back.

    pip install "sb3-behave[minari]"
    python examples/minari_datasets.py --dataset-id sb3_behave/flappy-strong-v0

The dataset goes into the local Minari root ($MINARI_DATASETS_PATH, default ~/.minari/datasets), where
`minari list local` and `minari.load_dataset` find it; any `demonstrations:` key of sb3-behave takes its id.
"""

import argparse

import minari

from sb3_behave.demos import load_demonstrations, load_episodes, record_demonstrations
from sb3_behave.demos.minari_datasets import export_minari

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="runs/minari-demos", help="demo folder to record into")
parser.add_argument("--dataset-id", default="sb3_behave/flappy-strong-v0", help="a new Minari dataset id")
parser.add_argument("--episodes", type=int, default=3)
parser.add_argument("--max-episode-steps", type=int, default=1_000)
args = parser.parse_args()

env_id = "sb3_behave/FlappyBird-v0"
record_demonstrations(env_id, args.out, args.episodes, skill="strong", max_episode_steps=args.max_episode_steps)
record_demonstrations(env_id, args.out, 1, skill="poor", max_episode_steps=args.max_episode_steps, seed=100)
folder = export_minari(load_episodes(args.out), args.dataset_id)
print(f"Minari dataset {args.dataset_id} written to {folder}")

# Minari's own view: terminations (the poor player's crash) and truncations (the time limit) stay apart.
dataset = minari.load_dataset(args.dataset_id)
for episode in dataset.iterate_episodes():
    end = "terminated" if episode.terminations[-1] else "truncated" if episode.truncations[-1] else "cut"
    print(f"  episode {episode.id}: {len(episode)} steps, return {episode.rewards.sum():.1f}, {end}")

# sb3-behave reads it back by id, checked against the env, as imitation trajectories.
trajectories = load_demonstrations(args.dataset_id, env=env_id)
print(f"loaded {len(trajectories)} trajectories, {sum(len(t) for t in trajectories)} transitions, from {args.dataset_id}")
