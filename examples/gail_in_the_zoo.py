"""GAIL on Flappy Bird, trained by the RL Zoo from zoo_configs/gail.yml: demonstrations, training, curves, video.

    python examples/gail_in_the_zoo.py                      # the config's 500,000 steps
    python examples/gail_in_the_zoo.py --timesteps 100000   # a shorter run
    python examples/gail_in_the_zoo.py --config gail_bc_warm_start   # the generator starts from a BC clone

It runs, from Python, the same commands the docs give for the shell (docs/guide/zoo.md):

    sb3-behave record-demos --skill strong --episodes 10 --out demos/flappy_strong
    sb3-behave train --algo gail --env sb3_behave/FlappyBird-v0 -conf zoo_configs/gail.yml --vec-env flappy -tb runs
    sb3-behave record-video --algo gail --env sb3_behave/FlappyBird-v0 -f logs -n 1000

(with ``--vec-env flappy`` the zoo trains on one ``FlappyBirdVecEnv``), then reads the run's
TensorBoard curves back and plays the trained agent with ``sb3_behave.zoo.load_agent``.
"""

import argparse
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_behave.cli import main as sb3_behave
from sb3_behave.envs import evaluate_flappy_policy
from sb3_behave.zoo import load_agent

CONFIGS = Path(__file__).resolve().parent.parent / "zoo_configs"
FLAPPY = "sb3_behave/FlappyBird-v0"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--episodes", type=int, default=10, help="demonstration games")
parser.add_argument("--max-episode-steps", type=int, default=None, help="shorter demonstration games")
parser.add_argument("--timesteps", type=int, default=None, help="env steps (default: the config's)")
parser.add_argument("--video-steps", type=int, default=1000, help="frames of the video (0: no video)")
parser.add_argument(
    "--config",
    choices=("gail", "gail_bc_warm_start"),
    default="gail",
    help="zoo_configs/<config>.yml; gail_bc_warm_start starts the generator from a behavioural clone (BCWarmStartCallback)",
)
args = parser.parse_args()

record = ["record-demos", "--skill", "strong", "--episodes", str(args.episodes), "--out", "demos/flappy_strong"]
if args.max_episode_steps:
    record += ["--max-episode-steps", str(args.max_episode_steps)]
if not Path("demos/flappy_strong").is_dir():
    assert sb3_behave(record) == 0

config = str(CONFIGS / f"{args.config}.yml")
train = ["train", "--algo", "gail", "--env", FLAPPY, "-conf", config, "-tb", "runs", "--seed", "0"]
train += ["--vec-env", "flappy"]  # all games in one FlappyBirdVecEnv: the same training as the zoo's DummyVecEnv, faster
if args.timesteps:
    train += ["-n", str(args.timesteps)]
assert sb3_behave([*train, "--eval-freq", "-1", "--verbose", "0"]) == 0

run = sorted(Path("runs", FLAPPY.replace("/", "-")).glob("GAIL_*"))[-1]
events = EventAccumulator(str(run))
events.Reload()
tags = ["mean/disc/disc_loss", "mean/disc/disc_acc", "mean/gen/rollout/ep_rew_mean"]
if args.config == "gail_bc_warm_start":  # what the clone learned before the first GAIL round
    tags += ["warm_start/bc_accuracy", "warm_start/actor_share"]
for tag in tags:
    last = events.Scalars(tag)[-1]
    print(f"TensorBoard {run}: {tag} = {last.value:.3f} at step {last.step}")

model = load_agent("gail", FLAPPY, folder="logs")
result = evaluate_flappy_policy(model, games=5, max_frames=2000)
print(f"GAIL agent: {result['score']:.1f} pipes on average over 5 games of 2000 frames")

if args.video_steps > 0:
    try:
        import moviepy  # noqa: F401
    except ImportError:
        print("no video: pip install 'sb3-behave[video]'")
    else:
        assert sb3_behave(["record-video", "--algo", "gail", "--env", FLAPPY, "-f", "logs", "-n", str(args.video_steps)]) == 0
        print("video:", *sorted(Path("logs", "gail").rglob("*.mp4")))
