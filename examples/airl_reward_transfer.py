"""AIRL on Flappy Bird from a behavioural clone, then its learned reward given to a fresh PPO (inverse RL's transfer).

    python examples/airl_reward_transfer.py                                    # the configs' budgets
    python examples/airl_reward_transfer.py --airl-steps 200000 --ppo-steps 500000   # shorter runs

It runs, from Python, the commands the docs give for the shell (docs/guide/zoo.md):

    sb3-behave record-demos --skill strong --episodes 10 --out demos/flappy_strong
    sb3-behave train --algo airl --env sb3_behave/FlappyBird-v0 --vec-env flappy \
        -conf zoo_configs/airl_bc_warm_start.yml -tb runs
    sb3-behave train --algo ppo --env sb3_behave/FlappyBird-v0 --vec-env flappy \
        -conf zoo_configs/ppo_learned_reward.yml -tb runs

The PPO never sees a demonstration: ``zoo_configs/ppo_learned_reward.yml`` wraps its env in
``LearnedReward``, which pays each step what AIRL's reward net (``logs/airl/sb3_behave-FlappyBird-v0_1``)
says of it. Both agents are then scored, and the learned reward of the expert's frames is set
beside that of a bird that never flaps.
"""

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_behave.cli import main as sb3_behave
from sb3_behave.demos import load_demonstrations, play_episodes
from sb3_behave.envs import evaluate_flappy_policy
from sb3_behave.zoo import load_agent
from sb3_behave.zoo.learned_reward import LearnedReward

CONFIGS = Path(__file__).resolve().parent.parent / "zoo_configs"
FLAPPY = "sb3_behave/FlappyBird-v0"
AIRL_RUN = Path("logs/airl/sb3_behave-FlappyBird-v0_1")  # the run zoo_configs/ppo_learned_reward.yml names

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=10, help="demonstration games")
parser.add_argument("--max-episode-steps", type=int, default=None, help="shorter demonstration games")
parser.add_argument("--airl-steps", type=int, default=None, help="AIRL's env steps (default: the config's)")
parser.add_argument("--ppo-steps", type=int, default=None, help="the fresh PPO's env steps (default: the config's)")
parser.add_argument("--games", type=int, default=5, help="evaluation games of each agent")
args = parser.parse_args()

if not Path("demos/flappy_strong").is_dir():
    record = ["record-demos", "--skill", "strong", "--episodes", str(args.episodes), "--out", "demos/flappy_strong"]
    assert sb3_behave(record + (["--max-episode-steps", str(args.max_episode_steps)] if args.max_episode_steps else [])) == 0
if AIRL_RUN.exists():
    raise SystemExit(f"{AIRL_RUN} exists already: run this example in an empty folder")

for algo, config, steps in (("airl", "airl_bc_warm_start", args.airl_steps), ("ppo", "ppo_learned_reward", args.ppo_steps)):
    train = ["train", "--algo", algo, "--env", FLAPPY, "--vec-env", "flappy", "-conf", str(CONFIGS / f"{config}.yml")]
    train += ["-tb", "runs", "--seed", "0", "--eval-freq", "-1", "--verbose", "0"]
    assert sb3_behave(train + (["-n", str(steps)] if steps else [])) == 0

for algo in ("airl", "ppo"):
    model = load_agent(algo, FLAPPY, folder="logs", hub=False)
    found = evaluate_flappy_policy(model, games=args.games, max_frames=10_000)
    print(f"{algo.upper()} agent: {found['score']:.1f} pipes a game ({args.games} games)")

# What the reward pays: per frame, on the expert's games and on a bird that never flaps.
reward = LearnedReward(DummyVecEnv([lambda: gym.make(FLAPPY)]), model=AIRL_RUN).reward_fn
for name, games in (
    ("expert", load_demonstrations("demos/flappy_strong", env=FLAPPY)),
    ("never flaps", play_episodes(gym.make(FLAPPY), lambda obs: 0, 3, seed=0)),
):
    per_frame = np.concatenate([reward(t.obs[:-1], t.acts, t.obs[1:], np.zeros(len(t.acts), bool)) for t in games])
    print(f"learned reward per frame, {name}: {per_frame.mean():.3f} over {len(per_frame)} frames")
