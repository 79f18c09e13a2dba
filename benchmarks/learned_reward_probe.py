"""What a trained GAIL or AIRL run's reward pays on Flappy Bird: the expert, its own policy, and two players it never saw.

    python benchmarks/learned_reward_probe.py --algo gail --run <out>/logs/gail_seed0_n5000000 \\
        --demos <out>/demos/flappy_strong --results benchmarks/results/imitation_zoo/probes/gail_n5000000/flappy/current

For four players (the expert's demonstration games; the run's own policy, a bird that never flaps
and random play, 10 games of at most 2,000 frames each), the reward net's output per frame as
``LearnedReward`` gives it (GAIL: the discriminator's logit; AIRL: its unshaped reward), what the
generator was paid for it (``softplus`` of it, GAIL's ``-log(1 - D)``), and the share of frames the
discriminator takes for the expert's (output above 0). ``agrees``: on the expert's frames, how often
the reward of the expert's action is above the other action's.

Results: ``--results/learned_reward.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from airl_transfer import expert_action_preferred, games, rewards_of
from common import FLAPPY, machine, write_atomically


def probe(algo: str, run: Path, demos: Path) -> dict:
    """The table's numbers for the final model of the zoo run folder ``run`` (``-f`` of ``sb3-behave train``)."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sb3_behave.agents import random_policy
    from sb3_behave.demos import load_demonstrations
    from sb3_behave.zoo import load_agent
    from sb3_behave.zoo.learned_reward import LearnedReward

    model = load_agent(algo, FLAPPY, folder=run, exp_id=0, hub=False)
    zips = sorted(run.glob(f"{algo}/*_*/*.zip"))
    if not zips:
        raise SystemExit(f"{run}: no {algo} model zip under {run / algo}")
    reward = LearnedReward(DummyVecEnv([lambda: gym.make(FLAPPY)]), model=zips[-1]).reward_fn
    expert = load_demonstrations(demos, env=FLAPPY)
    players = {
        "expert (its 10 demonstration games)": expert,
        f"{algo.upper()}'s own policy": games(lambda o: model.predict(o, deterministic=True)[0]),
        "never flaps": games(lambda o: 0),
        "random": games(random_policy(gym.make(FLAPPY), 0)),
    }
    rows = {}
    for name, trajectories in players.items():
        output = np.concatenate([rewards_of(reward, t) for t in trajectories])
        rows[name] = {
            "frames": float(np.mean([len(t.acts) for t in trajectories])),
            "output": float(output.mean()),
            "paid": float(np.logaddexp(0.0, output).mean()),
            "expert_like": float((output > 0).mean()),
        }
    preferred, acts = expert_action_preferred(reward, expert)
    return {
        "machine": machine(),
        "algo": algo,
        "run": str(run),
        "players": rows,
        "agrees": float(np.mean(preferred)),
        "agrees_on_flaps": float(np.mean(preferred[acts == 1])),
    }


def table(found: dict) -> str:
    lines = [
        f"The reward of `{found['run']}` ({found['algo'].upper()}), as `LearnedReward` gives it; {found['machine']}.",
        "",
        "| player | frames a game | reward net's output a frame | paid a frame (softplus) | frames taken for the expert's |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r['frames']:,.0f} | {r['output']:.2f} | {r['paid']:.2f} | {r['expert_like']:.1%} |"
            for name, r in found["players"].items()
        ),
        "",
        f"On the expert's frames the expert's action gets the higher reward {found['agrees']:.1%} of the time "
        f"({found['agrees_on_flaps']:.1%} where it flaps).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["gail", "airl"], required=True)
    parser.add_argument("--run", type=Path, required=True, help="the zoo run folder (`sb3-behave train -f`)")
    parser.add_argument("--demos", type=Path, required=True, help="the demonstrations the run learned from")
    parser.add_argument("--results", type=Path, required=True, help="folder for learned_reward.md and .json")
    args = parser.parse_args()
    found = probe(args.algo, args.run, args.demos)
    write_atomically(args.results / "learned_reward.json", json.dumps(found, indent=1))
    write_atomically(args.results / "learned_reward.md", table(found))
    print(table(found))


if __name__ == "__main__":
    main()
