"""Make the documentation screenshots from the real app on a small example workspace.

    .venv/bin/python screenshots/make_screenshots.py            # writes screenshots/*.png
    .venv/bin/python screenshots/make_screenshots.py --keep-svg # keep the SVGs as well

A temporary workspace ``example`` gets real environments (a basic and a virtualenv one,
plus one only declared in ptest.toml), the app is driven with Textual's Pilot like a
person would, and each screen is saved with ``App.save_screenshot`` (SVG) and converted
to PNG with ``rsvg-convert`` (Debian package librsvg2-bin).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerError

from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp

HERE = Path(__file__).resolve().parent
SIZE = (120, 36)
WORKSPACE = """\
[workspace]
name = "example"

[envs.integration]
memory = "512m"
cpus = 1
description = "API tests against a container with limits"
"""

Step = Callable[[Pilot[int]], Awaitable[None]]


async def settle(pilot: Pilot[int]) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(6):
        for worker in list(pilot.app.workers):
            with contextlib.suppress(WorkerError):  # superseded readers are cancelled
                await worker.wait()
        await pilot.pause()


async def main_screen(pilot: Pilot[int]) -> None:
    """The main screen after running a command in the virtualenv env."""
    await settle(pilot)
    await pilot.press("j", "j", "e")
    await pilot.press(*'python -c "import this"')
    await pilot.press("enter")
    await settle(pilot)
    # The notification toast would cover the log in a still picture.
    pilot.app.clear_notifications()
    await pilot.pause()


async def create_dialog(pilot: Pilot[int]) -> None:
    """The create dialog, with the live reason for the automatic choice."""
    await settle(pilot)
    await pilot.press("c", *"api-limits", "tab", "tab", "tab", *"512m")
    await pilot.pause()


async def help_screen(pilot: Pilot[int]) -> None:
    """The key list."""
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


SHOTS: dict[str, Step] = {
    "main": main_screen,
    "create-dialog": create_dialog,
    "help": help_screen,
}


async def shoot(root: Path, name: str, step: Step, out: Path) -> Path:
    """Run the app on ``root``, perform ``step`` and save ``out/name.svg``."""
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        async with app.run_test(size=SIZE) as pilot:
            await step(pilot)
            svg = Path(app.save_screenshot(f"{name}.svg", str(out)))
            await pilot.press("escape")
        return svg


def for_rsvg(svg: str) -> str:
    """Make Rich's SVG render with correct spacing in rsvg-convert.

    Rich writes spaces as no-break spaces, which rsvg draws zero-width with the usual
    fallback monospace fonts, so text drifts left ("Entercreate"); plain spaces with
    ``xml:space="preserve"`` keep every cell in place.
    """
    svg = svg.replace("&#160;", " ")
    root = '<svg class="rich-terminal"'
    return svg.replace(root, '<svg xml:space="preserve" class="rich-terminal"', 1)


def make_workspace(parent: Path) -> Path:
    """A fresh example workspace with real environments."""
    root = parent / "example"
    root.mkdir()
    (root / "ptest.toml").write_text(WORKSPACE)
    with Session.open(workspace=root, environ={}) as session:
        session.create_env("lint", description="ruff and mypy, no Python of its own")
        session.create_env("unit", isolation="virtualenv", description="fast unit tests")
    return root


def main(argv: list[str] | None = None) -> int:
    """Make every screenshot; returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--keep-svg", action="store_true", help="keep the SVG files")
    args = parser.parse_args(argv)
    converter = shutil.which("rsvg-convert")
    if converter is None:
        print("rsvg-convert not found (hint: apt-get install librsvg2-bin)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        root = make_workspace(Path(scratch))
        for name, step in SHOTS.items():
            svg = asyncio.run(shoot(root, name, step, Path(scratch)))
            flat = svg.with_suffix(".flat.svg")
            flat.write_text(for_rsvg(svg.read_text()))
            png = args.out / f"{name}.png"
            subprocess.run([converter, str(flat), "-o", str(png)], check=True)
            if args.keep_svg:
                shutil.copy(svg, args.out / svg.name)
            print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
