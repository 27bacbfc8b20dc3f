"""``ptest-tui init``: write a commented starter ``ptest.toml``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptest_tui.errors import ExitCode

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


def run(args: argparse.Namespace) -> int:
    """Validate the template, refuse to overwrite without --force, then write it."""
    from ptest_tui.config.templates import write_template

    target = Path(args.dir or args.workspace or ".").expanduser()
    path = write_template(target, args.template, force=args.force)
    print(f"wrote {path} (template {args.template})")
    print("next: `ptest-tui env list` shows its environments; `ptest-tui env create NAME`")
    return int(ExitCode.OK)
