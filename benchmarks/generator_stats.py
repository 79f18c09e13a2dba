"""What the generators of GAIL, AIRL and preference comparisons were doing at the end of their runs: imitation's last log.

    python benchmarks/generator_stats.py benchmark_runs/imitation_zoo/flappy/current/{gail,airl}_seed*_n2000000.log

Reads the training logs that ``benchmarks/imitation_zoo.py`` keeps (``<out>/<env>/<stack>/<run>.log``,
imitation's tables printed every round) and writes, for each, the last logged episode length,
episode return under the learned reward, policy entropy and discriminator accuracy, as a Markdown
table on stdout.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

#: The table's columns: imitation's key for the adversarial trainers' generator (``gen/``) and for
#: preference comparisons' (``agent/``), or the one key of the column.
KEYS = {
    "episode length (frames)": ("gen/rollout/ep_len_mean", "agent/rollout/ep_len_mean"),
    "episode return, learned reward": ("gen/rollout/ep_rew_wrapped_mean", "agent/rollout/ep_rew_wrapped_mean"),
    "entropy loss (minus the entropy, nats)": ("gen/train/entropy_loss", "agent/train/entropy_loss"),
    "discriminator accuracy (preferences: reward model's accuracy)": ("disc/disc_acc", "final/train/accuracy"),
    "env steps": ("gen/time/total_timesteps", "agent/time/total_timesteps"),
}


def last_values(log: Path) -> dict[str, str]:
    """The last value logged for each column of :data:`KEYS` in ``log`` (a column none of whose keys is there: ``-``)."""
    column = {key: label for label, keys in KEYS.items() for key in keys}
    found = dict.fromkeys(KEYS, "-")
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"\|\s+([\w/]+)\s+\|\s+(\S+)\s+\|", line)
        if match and match.group(1) in column:
            found[column[match.group(1)]] = match.group(2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", type=Path, metavar="LOG")
    args = parser.parse_args()
    missing = [str(log) for log in args.logs if not log.is_file()]
    if missing:
        parser.error(f"no such log: {', '.join(missing)}")
    print("| run | " + " | ".join(KEYS) + " |")
    print("|---|" + "---:|" * len(KEYS))
    for log in args.logs:
        values = last_values(log)
        print(f"| {log.stem} | " + " | ".join(values[label] for label in KEYS) + " |")


if __name__ == "__main__":
    main()
