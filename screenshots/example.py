"""The example workspace the screenshots are made on: real envs, packages, objects, suites.

Packages come from the test suite's tiny wheel corpus (``tests/support/wheels.py``: alpha,
beta, gamma, tool, ...) served by its local simple index (``tests/support/index_server.py``)
on 127.0.0.1, so nothing touches the internet and the Packages pane can show newer versions.
Everything is made through the real engine (``Session``); only the one conflict is forced
in with ``uv pip install --no-deps``, the way a person breaks an env by hand, because the
engine refuses to install a conflict.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script: the repo root holds the tests package
    sys.path.insert(0, str(ROOT))

from ptest_tui.session import Session  # noqa: E402
from tests.support import isolated_env, uv_binary  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.wheels import Corpus, build_wheel, make_corpus  # noqa: E402

__all__ = ["Corpus", "IndexServer", "add_wheels", "make_corpus", "make_workspace", "tidy_up"]

BUSY_SCRIPT = "load.py"  # in the workspace root, where `e` runs commands
BUSY_COMMAND = f"python {BUSY_SCRIPT}"
CPU_THRESHOLD = 50  # percent of one core: the waves of load.py cross it
MEMORY_THRESHOLD = "96m"  # below the top of load.py's sawtooth

WORKSPACE = """\
[workspace]
name = "example"

[packages]
index_url = "{index_url}"

[monitor]
interval = 0.5
retention = "1m"
cpu_percent = {cpu}
memory = "{memory}"

[envs.integration]
memory = "512m"
cpus = 1
description = "API tests against a container with limits"

[objects.notes]
kind = "sqlite"
schema = "db/schema.sql"
seed = "db/seed.sql"

[objects.docs]
kind = "web"
command = "python3 -m http.server {{port}} --bind 127.0.0.1"

[suites.smoke]
description = "quick checks of the example project"
envs = ["lint"]

[[suites.smoke.cases]]
name = "greeting"
kind = "command"
command = "sh -c 'echo hello from $PTEST_ENV'"
expect = {{ stdout_contains = "hello from lint" }}

[[suites.smoke.cases]]
name = "python"
kind = "command"
command = "python3 --version"
expect = {{ stdout_regex = '^Python 3[.]' }}

[[suites.smoke.cases]]
name = "settings"
kind = "command"
command = "sh -c 'echo reading settings.toml; echo \\"missing key: timeout\\" >&2; exit 3'"

[[suites.smoke.cases]]
name = "banner"
kind = "command"
command = "echo example 1.4.2"
expect = {{ stdout_regex = '^example 2[.]' }}

[suites.unit]
description = "the installed tools work"
envs = ["unit"]

[[suites.unit.cases]]
name = "tool-hello"
kind = "command"
command = "tool-hello"
expect = {{ stdout_contains = "hello" }}

[[suites.unit.cases]]
name = "imports"
kind = "command"
command = "python -c 'import alpha, beta, gamma'"
"""

# CPU in slow waves (about 10% to 90% of one core, a 30 s period), memory in a sawtooth (up
# to about 120 MiB, then freed) and bursts of disk writes, so the graphs have a shape and
# cross the thresholds.
LOAD = """\
import math
import os
import time

start = time.monotonic()
blocks = []
ticks = 0
while time.monotonic() - start < 900:
    share = 0.5 + 0.4 * math.sin((time.monotonic() - start) / 5)
    until = time.monotonic() + 0.2 * share
    while time.monotonic() < until:
        pass
    time.sleep(0.2 * (1 - share))
    blocks.append(bytearray(b"x") * (1 << 20))  # written, so resident
    if len(blocks) >= 120:
        blocks.clear()
    ticks += 1
    if ticks % 5 == 0:  # some disk writes too, synced so they reach the disk
        with open("load.tmp", "wb") as scratch:
            scratch.write(os.urandom(int(share * (2 << 20))))
            scratch.flush()
            os.fsync(scratch.fileno())
    if ticks % 10 == 0:
        print(f"load: cpu {share:.0%} of a core, {len(blocks)} MiB held", flush=True)
"""

# (name, version, requires): example-client 0.4 is the newer version the pane points at.
EXTRA_WHEELS = (
    ("example-utils", "1.2.0", ()),
    ("example-client", "0.3.0", ("example-utils>=1.0", "tool>=1.0")),
    ("example-client", "0.4.0", ("example-utils>=1.2", "tool>=1.0")),
)

SCHEMA = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
SEED = "INSERT INTO notes (body) VALUES ('first note'), ('second note');\n"


def write_files(root: Path, index_url: str) -> None:
    """ptest.toml, the busy script and the sqlite object's SQL."""
    root.mkdir(parents=True)
    text = WORKSPACE.format(index_url=index_url, cpu=CPU_THRESHOLD, memory=MEMORY_THRESHOLD)
    (root / "ptest.toml").write_text(text)
    (root / BUSY_SCRIPT).write_text(LOAD)
    (root / "db").mkdir()
    (root / "db" / "schema.sql").write_text(SCHEMA)
    (root / "db" / "seed.sql").write_text(SEED)


def force_install(session: Session, env: str, corpus: Corpus, *pins: str) -> None:
    """Install ``pins`` without their dependencies: the engine would refuse the conflict."""
    python = session.get_env(env).engine_state["python"]
    subprocess.run(
        [str(uv_binary()), "pip", "install", "--python", python, "--no-deps", "--no-index",
         "--find-links", str(corpus.root), *pins],
        env=isolated_env(corpus.root.parent / "force-cache"), check=True, capture_output=True,
    )


def add_wheels(corpus: Corpus) -> None:
    """A few more wheels beside the corpus, so the Packages pane has dependencies to show."""
    for name, version, requires in EXTRA_WHEELS:
        build_wheel(corpus.root, name, version, requires)


def make_workspace(parent: Path, corpus: Corpus, index_url: str) -> Path:
    """A fresh example workspace with real environments and packages; returns its root."""
    root = parent / "example"
    write_files(root, index_url)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("lint", description="ruff and mypy, no Python of its own")
        session.create_env("unit", isolation="virtualenv", description="fast unit tests")
        session.create_env("api", isolation="virtualenv", description="the HTTP API")
        session.install("unit", ["gamma", "example-client==0.3.0"])  # gamma -> beta<2 -> alpha>=1.1
        # beta 1.0 needs alpha>=1.1: a conflict the Packages pane shows in red.
        force_install(session, "unit", corpus, "alpha==1.0")
        session.packages("unit")  # a listing stores the count the Pkgs column shows
        session.install("api", ["tool", "alpha==1.1"])
        home = root / ".ptest" / "envs" / "api" / "home"
        (home / "notes.txt").write_text("files in the env's HOME move with it\n")
    return root


def tidy_up(root: Path) -> list[str]:
    """Stop the objects and delete the envs (containers included); returns the problems."""
    problems: list[str] = []
    try:
        session = Session.open(workspace=root, environ={})
    except Exception as exc:
        return [f"cannot open {root}: {exc}"]
    with session:
        for view in session.objects.views():
            try:
                session.objects.stop(view.name)
            except Exception as exc:  # keep tidying the rest
                problems.append(f"object {view.name}: {exc}")
        for record in session.store.list_envs():
            try:
                session.delete_env(record.name, force=True)
            except Exception as exc:
                problems.append(f"env {record.name}: {exc}")
    return problems
