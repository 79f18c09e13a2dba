"""``sb3-behave quickstart``: the package's end-to-end story in one command."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def play_expert_episodes(
    episodes: int = 3,
    seed: int = 0,
    max_steps: int = 2_000,
    screenshot: Path | None = None,
) -> list[int]:
    """Play episodes of Flappy Bird with the scripted expert and return their scores.

    :param episodes: number of episodes
    :param seed: seed of the first episode (episode ``k`` uses ``seed + k``)
    :param max_steps: frames per episode at most (the expert rarely crashes)
    :param screenshot: where to save a PNG of the first episode, 150 frames in
    """
    import gymnasium as gym

    from sb3_behave.envs import FlappyBirdExpert

    env = gym.make("sb3_behave/FlappyBird-v0", render_mode="rgb_array" if screenshot else None, max_episode_steps=max_steps)
    expert = FlappyBirdExpert()
    scores = []
    for k in range(episodes):
        obs, info = env.reset(seed=seed + k)
        done = False
        frame = 0
        while not done:
            action, _ = expert.predict(obs)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            frame += 1
            if screenshot is not None and k == 0 and frame == 150:
                save_png(env.render(), screenshot)
        scores.append(int(info["score"]))
    env.close()
    return scores


def save_png(frame: np.ndarray, path: Path) -> Path:
    """Save an RGB array as a PNG file (creating its folder)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, frame)
    return path


def record_demo_sets(out: Path, episodes: int, seed: int, max_steps: int) -> dict[str, dict]:
    """Record poor and strong Flappy Bird demonstration sets into ``out/<skill>``; their summaries."""
    from sb3_behave.demos import load_episodes, record_demonstrations, summarize

    summaries = {}
    for skill in ("poor", "strong"):
        folder = out / skill
        if folder.exists():  # a demo folder collects episodes: start the quickstart's afresh
            for old in folder.glob("episode-*.npz"):
                old.unlink()
        record_demonstrations(
            "sb3_behave/FlappyBird-v0",
            folder,
            episodes,
            skill=skill,
            seed=seed,
            max_episode_steps=max_steps,
            progress_bar=False,
        )
        summaries[skill] = summarize(load_episodes(folder))
    return summaries


def run(out: Path = Path("runs/quickstart"), episodes: int = 3, seed: int = 0, max_steps: int = 2_000) -> dict:
    """Run the quickstart and print where everything went.

    :param out: folder for everything the quickstart writes
    :param episodes: episodes of the scripted expert to play
    :param seed: seed of everything
    :param max_steps: frames per episode at most
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps = 2
    print(f"[1/{steps}] The scripted expert plays {episodes} episodes of Flappy Bird (at most {max_steps} frames each)")
    screenshot = out / "flappy_bird.png"
    scores = play_expert_episodes(episodes, seed, max_steps, screenshot)
    print(f"      scores: {scores} (mean {np.mean(scores):.1f} pipes)")
    print(f"      a frame of the first episode: {screenshot}")
    print(f"[2/{steps}] Recording demonstrations: {episodes} episodes of a poor player and of a strong one")
    demos = record_demo_sets(out / "demos", episodes, seed, max_steps)
    for skill, summary in demos.items():
        print(
            f"      {skill:<6} {summary['transitions']:>6} transitions, mean score {summary['score']['mean']:.1f}"
            f"  -> {out / 'demos' / skill}  (sb3-behave demos info {out / 'demos' / skill})"
        )
    return {"expert_scores": scores, "screenshot": str(screenshot), "demos": {k: str(out / "demos" / k) for k in demos}}
