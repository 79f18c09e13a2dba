"""SQIL and density-based reward modelling on CartPole, from Python: demonstrations, training, evaluation.

    python examples/sqil_and_density.py                                 # a PPO expert, then 50000 steps each
    python examples/sqil_and_density.py --timesteps 2000 --expert-timesteps 0   # random demonstrations, quick

A PPO expert is trained (``--expert-timesteps``; 0 records a random player instead) and plays 10
recorded episodes. SQIL (DQN on a replay buffer half made of the demonstrations) and a density
reward (a kernel density of the demonstrated state-action pairs, the reward PPO is trained on) each
learn from them; each trained agent plays 10 episodes, with CartPole's own reward.
"""

import argparse
import tempfile
from pathlib import Path

from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_behave.demos import record_demonstrations
from sb3_behave.zoo import SQIL, Density

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--timesteps", type=int, default=50_000, help="env steps of SQIL and of the density's PPO")
parser.add_argument("--expert-timesteps", type=int, default=100_000, help="env steps of the PPO expert (0: a random player)")
parser.add_argument("--episodes", type=int, default=10, help="demonstration episodes")
parser.add_argument("--out", default=None, help="folder for the demonstrations and models (default: a temporary one)")
args = parser.parse_args()

out = Path(args.out or tempfile.mkdtemp(prefix="sqil-and-density-"))
out.mkdir(parents=True, exist_ok=True)
demos = out / "cartpole_demos"
expert = "random"
if args.expert_timesteps > 0:  # the RL Zoo's PPO settings for CartPole-v1 (zoo_configs/ppo.yml)
    ppo_settings = dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate=1e-3)
    ppo = PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8, seed=0), seed=0, **ppo_settings)
    ppo.learn(args.expert_timesteps)
    ppo.save(out / "expert.zip")
    expert = str(out / "expert.zip")
if not demos.is_dir():
    algo = None if expert == "random" else "ppo"
    record_demonstrations("CartPole-v1", demos, episodes=args.episodes, expert=expert, algo=algo, seed=0, progress_bar=False)

# SQIL: DQN with the RL Zoo's CartPole settings (zoo_configs/sqil.yml), its steps scaled down for short runs.
sqil = SQIL(
    "MlpPolicy",
    make_vec_env("CartPole-v1", n_envs=1, seed=0),
    demonstrations=str(demos),
    learning_rate=2.3e-3,
    batch_size=64,
    learning_starts=min(1000, args.timesteps // 10),
    target_update_interval=10,
    train_freq=min(256, args.timesteps // 4),
    gradient_steps=min(128, args.timesteps // 8),
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
    policy_kwargs={"net_arch": [256, 256]},
    seed=0,
)
sqil.learn(args.timesteps)
sqil.save(out / "sqil.zip")

# Density: a narrow kernel on the raw state-action pairs, so that staying near the demonstrations
# earns a positive reward (zoo_configs/density.yml says why), and PPO trained on it.
density = Density(
    "MlpPolicy",
    make_vec_env("CartPole-v1", n_envs=8, seed=0),
    demonstrations=str(demos),
    density_type="state_action",
    kernel="gaussian",
    kernel_bandwidth=0.1,
    standardise_inputs=False,
    n_steps=max(8 * (min(512, args.timesteps // 8) // 8), 16),  # rollouts of 8 x n_steps, in batches of 64
    batch_size=64,
    learning_rate=4e-4,
    gamma=0.98,
    n_epochs=5,
    seed=0,
)
density.learn(args.timesteps)
density.save(out / "density.zip")

print(f"demonstrations: {args.episodes} episodes of {'a PPO expert' if expert != 'random' else 'a random player'} in {demos}")
for name, model in (("SQIL", sqil), ("Density", density)):
    mean, std = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=100), n_eval_episodes=10)
    print(f"{name}: mean return {mean:.1f} +/- {std:.1f} over 10 episodes after {model.num_timesteps} steps")
