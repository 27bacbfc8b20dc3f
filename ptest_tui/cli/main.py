"""Entry point of the ``ptest-tui`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``handler`` (a function taking the parsed args and returning an exit code).
Errors derived from PtestError print one line (message and hint) and exit with their code;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from ptest_tui import __version__
from ptest_tui.cli import signals
from ptest_tui.errors import ExitCode, PtestError

COMMAND_MODULES = (
    "ptest_tui.cli.env_cmd",
    "ptest_tui.cli.config_cmd",
    "ptest_tui.cli.init_cmd",
    "ptest_tui.cli.image_cmd",
    "ptest_tui.cli.doctor_cmd",
    "ptest_tui.cli.pkg_cmd",
    "ptest_tui.cli.obj_cmd",
    "ptest_tui.cli.run_cmd",
    "ptest_tui.cli.batch_cmd",
    "ptest_tui.cli.snapshot_cmd",
    "ptest_tui.cli.monitor_cmd",
    "ptest_tui.cli.plugins_cmd",
    "ptest_tui.cli.advise_cmd",
    "ptest_tui.cli.benchmark_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in our one-line format with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"ptest-tui: error: {message} (hint: see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(int(ExitCode.USAGE))


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered, plugins' last.

    ``argv`` (default ``sys.argv[1:]``) only tells which workspace's path plugins to ask.
    """
    parser = _Parser(
        prog="ptest-tui",
        description="Isolated test environments, packages, objects and runs."
        " With no command, opens the full-screen app.",
    )
    parser.add_argument("--version", action="version", version=f"ptest-tui {__version__}")
    parser.add_argument(
        "-w", "--workspace", metavar="DIR", help="workspace folder (default: search upward)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a configuration value for this run (repeatable)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(  # main() turns it into the batch subcommand (cli/batch_cmd.py)
        "--batch", metavar="PLAN.toml", help="run a plan headless: `ptest-tui batch PLAN.toml`"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    from ptest_tui.plugins.commands import add_plugin_commands

    add_plugin_commands(sub, argv)  # after the built-ins: a plugin cannot replace one
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    from ptest_tui.cli.batch_cmd import rewrite_batch_flag

    argv = rewrite_batch_flag(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            from ptest_tui.cli.app_cmd import run_app

            return run_app(args)
        signals.install()
        return int(handler(args))
    except PtestError as exc:
        if args.debug:
            raise
        print(f"ptest-tui: error: {exc.one_line()}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("ptest-tui: interrupted", file=sys.stderr)
        return signals.interrupted_exit_code()
    except BrokenPipeError:
        # The reader went away (`| head`); say nothing more and do not let Python complain
        # about flushing stdout at exit.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaced for interpreter exit
        return int(ExitCode.OK)
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"ptest-tui: internal error: {type(exc).__name__}: {exc} (hint: rerun with --debug"
            " for the traceback and report it)",
            file=sys.stderr,
        )
        return int(ExitCode.INFRASTRUCTURE)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
