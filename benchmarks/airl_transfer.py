"""AIRL's learned reward given to a fresh PPO that never sees a demonstration, on Flappy Bird (inverse RL's transfer).

    python benchmarks/imitation_zoo.py --env flappy --seeds 0 1 2 --algos airl_bc_warm_start
    python benchmarks/airl_transfer.py --seeds 0 1 2

For each seed ``k``, the AIRL run of ``imitation_zoo.py``'s row ``airl_bc_warm_start`` (seed ``k``,
found under ``--zoo-out``) gives its reward net to ``zoo_configs/ppo_learned_reward.yml``: the
command a user types, ``sb3-behave train --algo ppo --env sb3_behave/FlappyBird-v0 --vec-env
flappy -conf zoo_configs/ppo_learned_reward.yml --seed k``, run in a folder whose
``logs/airl/sb3_behave-FlappyBird-v0_1`` is that AIRL run. The PPO is then scored as the zoo
table's rows are: 20 deterministic whole games (10,000 frames), mean pipes.

What the reward rewards, from each AIRL run's net as ``LearnedReward`` gives it (measured on the
10 demonstration games and on games of other players, 2,000 frames at most):

- ``agrees``: the share of the expert's frames where the reward of the expert's action is above
  that of the other action (the reward "knows" the expert's choice);
- the mean reward per frame of the expert, of a bird that never flaps, of uniformly random play,
  and of the transferred PPO;
- ``reward_along_a_game.png``: the reward along the first frames of an expert game and of the
  transferred PPO's game, with the frames where a pipe is passed marked (seed of ``--plot-seed``).

Results: ``--results/results.json`` and ``--results/table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from common import FLAPPY, ROOT, machine, run_sb3_behave, write_atomically, zoo_steps
from imitation_zoo import evaluate_run, finished_run

CONFIG = "zoo_configs/ppo_learned_reward.yml"
RUN_NAME = FLAPPY.replace("/", "-")


def airl_run(zoo_out: Path, seed: int) -> Path:
    """The run folder of ``imitation_zoo.py``'s ``airl_bc_warm_start`` row, seed ``seed``."""
    from sb3_behave.stack import stack_name

    logs = zoo_out.resolve() / "flappy" / stack_name() / "logs" / f"airl_bc_warm_start_seed{seed}"
    number = finished_run(logs, "airl", FLAPPY)
    if number is None:
        raise SystemExit(
            f"airl_transfer.py: error: no finished AIRL run in {logs}: run "
            f"`python benchmarks/imitation_zoo.py --env flappy --algos airl_bc_warm_start --seeds {seed}` first"
        )
    return logs / "airl" / f"{RUN_NAME}_{number}"


def transfer(seed: int, airl: Path, out: Path, budget: int | None, reward: str = "unshaped") -> tuple[float, float, Path]:
    """Train the fresh PPO on ``airl``'s reward (unless trained already); its score, training seconds and run."""
    work = out / f"seed{seed}"
    (work / "logs" / "airl").mkdir(parents=True, exist_ok=True)
    link = work / "logs" / "airl" / f"{RUN_NAME}_1"  # the path the config names
    if link.is_symlink():
        link.unlink()
    link.symlink_to(airl)
    if not (work / "zoo_configs").exists():
        (work / "zoo_configs").symlink_to(ROOT / "zoo_configs")
    timing = work / "seconds.txt"  # the training time, kept for a later call that finds the run there
    number = finished_run(work / "logs", "ppo", FLAPPY)
    if number is None:
        command = ["train", "--algo", "ppo", "--env", FLAPPY, "--vec-env", "flappy", "-conf", CONFIG]
        command += ["--seed", str(seed), "--eval-freq", "-1", "-f", "logs", "-tb", "tb"]
        if reward != "unshaped":  # the config's wrapper with another reward: the zoo's -params override
            wrapper = {"sb3_behave.zoo.learned_reward.LearnedReward": {"model": f"logs/airl/{RUN_NAME}_1", "reward": reward}}
            command += ["-params", f"vec_env_wrapper:{[wrapper]!r}"]
        seconds = run_sb3_behave(command + ([] if budget is None else ["-n", str(budget)]), work, work / "train.log")
        number = finished_run(work / "logs", "ppo", FLAPPY)
        if number is None:
            raise RuntimeError(f"{work}: sb3-behave train ended without a final model ({work / 'train.log'})")
        timing.write_text(f"{seconds:.1f}\n")
    seconds = float(timing.read_text()) if timing.is_file() else float("nan")
    return evaluate_run("ppo", FLAPPY, work / "logs", exp_id=number), seconds, work / "logs" / "ppo" / f"{RUN_NAME}_{number}"


def games(act, n: int = 10, frames: int = 2_000, seed: int = 100):
    """``n`` games of ``act`` (an obs -> action callable) of at most ``frames`` frames, as trajectories."""
    import gymnasium as gym

    from sb3_behave.demos import play_episodes

    env = gym.make(FLAPPY, max_episode_steps=frames)
    return play_episodes(env, act, n, seed=seed)


def rewards_of(reward, trajectory) -> np.ndarray:
    """The learned reward of each step of ``trajectory``."""
    obs = trajectory.obs
    dones = np.zeros(len(trajectory.acts), dtype=bool)
    dones[-1] = trajectory.terminal
    return reward(obs[:-1], np.asarray(trajectory.acts), obs[1:], dones)


def expert_action_preferred(reward, expert) -> tuple[np.ndarray, np.ndarray]:
    """On each of the expert's frames, whether ``reward`` pays the expert's action more than the other one; and the actions.

    The other action is scored with the expert's next state: the unshaped ``g(s, a)`` of AIRL and
    GAIL's discriminator (state and action) do not read it.
    """
    obs = np.concatenate([t.obs[:-1] for t in expert])
    acts = np.concatenate([t.acts for t in expert])
    nexts = np.concatenate([t.obs[1:] for t in expert])
    dones = np.zeros(len(acts), dtype=bool)
    return reward(obs, acts, nexts, dones) > reward(obs, 1 - acts, nexts, dones), acts


def what_it_rewards(airl: Path, ppo_run: Path, demos: Path, reward: str = "unshaped") -> dict:
    """``agrees`` and the mean reward per frame of four players, under ``airl``'s reward as ``LearnedReward`` gives it."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sb3_behave.agents import load_agent_from_path, random_policy
    from sb3_behave.demos import load_demonstrations
    from sb3_behave.zoo.learned_reward import LearnedReward

    wrapper = LearnedReward(DummyVecEnv([lambda: gym.make(FLAPPY)]), model=airl, reward=reward)
    expert = load_demonstrations(demos, env=FLAPPY)
    preferred, _ = expert_action_preferred(wrapper.reward_fn, expert)
    ppo, _ = load_agent_from_path(ppo_run, gym.make(FLAPPY), algo="ppo")
    players = {
        "expert": expert,
        "never flaps": games(lambda o: 0),
        "random": games(random_policy(gym.make(FLAPPY), 0)),
        "transferred PPO": games(lambda o: ppo.predict(o, deterministic=True)[0]),
    }
    mean = {
        name: float(np.mean(np.concatenate([rewards_of(wrapper.reward_fn, t) for t in ts]))) for name, ts in players.items()
    }
    frames = {name: float(np.mean([len(t.acts) for t in ts])) for name, ts in players.items()}
    found = {"agrees": float(np.mean(preferred)), "mean_reward": mean, "frames": frames}
    return found | {"players": players, "reward": wrapper.reward_fn}


def plot(found: dict, path: Path, frames: int = 600) -> None:
    """The reward along the first ``frames`` frames of an expert game and of the transferred PPO's, pipes marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True, sharey=True)
    for axis, name in zip(axes, ("expert", "transferred PPO")):
        trajectory = found["players"][name][0]
        rewards = rewards_of(found["reward"], trajectory)[:frames]
        axis.plot(rewards, lw=0.8)
        for frame in np.flatnonzero(np.asarray(trajectory.rews[:frames]) >= 1.0):  # the env pays +1 for a pipe
            axis.axvline(frame, color="tab:green", lw=0.6, alpha=0.6)
        if trajectory.terminal and len(trajectory.acts) <= frames:
            axis.axvline(len(trajectory.acts) - 1, color="tab:red", lw=1.2)
        axis.set_ylabel("learned reward")
        axis.set_title(f"{name}: {len(trajectory.acts)} frames (green: a pipe passed; red: the crash)", fontsize=9)
    axes[-1].set_xlabel("frame")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def table(results: dict) -> str:
    lines = [
        f"{results['machine']}",
        "",
        f"Fresh PPO (`{CONFIG}`, {results['budget']:,} env steps) on the {results['reward']} reward of AIRL "
        "(`zoo_configs/airl_bc_warm_start.yml`), "
        f"scored in 20 whole games (10,000 frames); expert {results['expert_value']:.1f} pipes.",
        "",
        "| seed | AIRL's own policy | PPO on AIRL's reward | % of expert | PPO's games (frames) | agrees "
        "| reward/frame: expert, never flaps, random, PPO | PPO's training (s) |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in results["runs"]:
        m = row["mean_reward"]
        means = ", ".join(f"{m[k]:.2f}" for k in ("expert", "never flaps", "random", "transferred PPO"))
        share = 100 * row["value"] / results["expert_value"]
        lines.append(
            f"| {row['seed']} | {row['airl_value']:.1f} | {row['value']:.1f} | {share:.0f}% "
            f"| {row['frames']['transferred PPO']:,.0f} | {100 * row['agrees']:.1f}% | {means} | {row['seconds']:.0f} |"
        )
    values = [row["value"] for row in results["runs"]]
    lines += [
        "",
        f"PPO on AIRL's reward: {np.mean(values):.1f} ± {np.std(values):.1f} pipes over {len(values)} seeds. "
        "Frames and reward per frame: 10 games of at most 2,000 frames each (the expert: its 10 demonstration games).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--zoo-out", type=Path, default=Path("benchmark_runs/imitation_zoo"), help="imitation_zoo.py's --out")
    parser.add_argument("--out", type=Path, default=Path("benchmark_runs/airl_transfer"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "airl_transfer")
    parser.add_argument("--budget", type=int, default=None, help="cut the PPO's env steps (the zoo's -n)")
    parser.add_argument("--plot-seed", type=int, default=0)
    parser.add_argument(
        "--reward",
        choices=("unshaped", "shaped"),
        default="unshaped",
        help="LearnedReward's reward (the config's: unshaped); shaped gets its own --out and --results",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from imitation_zoo import prepare

    from sb3_behave.stack import stack_name

    out = args.out.resolve() / ("" if args.reward == "unshaped" else args.reward)
    if args.reward != "unshaped":
        args.results = args.results / args.reward
    setup = prepare("flappy", args.zoo_out.resolve() / "flappy" / stack_name())
    demos = args.zoo_out.resolve() / "flappy" / stack_name() / "demos" / "flappy_strong"
    budget = args.budget or zoo_steps("ppo_learned_reward", FLAPPY)
    results = {"machine": machine(), "budget": budget, "expert_value": setup["expert_value"], "reward": args.reward}
    results["runs"] = []
    for seed in args.seeds:
        airl = airl_run(args.zoo_out, seed)
        value, seconds, ppo_run = transfer(seed, airl, out, args.budget, args.reward)
        airl_value = evaluate_run("airl", FLAPPY, airl.parent.parent, exp_id=int(airl.name.rsplit("_", 1)[1]))
        found = what_it_rewards(airl, ppo_run, demos, args.reward)
        if seed == args.plot_seed:
            args.results.mkdir(parents=True, exist_ok=True)
            plot(found, args.results / "reward_along_a_game.png")
        row = {"seed": seed, "value": value, "seconds": round(seconds, 1), "airl_value": airl_value, "airl_run": str(airl)}
        row |= {key: found[key] for key in ("agrees", "mean_reward", "frames")}
        results["runs"].append(row)
        print(
            f"seed {seed}: PPO on AIRL's reward {value:.1f} pipes (AIRL {airl_value:.1f}), agrees {row['agrees']:.3f}",
            flush=True,
        )
    text = table(results)
    write_atomically(args.results / "results.json", json.dumps(results, indent=2))
    write_atomically(args.results / "table.md", text)
    print(text)


if __name__ == "__main__":
    main()
