"""Monitor overhead (issue 7): 20 envs sampled at 1 Hz must cost <= 1% of one core.

20 real envs (basic by default; ``--docker`` for docker envs) each run a sleeping process
started by ``ptest-tui env exec`` in its own process, as a user would. This process then
runs only the Monitor (host + 20 envs, the default targets) for ``--seconds`` at
``--interval`` and reports its own CPU time (every thread: the sampling loop and, for
docker, the stats streams) over the wall-clock time. A second figure is the whole
``ptest-tui monitor --json`` command over the same time, start-up included.

Run: .venv/bin/python benchmarks/bench_monitor.py [--envs 20] [--seconds 30] [--docker]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import PTEST, clean_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ptest_tui.monitor import Monitor
from ptest_tui.session import Session


def start_sleepers(
    ws: Path, names: list[str], env: dict[str, str]
) -> list[subprocess.Popen[bytes]]:
    """``ptest-tui env exec NAME -- sleep 600`` for each env, left running."""
    procs = []
    for name in names:
        log = open(ws.parent / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen(
            [PTEST, "env", "exec", name, "--", "sleep", "600"], cwd=ws, env=env,
            stdout=log, stderr=subprocess.STDOUT,
        ))
        log.close()
    time.sleep(1.0)
    for name, proc in zip(names, procs, strict=True):
        if proc.poll() is not None:
            text = (ws.parent / f"{name}.log").read_text(errors="replace").strip()
            raise SystemExit(f"env exec {name} exited with {proc.returncode}: {text[-300:]}")
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGINT)  # ptest-tui stops the command's whole tree
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_sampled(session: Session, names: list[str]) -> None:
    """Until the monitor sees one process in every env (the sleepers have started)."""
    deadline = time.monotonic() + 120
    with Monitor(session, names, interval=0.5, publish=False) as monitor:
        for tick in monitor.run():
            busy = [s for s in tick.samples if s.state == "running" and s.processes]
            if len(busy) == len(names) or time.monotonic() > deadline:
                if len(busy) != len(names):
                    idle = [s.target for s in tick.samples if not s.processes]
                    raise SystemExit(f"only {len(busy)} of {len(names)} envs run their"
                                     f" sleeper (idle: {', '.join(idle)})")
                return


def measure_in_process(session: Session, seconds: float, interval: float) -> dict[str, float]:
    """CPU time of this process while the monitor alone runs for ``seconds``."""
    ticks = max(1, round(seconds / interval))
    with Monitor(session, interval=interval) as monitor:
        monitor.prime()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        last = None
        for last in monitor.run(count=ticks):  # noqa: B007 - the last tick is checked below
            pass
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stats = monitor._scanner.stats
    assert last is not None
    running = sum(1 for s in last.samples if s.target_kind == "env" and s.processes)
    return {
        "ticks": ticks, "targets": len(last.samples), "running": running, "cpu": cpu,
        "wall": wall, "percent": cpu / wall * 100, "pids": stats.pids, "tagged": stats.tagged,
    }


def measure_command(ws: Path, env: dict[str, str], seconds: float, interval: float) -> float:
    """Percent of a core used by the whole ``ptest-tui monitor --json`` command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    subprocess.run(
        [PTEST, "monitor", "--json", "--count", str(round(seconds / interval)),
         "--interval", str(interval)],
        cwd=ws, env=env, stdout=subprocess.DEVNULL, check=True,
    )
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu / wall * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--docker", action="store_true", help="docker envs instead of basic")
    args = parser.parse_args()
    isolation = "docker" if args.docker else "basic"
    root = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    ws = root / "ws"
    ws.mkdir()
    (ws / "ptest.toml").write_text("[workspace]\n")
    env = clean_env() | {"PTEST_CACHE_DIR": str(root / "cache")}
    names = [f"e{i:02d}" for i in range(args.envs)]
    session = Session.open(workspace=ws, environ={})
    sleepers: list[subprocess.Popen[bytes]] = []
    try:
        outcomes = session.create_envs([session.spec_for(n, isolation=isolation) for n in names])
        failed = [o for o in outcomes if o.error is not None]
        if failed:
            raise SystemExit(f"creating envs failed: {failed[0].error}")
        sleepers = start_sleepers(ws, names, env)
        wait_until_sampled(session, names)
        figures = measure_in_process(session, args.seconds, args.interval)
        command = measure_command(ws, env, args.seconds, args.interval)
    finally:
        stop(sleepers)
        if any(r.name in names for r in session.store.list_envs()):
            session.delete_envs([r.name for r in session.store.list_envs()])
        session.close()
        shutil.rmtree(root, ignore_errors=True)
    scanned = (f", /proc scan: {figures['pids']:.0f} processes ({figures['tagged']:.0f} in envs)"
               if figures["pids"] else "")
    print(f"{isolation} envs: {args.envs}, interval {args.interval:g} s, {os.cpu_count()} cores"
          + scanned)
    print("| what | targets | ticks | CPU s | wall s | % of one core |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| Monitor in-process ({figures['running']:.0f} envs running) |"
          f" {figures['targets']:.0f} | {figures['ticks']:.0f} | {figures['cpu']:.3f} |"
          f" {figures['wall']:.1f} | {figures['percent']:.2f} |")
    print(f"| `ptest-tui monitor --json` (whole command, start-up included) |"
          f" {figures['targets']:.0f} | {figures['ticks']:.0f} | | | {command:.2f} |")


if __name__ == "__main__":
    main()
