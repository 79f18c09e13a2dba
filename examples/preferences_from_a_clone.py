"""Preference comparisons on Flappy Bird from a behavioural clone, with a positive reward for the policy.

    python examples/preferences_from_a_clone.py                                   # the config's budget
    python examples/preferences_from_a_clone.py --timesteps 300000 --comparisons 200 --iterations 8   # shorter

It runs, from Python, the commands the docs give for the shell (docs/guide/preferences.md):

    sb3-behave record-demos --skill strong --episodes 10 --out demos/flappy_strong
    sb3-behave train --algo preference_comparisons --env sb3_behave/FlappyBird-v0 --vec-env flappy \
        -conf zoo_configs/preference_comparisons_bc_warm_start.yml -tb runs

The demonstrations only start the policy (``BCWarmStartCallback``); what it learns after that comes
from a reward model fitted to preferences between clips of its own games, answered from the env's
reward (synthetic answers). The config pays the policy ``softplus`` of that model
(``generator_reward: positive``): the model's level is not fixed by preferences between clips of
equal length, and where it is negative, crashing at once is the best answer. The example then
reads the run's TensorBoard curves back and scores the agent.
"""

import argparse
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.cli import main as sb3_behave
from sb3_behave.envs import evaluate_flappy_policy
from sb3_behave.zoo import load_agent

CONFIG = Path(__file__).resolve().parent.parent / "zoo_configs" / "preference_comparisons_bc_warm_start.yml"
FLAPPY = "sb3_behave/FlappyBird-v0"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=10, help="demonstration games")
parser.add_argument("--max-episode-steps", type=int, default=None, help="shorter demonstration games")
parser.add_argument("--timesteps", type=int, default=None, help="the policy's env steps (default: the config's)")
parser.add_argument("--comparisons", type=int, default=None, help="preferences asked (default: the config's)")
parser.add_argument("--iterations", type=int, default=None, help="reward-model / policy iterations (default: the config's)")
parser.add_argument("--games", type=int, default=5, help="evaluation games")
args = parser.parse_args()

if not Path("demos/flappy_strong").is_dir():
    record = ["record-demos", "--skill", "strong", "--episodes", str(args.episodes), "--out", "demos/flappy_strong"]
    assert sb3_behave(record + (["--max-episode-steps", str(args.max_episode_steps)] if args.max_episode_steps else [])) == 0

train = ["train", "--algo", "preference_comparisons", "--env", FLAPPY, "--vec-env", "flappy", "-conf", str(CONFIG)]
train += ["-tb", "runs", "--seed", "0", "--eval-freq", "-1", "--verbose", "0"]
if args.timesteps:
    train += ["-n", str(args.timesteps)]
params = {"total_comparisons": args.comparisons, "num_iterations": args.iterations}
if any(value is not None for value in params.values()):
    train += ["-params", *(f"{key}:{value}" for key, value in params.items() if value is not None)]
assert sb3_behave(train) == 0

run = sorted(Path("runs", FLAPPY.replace("/", "-")).glob("PreferenceComparisons_*"))[-1]
events = EventAccumulator(str(run))
events.Reload()
for tag in (
    "warm_start/bc_accuracy",  # the clone, before the first iteration
    "reward/final/train/accuracy",  # the reward model's agreement with the answers
    "mean/agent/rollout/ep_rew_wrapped_mean",  # the policy's return under the positive learned reward
    "mean/agent/rollout/ep_len_mean",  # frames a training game lasts
):
    last = events.Scalars(tag)[-1]
    print(f"TensorBoard {run}: {tag} = {last.value:.3f} at step {last.step}")

model = load_agent("preference_comparisons", FLAPPY, folder="logs", hub=False)
print(f"generator_reward: {model.generator_reward}, {model.comparisons} answers trained on")
found = evaluate_flappy_policy(model, games=args.games, max_frames=10_000)
print(f"preference-comparisons agent: {found['score']:.1f} pipes a game ({args.games} games)")
