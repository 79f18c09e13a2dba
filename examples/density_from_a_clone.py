"""A density reward on Flappy Bird from a behavioural clone, paid as log(1 + density): no env reward anywhere.

    python examples/density_from_a_clone.py                          # the config's budget (about 6 minutes)
    python examples/density_from_a_clone.py --timesteps 200000       # shorter

It runs, from Python, the commands the docs give for the shell (docs/guide/zoo.md):

    sb3-behave record-demos --skill strong --episodes 10 --out demos/flappy_strong
    sb3-behave train --algo density --env sb3_behave/FlappyBird-v0 --vec-env flappy \
        -conf zoo_configs/density_bc_warm_start.yml -tb runs

A kernel density is fitted to the demonstrations' state-action pairs (at most 10,000 of them,
scored within 1%), the policy starts from a clone of them (``BCWarmStartCallback``), and PPO
trains it on ``softplus`` of the log-density (``generator_reward: positive``): about the
log-density where the expert's pairs are dense, about 0 far from them, never below. The example
reads the run's TensorBoard curves back, compares the reward of the expert's frames with that of a
bird that never flaps (and falls), and scores the agent.
"""

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.cli import main as sb3_behave
from sb3_behave.demos import load_demonstrations, play_episodes
from sb3_behave.envs import evaluate_flappy_policy
from sb3_behave.zoo import load_agent

CONFIG = Path(__file__).resolve().parent.parent / "zoo_configs" / "density_bc_warm_start.yml"
FLAPPY = "sb3_behave/FlappyBird-v0"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=10, help="demonstration games")
parser.add_argument("--max-episode-steps", type=int, default=None, help="shorter demonstration games")
parser.add_argument("--timesteps", type=int, default=None, help="the policy's env steps (default: the config's)")
parser.add_argument("--games", type=int, default=5, help="evaluation games")
args = parser.parse_args()

if not Path("demos/flappy_strong").is_dir():
    record = ["record-demos", "--skill", "strong", "--episodes", str(args.episodes), "--out", "demos/flappy_strong"]
    assert sb3_behave(record + (["--max-episode-steps", str(args.max_episode_steps)] if args.max_episode_steps else [])) == 0

train = ["train", "--algo", "density", "--env", FLAPPY, "--vec-env", "flappy", "-conf", str(CONFIG)]
train += ["-tb", "runs", "--seed", "0", "--eval-freq", "-1", "--verbose", "0"]
if args.timesteps:
    train += ["-n", str(args.timesteps)]
assert sb3_behave(train) == 0

run = sorted(Path("runs", FLAPPY.replace("/", "-")).glob("Density_*"))[-1]
events = EventAccumulator(str(run))
events.Reload()
for tag in (
    "warm_start/bc_accuracy",  # the clone, before PPO's first update
    "rollout/ep_rew_wrapped_mean",  # the policy's return under the positive density reward
    "rollout/ep_len_mean",  # frames a training game lasts
):
    last = events.Scalars(tag)[-1]
    print(f"TensorBoard {run}: {tag} = {last.value:.3f} at step {last.step}")

model = load_agent("density", FLAPPY, folder="logs", hub=False)
print(f"generator_reward: {model.generator_reward}, {len(model.density_inputs)} kernel centres")
# What the reward pays: per frame, on the expert's games and on a bird that never flaps (it falls).
for name, games in (
    ("expert", load_demonstrations("demos/flappy_strong", env=FLAPPY)),
    ("never flaps", play_episodes(gym.make(FLAPPY), lambda obs: 0, 3, seed=0)),
):
    per_frame = np.concatenate([model.reward(t.obs[:-1], t.acts, t.obs[1:]) for t in games])
    print(f"density reward per frame, {name}: {per_frame.mean():.3f} over {len(per_frame)} frames")
found = evaluate_flappy_policy(model, games=args.games, max_frames=10_000)
print(f"density agent: {found['score']:.1f} pipes a game ({args.games} games)")
