"""10,000 command cases in parallel through `ptest-tui run` (issue 5): time and peak memory.

Side by side in the same run: the same 10,000 commands started by `xargs -P N` (the floor:
process starts only, no checks, no capture, no history), and `ptest-tui run` with results
checked, captured, streamed as events and stored. The figure to hold: the ptest-tui
process stays under 300 MB.

Run: .venv/bin/python benchmarks/bench_runs.py [--cases 10000] [--parallel 8]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from _util import PTEST, clean_env, run_with_peak_rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    ws = root / "ws"
    ws.mkdir()
    lines = ['[envs.unit]\nisolation = "basic"\n\n[suites.many]\nenvs = ["unit"]\n']
    lines += [
        f'[[suites.many.cases]]\nname = "c{i}"\nkind = "command"\ncommand = "echo case {i}"\n'
        f'expect = {{ stdout_contains = "case {i}" }}\n'
        for i in range(args.cases)
    ]
    (ws / "ptest.toml").write_text("\n".join(lines))
    env = clean_env() | {"PTEST_CACHE_DIR": str(root / "cache")}
    subprocess.run([PTEST, "env", "create", "unit"], cwd=ws, env=env, check=True,
                   capture_output=True)

    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(args.parallel), "-n", "2", "echo"],
        input="\n".join(f"case {i}" for i in range(args.cases)).encode(),
        stdout=subprocess.DEVNULL, check=True,
    )
    xargs_seconds = time.perf_counter() - start

    seconds, peak, code, stderr = run_with_peak_rss(
        [PTEST, "run", "--parallel", str(args.parallel), "-q"], ws
    )
    if code != 0:
        raise SystemExit(f"ptest-tui run failed ({code}): {stderr[-500:]}")
    print("| what | cases | parallel | seconds | peak RSS MiB |")
    print("|---|---|---|---|---|")
    print(f"| xargs -P {args.parallel} echo (floor) | {args.cases} | {args.parallel} |"
          f" {xargs_seconds:.2f} | |")
    print(f"| ptest-tui run (checked, captured, stored) | {args.cases} | {args.parallel} |"
          f" {seconds:.2f} | {peak / 2**20:.0f} |")


if __name__ == "__main__":
    main()
