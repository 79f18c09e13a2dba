"""The imitation and the RL loss landscape of a fresh PPO policy, on poor and on strong Flappy Bird play.

    python examples/landscape_from_demos.py --out runs/landscape

Records a poor and a strong demonstration set with score-only rewards (+1 per pipe, -1 on a crash),
draws both losses over the same filter-normalized slice of the policy's weights, prints how much
they agree and saves one figure per set. On the poor set the RL landscape is the IL one upside
down (negative correlation); on the strong set they look alike. The same from the command line:

    sb3-behave landscape --env-kwargs reward_mode=score --demos runs/landscape/demos/poor runs/landscape/demos/strong
"""

import argparse
from pathlib import Path

import gymnasium as gym

from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.landscape import DemoSet, LandscapeConfig, PolicyActor, compute_landscape, fresh_policy
from sb3_behave.outputs import save_figure

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", type=Path, default=Path("runs/landscape"))
parser.add_argument("--episodes", type=int, default=3, help="episodes per demonstration set")
parser.add_argument("--max-episode-steps", type=int, default=1_000)
parser.add_argument("--grid", type=int, default=41, help="points per axis")
args = parser.parse_args()

env_kwargs = {"reward_mode": "score"}  # a crash is the only negative reward: a poor player's returns are negative
env = gym.make("sb3_behave/FlappyBird-v0", **env_kwargs)
actor = PolicyActor(fresh_policy(env, "ppo", seed=0))  # PPO's default MlpPolicy, freshly initialized
config = LandscapeConfig(directions="filter", grid=args.grid, span=1.0, gamma=0.99, baseline="none")

for skill in ("poor", "strong"):
    folder = args.out / "demos" / skill
    for old in folder.glob("episode-*.npz"):  # a demo folder collects episodes: start afresh
        old.unlink()
    record_demonstrations(
        env.spec.id,
        folder,
        args.episodes,
        skill=skill,
        env_kwargs=env_kwargs,
        max_episode_steps=args.max_episode_steps,
        progress_bar=False,
    )
    demos = DemoSet.from_trajectories(skill, load_demonstrations(folder, env=env))
    landscape = compute_landscape(actor, demos, config)
    m = landscape.metrics
    print(
        f"{skill}: {len(demos)} transitions, mean return {demos.info['mean_return']:+.1f}: "
        f"Pearson {m['pearson']:+.2f}, Spearman {m['spearman']:+.2f}, gradient cosine {m['gradient_cosine']:+.2f}"
    )
    save_figure(landscape.figure(), args.out / f"{skill}.png")
print(f"figures: {args.out / 'poor.png'}, {args.out / 'strong.png'}")
