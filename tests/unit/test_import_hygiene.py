"""Nothing outside ptest_tui.tui imports textual (checked in a fresh interpreter per module)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ptest_tui

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(ptest_tui.__path__, prefix="ptest_tui.")
    if not info.name.startswith("ptest_tui.tui") and info.name != "ptest_tui.__main__"
)


@pytest.mark.parametrize("module", MODULES)
def test_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} imports {done.stdout.strip()}"


def test_cli_help_for_every_command_skips_textual_and_docker() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from ptest_tui.cli.main import build_parser, main\n"
        "parser = build_parser()\n"
        "commands = [a for a in parser._subparsers._group_actions[0].choices]\n"
        "for cmd in [[]] + [[c] for c in commands]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main([*cmd, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "heavy = ('textual', 'docker')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_import_linter_contract() -> None:
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_batch_mode_never_imports_textual(tmp_path: Path) -> None:
    """``ptest-tui --batch`` runs a whole plan (envs, a run, a report) without textual."""
    (tmp_path / "ptest.toml").write_text(
        '[envs.unit]\nisolation = "basic"\n[suites.s]\nenvs = ["unit"]\n'
        '[[suites.s.cases]]\nname = "ok"\nkind = "command"\ncommand = "true"\n'
    )
    (tmp_path / "plan.toml").write_text(
        '[[steps]]\nid = "t"\nkind = "run"\n[[steps]]\nkind = "report"\nrun = "t"\n'
    )
    code = (
        "import sys, contextlib, io\n"
        "from ptest_tui.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['--batch', 'plan.toml', '--json'])\n"
        "assert code == 0, code\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
