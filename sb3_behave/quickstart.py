"""``sb3-behave quickstart``: the package's end-to-end story in one command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def play_expert_episodes(
    episodes: int = 3,
    seed: int = 0,
    max_steps: int = 2_000,
    screenshot: Path | None = None,
) -> list[int]:
    """Play episodes of Flappy Bird with the steady scripted expert (the ``strong`` demonstrator) and return their scores.

    :param episodes: number of episodes
    :param seed: seed of the first episode (episode ``k`` uses ``seed + k``)
    :param max_steps: frames per episode at most (the expert rarely crashes)
    :param screenshot: where to save a PNG of the first episode, 150 frames in
    """
    import gymnasium as gym

    from sb3_behave.envs import FlappyBirdExpert

    env = gym.make("sb3_behave/FlappyBird-v0", render_mode="rgb_array" if screenshot else None, max_episode_steps=max_steps)
    expert = FlappyBirdExpert.from_style("steady")
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


def record_demo_sets(
    out: Path, episodes: int, seed: int, max_steps: int, env_kwargs: dict[str, Any] | None = None, suffix: str = ""
) -> dict[Path, dict]:
    """Record poor and strong Flappy Bird sets into ``out/<skill><suffix>``, afresh; their summaries by folder."""
    from sb3_behave.demos import load_episodes, record_demonstrations, summarize

    summaries = {}
    for skill in ("poor", "strong"):
        folder = out / f"{skill}{suffix}"
        for old in folder.glob("episode-*.npz"):  # a demo folder collects episodes: start the quickstart's afresh
            old.unlink()
        record_demonstrations(
            "sb3_behave/FlappyBird-v0",
            folder,
            episodes,
            skill=skill,
            seed=seed,
            env_kwargs=env_kwargs,
            max_episode_steps=max_steps,
            progress_bar=False,
        )
        summaries[folder] = summarize(load_episodes(folder))
    return summaries


#: The quickstart's PPO: 16 games, 256 steps each per rollout.
N_ENVS, N_STEPS = 16, 256


def whole_rollouts(steps: int) -> int:
    """``steps`` rounded up to whole PPO rollouts: what ``learn`` will run (and its progress bar will reach)."""
    rollout = N_ENVS * N_STEPS
    return -(-steps // rollout) * rollout


def warm_start_and_fine_tune(
    demos: Path, out: Path, seed: int, bc_epochs: int, fine_tune_steps: int, max_steps: int
) -> dict[str, Any]:
    """PPO on Flappy Bird, warm-started by BC on ``demos``, fine-tuned, evaluated, saved, logged."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from sb3_behave.callbacks import BCWarmStartCallback
    from sb3_behave.envs import FlappyBirdVecEnv, evaluate_flappy_policy

    env = VecMonitor(FlappyBirdVecEnv(N_ENVS, seed=seed))
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=N_STEPS,
        batch_size=512,
        n_epochs=4,
        seed=seed,
        device="cpu",
        tensorboard_log=str(out / "tensorboard"),
    )
    evaluation = {"games": 10, "max_frames": max_steps, "seed": seed + 1_000}
    untrained = evaluate_flappy_policy(model, **evaluation)["score"]
    callback = BCWarmStartCallback(
        demos,
        bc_epochs=bc_epochs,
        eval_env=FlappyBirdVecEnv(5, seed=seed + 2_000, max_episode_steps=max_steps),
        progress_bar=True,
    )
    model.learn(0, callback=callback, tb_log_name="ppo_bc_warm_start")  # the warm start alone
    warm = evaluate_flappy_policy(model, **evaluation)["score"]
    model.learn(
        fine_tune_steps, callback=callback, tb_log_name="ppo_bc_warm_start", reset_num_timesteps=False, progress_bar=True
    )
    tuned = evaluate_flappy_policy(model, **evaluation)["score"]
    path = out / "ppo_bc_warm_start.zip"
    model.save(path)
    return {"untrained": untrained, "warm_started": warm, "fine_tuned": tuned, "model": str(path), "stats": callback.stats}


def landscapes(out: Path, episodes: int, seed: int, grid: int) -> dict[str, Any]:
    """IL and RL loss landscapes of a fresh PPO policy on poor and strong play (score-only rewards)."""
    from sb3_behave.landscape.report import LandscapeConfig, landscape_report

    score_only = {"reward_mode": "score"}
    folders = list(record_demo_sets(out / "demos", episodes, seed, 2_000, score_only, suffix="_score_only"))
    return landscape_report(
        "sb3_behave/FlappyBird-v0",
        folders,
        out / "landscape",
        LandscapeConfig(grid=grid, seed=seed),
        env_kwargs=score_only,
        progress=False,
        log=lambda line: print(f"      {line}"),
        overwrite=True,
    )


def run(
    out: Path = Path("runs/quickstart"),
    episodes: int = 5,
    seed: int = 0,
    max_steps: int = 10_000,
    bc_epochs: int = 20,
    fine_tune_steps: int = 100_000,
    landscape_grid: int = 41,
    overwrite: bool = False,
) -> dict:
    """Run the quickstart and print where everything went.

    :param out: folder for everything the quickstart writes
    :param episodes: episodes the expert plays, and episodes of each demonstration set
    :param seed: seed of everything
    :param max_steps: frames per episode at most
    :param bc_epochs: epochs of behavioural cloning in the warm start
    :param fine_tune_steps: env steps of PPO fine-tuning after the warm start (rounded up to whole
        rollouts of 16 x 256 steps)
    :param landscape_grid: points per axis of the loss landscapes
    :param overwrite: run again into an ``out`` that holds an earlier run (refused without it)
    """
    from sb3_behave.outputs import check_output

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    out = check_output(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    steps = 4
    print(f"[1/{steps}] The scripted expert plays {episodes} episodes of Flappy Bird (at most {max_steps} frames each)")
    screenshot = out / "flappy_bird.png"
    scores = play_expert_episodes(episodes, seed, max_steps, screenshot)
    print(f"      scores: {scores} (mean {np.mean(scores):.1f} pipes)")
    print(f"      a frame of the first episode: {screenshot}")
    print(f"[2/{steps}] Recording demonstrations: {episodes} episodes of a poor player and of a strong one")
    demos = record_demo_sets(out / "demos", episodes, seed, max_steps)
    for folder, summary in demos.items():
        print(
            f"      {folder.name:<6} {summary['transitions']:>6} transitions, mean score {summary['score']['mean']:.1f}"
            f"  -> {folder}  (sb3-behave demos info {folder})"
        )
    fine_tune_steps = whole_rollouts(fine_tune_steps)
    rollouts = fine_tune_steps // (N_ENVS * N_STEPS)
    print(
        f"[3/{steps}] PPO warm-started by BC on the strong demonstrations ({bc_epochs} epochs), "
        f"then fine-tuned for {fine_tune_steps:,} env steps ({rollouts} rollout{'s' * (rollouts != 1)} "
        f"of {N_ENVS} games x {N_STEPS} steps)"
    )
    trained = warm_start_and_fine_tune(out / "demos" / "strong", out, seed, bc_epochs, fine_tune_steps, max_steps)
    print(
        f"      mean score over 10 games: untrained {trained['untrained']:.1f}, after the warm start "
        f"{trained['warm_started']:.1f}, after fine-tuning {trained['fine_tuned']:.1f} pipes"
    )
    print(f"      model: {trained['model']}")
    print(f"      TensorBoard: tensorboard --logdir {out / 'tensorboard'}")
    print(
        f"[4/{steps}] Loss landscapes of a fresh policy: imitation vs RL on poor and on strong play "
        f"(score-only rewards, {landscape_grid}x{landscape_grid} grid)"
    )
    landscape = landscapes(out, episodes, seed, landscape_grid)
    for name, entry in landscape["sets"].items():
        print(f"      {name}: IL and RL surfaces correlate at {entry['metrics']['pearson']:+.2f} (Pearson)")
    return {
        "expert_scores": scores,
        "screenshot": str(screenshot),
        "demos": [str(folder) for folder in demos],
        "ppo": trained,
        "landscape": landscape,
    }
