"""``ptest-tui env create``: check every name and option, then create one env or many.

Nothing is created until the whole request passed: names (``--count`` expands NAME to
NAME-1 ... NAME-N), duplicates, options, levels, engines, interpreters and images. Many envs
are created in parallel with a progress line each; Ctrl+C cancels and removes what was
half made.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ptest_tui.cli import signals
from ptest_tui.cli.env_render import parse_assignments, run_cancellable
from ptest_tui.errors import CancelledError, ExitCode, PtestError, UsageError

if TYPE_CHECKING:
    from ptest_tui.cancel import CancelToken
    from ptest_tui.engines.spec import EnvSpec
    from ptest_tui.session import CreateOutcome, Session
    from ptest_tui.store import EnvRecord

log = logging.getLogger(__name__)


def _create_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "isolation": args.isolation,
        "python": args.python,
        "image": args.image,
        "memory": args.memory,
        "cpus": args.cpus,
        "pids": args.pids,
        "network": args.network,
        "workspace_mount": args.mount,
        "packages": _packages(args),
        "env": parse_assignments(args.variables) or None,
        "description": args.description,
    }


def _packages(args: argparse.Namespace) -> list[str]:
    """--package requirements plus those read from each -r file (validated, one line each)."""
    if not args.requirement_files:
        return list(args.packages)
    from ptest_tui.packages.requirements import collect

    return [line.text for line in collect(args.packages, args.requirement_files)]


def _expand(names: Sequence[str], count: int | None) -> list[tuple[str, str]]:
    """(declared name, final name) pairs; --count makes NAME-1 ... NAME-N of each NAME."""
    if count is None:
        return [(name, name) for name in names]
    return [(name, f"{name}-{i}") for name in names for i in range(1, count + 1)]


def plan_create(
    session: Session, pairs: Sequence[tuple[str, str]], options: dict[str, Any]
) -> list[EnvSpec]:
    """Build and check every spec before anything is created (first problem raises)."""
    from dataclasses import replace

    from ptest_tui.validation import validate_name

    finals = [final for _, final in pairs]
    repeated = sorted({n for n in finals if finals.count(n) > 1})
    if repeated:
        raise UsageError(
            f"environment names given twice: {', '.join(repeated)}", "name each environment once"
        )
    specs: list[EnvSpec] = []
    checked: set[EnvSpec] = set()
    for base, final in pairs:
        spec = session.spec_for(base, **options)
        if final != base:
            spec = replace(spec, name=validate_name(final))
        # Each distinct request is checked once: --count 30 probes the interpreter once.
        shape = replace(spec, name="-")
        if shape not in checked:
            session.check_create(spec)
            checked.add(shape)
        elif session.store.find_env(spec.name) is not None:
            session.check_create(spec)  # raises the "already exists" error
        specs.append(spec)
    return specs


def run_create(args: argparse.Namespace) -> int:
    """``env create``: validate everything, then create one or several environments."""
    from ptest_tui.cli.common import open_session, print_json
    from ptest_tui.cli.env_render import CreateProgress, outcome_dict
    from ptest_tui.session import CreateOutcome

    options = _create_options(args)
    pairs = _expand(args.names, args.count)
    with open_session(args) as session:
        specs = plan_create(session, pairs, options)
        progress = CreateProgress(len(specs), quiet=args.json)
        started = time.monotonic()
        label = specs[0].name if len(specs) == 1 else f"creating {len(specs)} environments"
        with progress.running(label):
            if len(specs) == 1:

                def work(token: CancelToken) -> list[CreateOutcome]:
                    began = time.monotonic()
                    record: EnvRecord | None = None
                    error: PtestError | None = None
                    try:
                        record = session.create_env(specs[0], token)
                    except PtestError as exc:
                        error = exc
                    except Exception as exc:  # an engine bug: one line, traceback in --debug
                        log.debug("creating %s failed", specs[0].name, exc_info=True)
                        error = PtestError(f"{exc}", "run with --debug for the traceback")
                    outcome = CreateOutcome(specs[0].name, record, error, time.monotonic() - began)
                    progress.done(outcome)
                    return [outcome]

            else:

                def work(token: CancelToken) -> list[CreateOutcome]:
                    return session.create_envs(
                        specs, max_workers=args.parallel, cancel=token, on_done=progress.done
                    )

            outcomes, interrupted = run_cancellable(work)
        progress.summary(outcomes, time.monotonic() - started)
    if args.json:
        print_json([outcome_dict(o) for o in outcomes])
    if interrupted or any(isinstance(o.error, CancelledError) for o in outcomes):
        return signals.interrupted_exit_code()
    return int(ExitCode.OK if all(o.ok for o in outcomes) else ExitCode.FAILURE)
