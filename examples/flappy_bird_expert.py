"""Play Flappy Bird with the scripted expert (steady or precise style) and save a frame.

python examples/flappy_bird_expert.py --episodes 2 --out runs/expert.png
python examples/flappy_bird_expert.py --style precise
"""

import argparse
import os

import gymnasium as gym
import matplotlib.pyplot as plt

from sb3_behave.envs import EXPERT_STYLES, FlappyBirdExpert

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # draw off screen; render_mode="human" opens a window

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=2)
parser.add_argument("--max-steps", type=int, default=3_000)
parser.add_argument("--style", choices=tuple(EXPERT_STYLES), default="steady", help="how the expert plays")
parser.add_argument("--out", default="runs/expert.png", help="where to save a frame of the first episode")
args = parser.parse_args()

env = gym.make("sb3_behave/FlappyBird-v0", render_mode="rgb_array", max_episode_steps=args.max_steps)
expert = FlappyBirdExpert.from_style(args.style)
for episode in range(args.episodes):
    obs, info = env.reset(seed=episode)
    done = False
    while not done:
        action, _ = expert.predict(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        if episode == 0 and env.unwrapped.core.frame[0] == 150:
            os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
            plt.imsave(args.out, env.render())
    print(f"episode {episode}: {info['score']} pipes, {'crashed' if terminated else 'time limit'}")
print(f"frame saved to {args.out}")
