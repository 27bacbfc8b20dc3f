"""Batch mode keeps the config live and turns threshold crossings into warning lines."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Cli
from tests.support.batch_plans import write_plan, write_workspace

PLAN = """
[plan]
name = "slow"

[[steps]]
id = "wait"
kind = "exec"
env = "unit"
command = "sleep 1.5"
"""


def test_a_threshold_crossing_is_a_warning_line(tmp_path: Path) -> None:
    # No disk has a petabyte free: the host crosses disk_free on the first sample.
    cli = Cli(write_workspace(tmp_path / "ws", '[monitor]\ninterval = 0.2\ndisk_free = "1024t"\n'))
    plan = write_plan(tmp_path, PLAN)
    result = cli.run("batch", str(plan))
    assert result.returncode == 0, str(result)
    warnings = [line for line in result.stdout.splitlines() if " WARNING " in line]
    assert warnings and "free" in warnings[0], str(result)
