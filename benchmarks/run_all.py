"""Run every benchmark script in this folder and print their tables (``make bench``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_envs.py", "bench_resolve_check.py", "bench_packages.py", "bench_tui.py"]


def main() -> int:
    failed = 0
    for script in SCRIPTS:
        print(f"\n## {script}\n", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=False)
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
