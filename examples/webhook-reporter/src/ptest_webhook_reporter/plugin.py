"""The hook implementations: lifecycle (post when a run finishes), a report format and a
CLI command. Settings come from ``[plugins.webhook]`` in ptest.toml::

    [plugins.webhook]
    url = "https://hooks.example.com/T000/B000/XXXX"   # or PTEST_WEBHOOK_URL
    on_run_finished = true    # post after every run (default when a URL is set)
    only_failures = false     # post only runs that did not pass
    timeout = 5               # seconds
    max_failures = 20         # failures listed in the payload

A network problem is a warning (the run's result does not depend on a chat service); a
wrong setting raises, so ptest-tui reports the plugin by name and disables it.

ptest-tui imports plugins for every command line (to ask them for subcommands), so this
module imports only what it needs at once; reports and HTTP are imported in the hooks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ptest_tui.errors import PluginError, PtestError, UsageError
from ptest_tui.plugins import hookimpl

from .post import Delivery, WebhookError, post_json, where

if TYPE_CHECKING:
    from ptest_tui.events import RunFinished
    from ptest_tui.reports.plugin_formats import Reporter
    from ptest_tui.reports.prepare import PreparedReport
    from ptest_tui.session import Session

log = logging.getLogger("ptest_webhook_reporter")

SETTINGS_TABLE = "webhook"  # [plugins.webhook], whatever name the plugin is loaded under
URL_VARIABLE = "PTEST_WEBHOOK_URL"


@dataclass(frozen=True)
class WebhookSettings:
    """The checked ``[plugins.webhook]`` table."""

    url: str = ""
    on_run_finished: bool = True
    only_failures: bool = False
    timeout: float = 5.0
    max_failures: int = 20


def settings_for(session: Session) -> WebhookSettings:
    """The settings of ``session``'s workspace; PluginError naming a wrong key."""
    table: dict[str, Any] = session.config.plugins.for_plugin(SETTINGS_TABLE)
    known = set(WebhookSettings.__dataclass_fields__)
    for key in table:
        if key not in known:
            raise PluginError(
                f"unknown setting plugins.{SETTINGS_TABLE}.{key}",
                "known: " + ", ".join(sorted(known)),
            )
    url = os.environ.get(URL_VARIABLE) or str(table.get("url", ""))
    if url and not url.startswith(("http://", "https://")):
        raise PluginError(
            f"plugins.{SETTINGS_TABLE}.url must be an http:// or https:// URL, got {url!r}",
            f"fix it in ptest.toml or {URL_VARIABLE}",
        )
    timeout = table.get("timeout", 5.0)
    limit = table.get("max_failures", 20)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise PluginError(f"plugins.{SETTINGS_TABLE}.timeout must be seconds > 0", "")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise PluginError(f"plugins.{SETTINGS_TABLE}.max_failures must be a number >= 0", "")
    return WebhookSettings(
        url=url,
        on_run_finished=bool(table.get("on_run_finished", True)),
        only_failures=bool(table.get("only_failures", False)),
        timeout=float(timeout),
        max_failures=limit,
    )


def run_payload(session: Session, run_id: str, limit: int = 20) -> dict[str, Any]:
    """The summary of a stored run (redacted like the built-in reports)."""
    from ptest_tui.reports.prepare import prepare_report

    from .summary import summary

    run = session.runs.get(run_id)
    results = session.runs.results(run.id, with_output=False)
    return summary(prepare_report(run, results), session.config.workspace_name, limit)


def send_run(session: Session, run_id: str, settings: WebhookSettings) -> Delivery:
    """POST the summary of ``run_id``; WebhookError when it is not delivered."""
    payload = run_payload(session, run_id, settings.max_failures)
    return post_json(settings.url, payload, settings.timeout)


# -- hooks --------------------------------------------------------------------------------


@hookimpl
def ptest_on_run_finished(session: Session, event: RunFinished) -> None:
    """Post the finished run's summary when a URL is configured."""
    settings = settings_for(session)
    if not settings.url or not settings.on_run_finished:
        return
    if settings.only_failures and event.status == "passed":
        return
    try:
        delivery = send_run(session, event.run_id, settings)
    except WebhookError as exc:
        log.warning("webhook: run %s not delivered: %s", event.run_id, exc)
        return
    log.info("webhook: run %s delivered to %s (HTTP %s)", event.run_id, where(settings.url),
             delivery.status)


def _render(report: PreparedReport) -> bytes:
    from .summary import summary

    return (json.dumps(summary(report), indent=2) + "\n").encode("utf-8")


@hookimpl
def ptest_register_reporters() -> list[Reporter]:
    """``--report webhook-summary``: the payload, written as webhook-summary.json."""
    from ptest_tui.reports.plugin_formats import Reporter

    return [Reporter("webhook-summary", "webhook-summary.json", _render,
                     "the JSON summary the webhook plugin posts")]


@hookimpl
def ptest_register_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """``ptest-tui webhook send [RUN] [--url URL] [--print]``."""
    webhook = subparsers.add_parser("webhook", help="post run summaries to a webhook (plugin)")
    actions = webhook.add_subparsers(dest="webhook_command", metavar="ACTION", required=True)
    send = actions.add_parser("send", help="post a run's summary now")
    send.add_argument("run", nargs="?", default="last", help="run id (default: the last run)")
    send.add_argument("--url", help=f"instead of [plugins.webhook] url / {URL_VARIABLE}")
    send.add_argument("--print", action="store_true", help="print the JSON, post nothing")
    send.set_defaults(handler=_send)


def _send(args: argparse.Namespace) -> int:
    from ptest_tui.cli.common import open_session

    with open_session(args) as session:
        settings = settings_for(session)
        run_id = session.runs.get(args.run).id
        if args.print:
            print(json.dumps(run_payload(session, run_id, settings.max_failures), indent=2))
            return 0
        url = args.url or settings.url
        if args.url and not args.url.startswith(("http://", "https://")):
            raise UsageError(f"--url must be an http:// or https:// URL, got {args.url!r}", "")
        if not url:
            raise UsageError(
                "no webhook URL", f"set [plugins.webhook] url or {URL_VARIABLE}, or pass --url"
            )
        try:
            delivery = send_run(session, run_id, WebhookSettings(
                url, timeout=settings.timeout, max_failures=settings.max_failures))
        except WebhookError as exc:
            raise PtestError(f"run {run_id} not delivered: {exc}", "check the URL") from None
        print(f"run {run_id} delivered to {where(url)} (HTTP {delivery.status})")
    return 0
