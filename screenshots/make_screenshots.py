"""Make the documentation screenshots from the real app on a small example workspace.

    .venv/bin/python screenshots/make_screenshots.py              # writes screenshots/*.png
    .venv/bin/python screenshots/make_screenshots.py --only main  # just these pictures
    .venv/bin/python screenshots/make_screenshots.py --keep-svg   # keep the SVGs as well

A temporary workspace ``example`` (see ``example.py``) gets real environments (basic,
virtualenv, one only declared in ptest.toml), packages from a local index, test objects and
suites; the app is driven with Textual's Pilot like a person would (keys only), and each
screen is saved with ``App.save_screenshot`` (SVG) and converted to PNG with
``rsvg-convert`` (Debian package librsvg2-bin). A step that does not reach the state its
picture needs stops the script with a message naming it. Takes about two minutes: the
Resources picture waits for a full minute of samples, and the migration builds a container.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from driving import ShotError, app_of, capture, select_env, settle, type_text, wait_for
from example import (
    BUSY_COMMAND,
    CPU_THRESHOLD,
    IndexServer,
    add_wheels,
    make_corpus,
    make_workspace,
    tidy_up,
)
from svg_to_png import convert, find_converter
from textual.pilot import Pilot

from ptest_tui.errors import PtestError
from ptest_tui.session import Session
from ptest_tui.tui.app import PtestApp
from ptest_tui.tui.widgets.env_detail import EnvDetailPanel

HERE = Path(__file__).resolve().parent
SIZE = (140, 40)  # wide enough for every column of the environments table
Capture = Callable[[str], Awaitable[None]]
Scenario = Callable[[Pilot[int], Capture], Awaitable[None]]


# -- the tour: main screen and the four panes ---------------------------------------------


async def start_objects(pilot: Pilot[int]) -> None:
    """o (objects table), then o on each row starts it; wait until both run."""
    from ptest_tui.tui.widgets.objects_panel import ObjectsTable

    app = app_of(pilot)
    table = app.query_one(ObjectsTable)
    await wait_for(pilot, "the objects table to list notes and docs",
                   lambda: {"notes", "docs"} <= {row.name for row in table.rows_all})
    await pilot.press("o")
    for _ in table.rows_all:
        await pilot.press("o", "j")
        await settle(pilot)
    await wait_for(pilot, "both objects to be running",
                   lambda: [row.state for row in table.rows_all] == ["running"] * 2, 60)


async def busy_command(pilot: Pilot[int], env: str) -> None:
    """e, type the busy command, Enter; wait until the monitor sees it working."""
    app = app_of(pilot)
    await select_env(pilot, env)
    await pilot.press("e")
    await type_text(pilot, BUSY_COMMAND)
    await pilot.press("enter")

    def working() -> bool:
        # A few seconds in: some CPU, some memory held, a line of its output in the log.
        sample = app.usage.get(f"env:{env}")
        return bool(sample and (sample.cpu_percent or 0) > 10
                    and (sample.memory_bytes or 0) > 30 << 20)

    await wait_for(pilot, f"the monitor to see {BUSY_COMMAND!r} working in {env}", working)
    await wait_for(pilot, f"the output of {BUSY_COMMAND!r} in the log", lambda: any(
        "load:" in line for line in app.log_pane.plain_lines()))


async def packages_pane(pilot: Pilot[int], env: str, shoot: Capture) -> None:
    """2: the env's packages, the newer versions looked up, the cursor on a conflict."""
    from ptest_tui.tui.widgets.packages_pane import PackagesPane

    pane = app_of(pilot).query_one("#packages", PackagesPane)
    await pilot.press("2")
    await wait_for(pilot, f"the packages of {env} to load",
                   lambda: pane.view is not None and pane.view.env == env and pane.view.rows)
    await wait_for(pilot, "the newer-version lookup",
                   lambda: "looking for newer" not in pane.title_text, 60)
    if "problem" not in pane.title_text:
        raise ShotError(f"the Packages pane shows no conflict: {pane.title_text!r}")
    for _ in pane.table.rows_all:
        row = pane.table.selected_row
        if row is not None and row.name == "beta":
            break
        await pilot.press("j")
    await wait_for(pilot, "the reason of beta's conflict", lambda: "requires" in pane.detail_text)
    await shoot("packages")


async def results_pane(pilot: Pilot[int], shoot: Capture) -> None:
    """4, r, Enter (every suite); wait for the run; select the first failed case."""
    from ptest_tui.tui.widgets.results_pane import ResultsPane
    from ptest_tui.tui.widgets.results_tree import NodeRef

    app = app_of(pilot)
    pane = app.query_one("#results", ResultsPane)
    await pilot.press("4", "r")
    await wait_for(pilot, "the run dialog", lambda: type(app.screen).__name__ == "RunScreen")
    await pilot.press("enter")
    await wait_for(pilot, "the run to finish", lambda: any(
        run.status != "running" for run in app.session.runs.recent(1)), 120)
    await settle(pilot)
    failed = NodeRef("case", "1", "lint", "smoke", "settings")
    await wait_for(pilot, "the failed case in the tree", lambda: failed in pane.runs_tree.nodes)
    pane.runs_tree.focus()
    for _ in range(12):  # j down the tree, as a person would
        if pane.runs_tree.selected_ref == failed:
            break
        await pilot.press("j")
    if pane.runs_tree.selected_ref != failed:
        raise ShotError(f"could not reach {failed} in the Results tree")
    await wait_for(pilot, "the failed case's output", lambda: "missing key" in pane.detail.text)
    await shoot("results")


async def resources_pane(pilot: Pilot[int], env: str, shoot: Capture) -> None:
    """3: the busy env's graphs, once a whole window of samples is in."""
    from ptest_tui.tui.widgets.resources_pane import ResourcesPane

    app = app_of(pilot)
    pane = app.query_one("#resources", ResourcesPane)
    await pilot.press("3")

    def full() -> bool:
        monitor = pane.monitor
        if monitor is None or pane.target_key != f"env:{env}":
            return False
        samples = monitor.history(f"env:{env}").items()
        return len(samples) > 2 and samples[-1].at - samples[0].at >= pane.window * 0.95

    await wait_for(pilot, f"a full window of samples of {env}", full, 150)

    def near_peak() -> bool:
        sample = app.usage.get(f"env:{env}")
        return bool(sample and (sample.cpu_percent or 0) >= CPU_THRESHOLD)

    # Nicer on a crest of the load's wave (its alert shows); a busy machine may never get
    # there, which is no reason to fail: half a wave at most.
    with contextlib.suppress(ShotError):
        await wait_for(pilot, "a crest of the load", near_peak, 20)
    await pilot.pause(0.6)  # one more redraw at the pane's 4 per second
    await shoot("resources")


async def tour(pilot: Pilot[int], shoot: Capture) -> None:
    """Objects started, a busy command in unit; the main screen, then each pane."""
    app = app_of(pilot)
    await settle(pilot)
    await wait_for(pilot, "the environments table", lambda: len(app.table.rows_all) >= 4)
    await start_objects(pilot)
    await busy_command(pilot, "unit")
    await wait_for(pilot, "unit's package count", lambda: any(
        row.name == "unit" and row.packages for row in app.table.rows_all))
    detail = app.query_one("#detail", EnvDetailPanel)
    await wait_for(pilot, "unit's details",
                   lambda: detail.detail is not None and detail.detail.name == "unit")
    await shoot("main")
    await packages_pane(pilot, "unit", shoot)
    await results_pane(pilot, shoot)
    await resources_pane(pilot, "unit", shoot)
    await stop_command(pilot, "unit")


async def stop_command(pilot: Pilot[int], env: str) -> None:
    """S stops what runs in ``env``; wait until the command has ended."""
    app = app_of(pilot)
    await select_env(pilot, env)
    await pilot.press("S")
    await wait_for(pilot, f"the command in {env} to stop",
                   lambda: not app.activity.get(env), 30)


# -- the migration flow -------------------------------------------------------------------


async def migration(pilot: Pilot[int], shoot: Capture) -> None:
    """m on api, choose docker (or basic without Docker), confirm, watch every step."""
    from ptest_tui.tui.screens.migrate import MigrateScreen

    app = app_of(pilot)
    await settle(pilot)
    await select_env(pilot, "api")
    await wait_for(pilot, "engine availability", lambda: "docker" in app.unavailable)
    target = "basic" if app.unavailable.get("docker") else "docker"
    await pilot.press("m")
    await wait_for(pilot, "the migrate dialog", lambda: isinstance(app.screen, MigrateScreen))
    screen = app.screen
    assert isinstance(screen, MigrateScreen)
    await wait_for(pilot, "the level list", lambda: screen.stage == "choose")
    for _ in range(4):
        option = screen.levels.highlighted_option
        if option is not None and option.id == target:
            break
        await pilot.press("j")
    await pilot.press("enter")
    if screen.stage != "confirm" or screen.target != target:
        raise ShotError(f"the migrate dialog did not ask to confirm {target}: {screen.text}")
    await shoot("migrate-confirm")
    await pilot.press("y")
    await wait_for(pilot, f"the migration to {target} to end",
                   lambda: screen.stage in ("done", "failed"), 600)
    if screen.stage != "done":
        raise ShotError(f"the migration to {target} failed:\n{screen.text}")
    await shoot("migrate")
    await pilot.press("enter")


# -- dialogs ------------------------------------------------------------------------------


async def dialogs(pilot: Pilot[int], shoot: Capture) -> None:
    """The create dialog with the live reason for the automatic choice, then the keys."""
    from ptest_tui.tui.screens.create_env import CreateEnvScreen
    from ptest_tui.tui.screens.help import HelpScreen

    app = app_of(pilot)
    await settle(pilot)
    await pilot.press("c")
    await wait_for(pilot, "the create dialog", lambda: isinstance(app.screen, CreateEnvScreen))
    await type_text(pilot, "api-limits")
    await pilot.press("tab", "tab", "tab")
    await type_text(pilot, "512m")
    await settle(pilot)
    await shoot("create-dialog")
    await pilot.press("escape", "question_mark")
    await wait_for(pilot, "the help screen", lambda: isinstance(app.screen, HelpScreen))
    await shoot("help")
    await pilot.press("escape")


SCENARIOS: dict[str, tuple[tuple[str, ...], Scenario]] = {
    "tour": (("main", "packages", "results", "resources"), tour),
    "migration": (("migrate-confirm", "migrate"), migration),
    "dialogs": (("create-dialog", "help"), dialogs),
}


# -- running and converting ---------------------------------------------------------------


async def play(root: Path, scenario: Scenario, wanted: set[str], scratch: Path) -> list[Path]:
    """Run the app on ``root`` through ``scenario``; returns the SVGs of ``wanted`` shots."""
    saved: list[Path] = []
    with Session.open(workspace=root, environ={}) as session:
        app = PtestApp(session)
        async with app.run_test(size=SIZE) as pilot:

            async def shoot(name: str) -> None:
                if name in wanted:
                    saved.append(await capture(pilot, name, scratch))

            await scenario(pilot, shoot)
    return saved


def shoot_all(scratch: Path, converter: str, wanted: set[str], out: Path,
              keep_svg: bool) -> int:
    """Build the workspace in ``scratch``, play the scenarios, tidy up; an exit code."""
    # A private package cache: the corpus wheels never reach the user's shared cache.
    os.environ["PTEST_CACHE_DIR"] = str(scratch / "cache")
    corpus = make_corpus(scratch / "wheels")
    add_wheels(corpus)
    with IndexServer(corpus.root) as index:
        root = scratch / "example"
        step = "preparing the example workspace"
        try:
            make_workspace(scratch, corpus, index.url)
            for name, (shots, scenario) in SCENARIOS.items():
                if wanted.isdisjoint(shots):
                    continue
                step = name
                for svg in asyncio.run(play(root, scenario, wanted, scratch)):
                    print(convert(converter, svg, out, keep_svg))
        except ShotError as exc:
            print(f"make_screenshots: {step}: {exc}", file=sys.stderr)
            return 1
        except PtestError as exc:
            print(f"make_screenshots: {step}: {exc.one_line()}", file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            print(f"make_screenshots: {step}: {shlex.join(map(str, exc.cmd))} failed"
                  f" ({detail[-1] if detail else f'exit {exc.returncode}'})", file=sys.stderr)
            return 1
        finally:
            if (root / "ptest.toml").exists():
                for problem in tidy_up(root):  # containers and servers must not outlive us
                    print(f"make_screenshots: tidying up: {problem}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Make the screenshots; returns an exit code."""
    names = [name for shots, _ in SCENARIOS.values() for name in shots]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                        help="make only these: " + ", ".join(names))
    parser.add_argument("--keep-svg", action="store_true", help="keep the SVG files")
    args = parser.parse_args(argv)
    converter = find_converter()
    if converter is None:
        print("rsvg-convert not found (hint: apt-get install librsvg2-bin)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ptest-shots-") as tmp:
        return shoot_all(Path(tmp), converter, set(args.only or names), args.out,
                         args.keep_svg)


if __name__ == "__main__":
    raise SystemExit(main())
