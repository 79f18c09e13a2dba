"""Clone the steady Flappy Bird expert with BC fitted closely, then count the clone's mistakes.

python examples/imitate_flappy_bird.py                      # 10 games, 25,000 gradient steps (~2 minutes)
python examples/imitate_flappy_bird.py --episodes 2 --steps 5000 --max-episode-steps 2000

The demonstrations are games of the steady scripted expert (``--skill strong``). BC is imitation's
trainer with the options of ``zoo_configs/bc.yml``: features standardized with the
demonstrations' statistics (kept in the saved policy), a learning rate decaying linearly to 0.
The clone is saved, loaded back and scored; its mistakes are counted against the expert on games
the expert plays.
"""

import argparse
import os

import numpy as np

from sb3_behave.demos import record_demonstrations
from sb3_behave.envs import FlappyBirdExpert, FlappyBirdVecEnv, evaluate_flappy_policy
from sb3_behave.zoo import BC

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=10, help="demonstration games")
parser.add_argument("--max-episode-steps", type=int, default=10_000, help="frames per demonstration game at most")
parser.add_argument("--steps", type=int, default=25_000, help="BC gradient steps (of 1,024 transitions)")
parser.add_argument("--balance-actions", type=float, default=0.0, help="weight rare actions (flaps): 0 to 1")
parser.add_argument("--out", default="runs/imitate_flappy_bird")
args = parser.parse_args()

env_id = "sb3_behave/FlappyBird-v0"
demos = f"{args.out}/demos"
if not os.path.isdir(demos):
    record_demonstrations(env_id, demos, args.episodes, skill="strong", max_episode_steps=args.max_episode_steps, seed=100)

model = BC(
    "MlpPolicy",
    env_id,
    demonstrations=demos,
    batch_size=1024,
    learning_rate=lambda progress: 4e-3 * progress,  # the zoo's lin_4e-3
    ent_weight=0.0,
    standardize_observations=True,
    balance_actions=args.balance_actions,
    policy_kwargs={"net_arch": [128, 128]},
    seed=0,
)
model.learn(args.steps, progress_bar=True)
model.save(f"{args.out}/bc")
clone = BC.load(f"{args.out}/bc")  # the standardization is in the saved policy
extractor = clone.policy.features_extractor
mean, std = np.round(extractor.mean.numpy()[:3], 3), np.round(extractor.std.numpy()[:3], 3)
print(f"standardization kept in the policy: mean {mean}, std {std} (first 3 features)")

# The clone's mistakes on the expert's own states (games the expert plays; none is in the demonstrations).
expert = FlappyBirdExpert.from_style("steady")
env = FlappyBirdVecEnv(8, seed=999, max_episode_steps=10_000)
obs, errors, missed, flaps, frames = env.reset(), 0, 0, 0, 0
for _ in range(2_000):
    wanted, (acted, _) = expert.act(obs), clone.predict(obs, deterministic=True)
    errors += int((wanted != acted).sum())
    missed += int(((wanted == 1) & (acted == 0)).sum())
    flaps, frames = flaps + int(wanted.sum()), frames + len(wanted)
    obs, *_ = env.step(wanted)
print(f"errors_per_frame={errors / frames:.5f} missed_flaps={missed / max(flaps, 1):.3f} flap_rate={flaps / frames:.4f}")
score = evaluate_flappy_policy(clone, games=10, max_frames=10_000)["score"]
expert_score = evaluate_flappy_policy(expert, games=10, max_frames=10_000)["score"]
print(f"clone_pipes={score:.1f} expert_pipes={expert_score:.1f} (10 games of at most 10,000 frames)")
