"""``ptest-tui init``: write a commented starter ``ptest.toml``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ptest_tui.errors import ExitCode, UsageError, WorkspaceError

CONFIG_FILE = "ptest.toml"
# The same as ptest_tui.config.templates.TEMPLATE_NAMES (a test checks): importing that
# module here would load the whole config package for every `--help`.
TEMPLATE_NAMES = ("minimal", "web", "database")
DEFAULT_TEMPLATE = TEMPLATE_NAMES[0]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``init`` command."""
    parser = subparsers.add_parser(
        "init",
        help="write a commented starter ptest.toml",
        description="Write a commented starter ptest.toml in DIR (default: the current"
        " folder). The file validates as written; edit it, then check it with"
        " `ptest-tui config validate`.",
    )
    parser.add_argument(
        "--template",
        choices=TEMPLATE_NAMES,
        default=DEFAULT_TEMPLATE,
        help=f"starter to write (default: {DEFAULT_TEMPLATE})",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing ptest.toml")
    parser.add_argument(
        "dir", nargs="?", metavar="DIR", help="folder to initialise (created if missing)"
    )
    parser.set_defaults(handler=run)


def _write_atomically(path: Path, text: str) -> None:
    # A half-written ptest.toml would break every later command; write aside, then rename.
    # open(..., "x") keeps the usual umask permissions (mkstemp would make it 0600).
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("x", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Validate the template, refuse to overwrite without --force, then write it."""
    import tomllib

    from ptest_tui.config.schema import validate
    from ptest_tui.config.templates import template_text

    target = Path(args.dir or args.workspace or ".").expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is not a folder", "pass a folder to initialise")
    path = target / CONFIG_FILE
    if path.exists() and not args.force:
        raise UsageError(
            f"{path} already exists", "pass --force to overwrite it, or edit it by hand"
        )
    text = template_text(args.template)
    # The shipped template must validate exactly as `load_config` will read it back.
    validate(tomllib.loads(text), f"template {args.template}")
    try:
        target.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, text)
    except OSError as exc:
        # Read-only folder, a file where a parent folder should be, a full disk...
        reason = exc.strerror or type(exc).__name__
        raise WorkspaceError(
            f"cannot write {path}: {reason}",
            "pick a folder you can write to (every part of the path must be a folder)",
        ) from None
    print(f"wrote {path} (template {args.template})")
    print("next: `ptest-tui env list` shows its environments; `ptest-tui env create NAME`")
    return int(ExitCode.OK)
