"""What GAIL's and AIRL's generators were doing at the end of their runs: the last values logged by imitation.

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

KEYS = {
    "gen/rollout/ep_len_mean": "episode length (frames)",
    "gen/rollout/ep_rew_wrapped_mean": "episode return, learned reward",
    "gen/train/entropy_loss": "entropy loss (minus the entropy, nats)",
    "disc/disc_acc": "discriminator accuracy",
    "gen/time/total_timesteps": "env steps",
}


def last_values(log: Path) -> dict[str, str]:
    """The last value logged for each of :data:`KEYS` in ``log`` (a missing key: ``-``)."""
    found = {key: "-" for key in KEYS}
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"\|\s+([\w/]+)\s+\|\s+(\S+)\s+\|", line)
        if match and match.group(1) in found:
            found[match.group(1)] = match.group(2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", type=Path, metavar="LOG")
    args = parser.parse_args()
    missing = [str(log) for log in args.logs if not log.is_file()]
    if missing:
        parser.error(f"no such log: {', '.join(missing)}")
    print("| run | " + " | ".join(KEYS.values()) + " |")
    print("|---|" + "---:|" * len(KEYS))
    for log in args.logs:
        values = last_values(log)
        print(f"| {log.stem} | " + " | ".join(values[key] for key in KEYS) + " |")


if __name__ == "__main__":
    main()
