"""A workspace and plans for the batch-mode tests: basic envs and command cases only, so
each plan runs in a fraction of a second with real processes."""

from __future__ import annotations

import textwrap
from pathlib import Path

WORKSPACE = """
[envs.unit]
isolation = "basic"

[envs.other]
isolation = "basic"

[suites.smoke]
envs = ["unit"]

[[suites.smoke.cases]]
name = "ok"
kind = "command"
command = "true"

[[suites.smoke.cases]]
name = "greets"
kind = "command"
command = "echo hello"
expect = { stdout_contains = "hello" }

[suites.broken]
envs = ["unit"]

[[suites.broken.cases]]
name = "bad"
kind = "command"
command = "sh -c 'echo boom >&2; exit 4'"

[suites.slow]
envs = ["unit"]
sequential = true

[[suites.slow.cases]]
name = "quick"
kind = "command"
command = "true"

[[suites.slow.cases]]
name = "sleeps"
kind = "command"
command = "sleep 60"
"""

# Two independent branches: the broken run fails, the smoke run and what needs it go on.
BRANCHES = """
[plan]
name = "branches"

[envs.extra]
isolation = "basic"

[[steps]]
id = "smoke"
kind = "run"
suites = ["smoke"]
envs = ["unit", "extra"]

[[steps]]
id = "broken"
kind = "run"
suites = ["broken"]

[[steps]]
id = "after-smoke"
kind = "exec"
env = "extra"
command = "echo after"
needs = ["smoke"]

[[steps]]
id = "after-broken"
kind = "exec"
env = "unit"
command = "echo never"
needs = ["broken"]

[[steps]]
id = "report"
kind = "report"
run = "broken"
formats = ["junit", "json"]
"""


def write_workspace(root: Path, extra: str = "") -> Path:
    """The batch test workspace (ptest.toml with the suites above) at ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ptest.toml").write_text(WORKSPACE + textwrap.dedent(extra))
    return root


def write_plan(folder: Path, text: str, name: str = "plan.toml") -> Path:
    """A plan file in ``folder``."""
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path
