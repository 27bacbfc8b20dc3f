"""Config hot reload (issue 7): from saving ptest.toml to the new config applied.

A Session watches its workspace (``Session.watch_config``, watchfiles); each run saves a
changed ptest.toml (a new env, written to a temporary file and renamed over the old one
as editors do) and times until the ``ConfigReloaded`` event arrives, by which point the
session's config is the new one. Target: <= 500 ms.

Run: .venv/bin/python benchmarks/bench_reload.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import tempfile
import time
from pathlib import Path

from _util import REPO, summarise

sys.path.insert(0, str(REPO))
from ptest_tui.events import ConfigReloaded, ConfigReloadFailed, Event
from ptest_tui.session import Session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    toml = root / "ptest.toml"
    toml.write_text('[envs.unit]\nisolation = "basic"\n')
    events: queue.Queue[Event] = queue.Queue()
    samples = []
    with Session.open(workspace=root, environ={}) as session:
        session.bus.subscribe(ConfigReloaded, events.put)
        session.bus.subscribe(ConfigReloadFailed, events.put)
        watcher = session.watch_config()
        watcher.ready.wait(10)
        for run in range(args.runs):
            text = f'[envs.unit]\nisolation = "basic"\n[envs.e{run}]\nisolation = "basic"\n'
            partial = root / "ptest.toml.tmp"
            partial.write_text(text)
            start = time.perf_counter()
            os.replace(partial, toml)
            event = events.get(timeout=10)
            samples.append(time.perf_counter() - start)
            assert isinstance(event, ConfigReloaded), event
            assert f"e{run}" in session.config.envs
            time.sleep(0.2)
        watcher.stop()
    print("| what | runs | median s | min s | max s |")
    print("|---|---|---|---|---|")
    print(summarise("save ptest.toml -> new config applied", samples).row())


if __name__ == "__main__":
    main()
