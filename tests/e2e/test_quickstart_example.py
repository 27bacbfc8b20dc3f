"""The shipped example workspace works as the README says, on a copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.conftest import Cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_the_example_validates_and_its_smoke_suite_passes(tmp_path: Path) -> None:
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ptest"))
    cli = Cli(root)
    cli.ok("config", "validate")
    result = cli.run("run", "smoke")
    assert result.returncode == 0, str(result)
    assert "run 1 passed: 3 passed" in result.stdout
    assert {o["name"]: o["state"] for o in cli.json("obj", "list", "--json")} == {
        "docs": "stopped", "notes": "stopped"}
    cli.ok("env", "create", "unit")
    cli.ok("env", "exec", "unit", "--", "python", "-m", "unittest", "discover", "-s", "tests")
