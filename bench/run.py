"""`make bench`: every benchmark in sequence, each writing its own section of bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys

STEPS = [
    ["bench.intake", "--seconds", "10"],
    ["bench.processing", "--messages", "2000"],
    ["bench.realtime_latency"],
    ["bench.inbox_queries", "--scale", "full"],
]


def main() -> None:
    selected = set(sys.argv[1:])
    for module, *args in STEPS:
        if selected and module.removeprefix("bench.") not in selected:
            continue
        print(f"== {module}", flush=True)
        subprocess.run([sys.executable, "-m", module, *args], check=True)


if __name__ == "__main__":
    main()
