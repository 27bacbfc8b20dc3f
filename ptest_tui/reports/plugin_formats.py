"""Report formats from plugins: what ``ptest_register_reporters`` returns.

A :class:`Reporter` renders the same redacted :class:`PreparedReport` the built-in formats
get, so a plugin never sees a secret the built-in reports would hide. A reporter that
raises is logged with its plugin's name and skipped; the other reports are still written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ptest_tui.errors import PluginError
from ptest_tui.reports.prepare import PreparedReport

log = logging.getLogger(__name__)

# Format names are typed on command lines in comma lists ("--report html,webhook").
_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Reporter:
    """One report format: ``render`` turns a prepared (redacted) report into the bytes
    written as ``file_name`` in the report folder (``.ptest/reports/RUN`` by default).

    ``render`` may also do something else (post to a webhook, upload); what it returns is
    still written, so there is a record of it. A ``str`` is written as UTF-8.
    """

    name: str
    file_name: str
    render: Callable[[PreparedReport], bytes | str]
    description: str = ""
    plugin: str = ""  # filled in by ptest-tui: the plugin that registered it


def check_reporter(reporter: object, taken: Mapping[str, str], files: Mapping[str, str]) -> None:
    """Raise PluginError unless ``reporter`` is a usable Reporter whose name and file name
    are free (``taken``: format -> owner, ``files``: file name -> format)."""
    if not isinstance(reporter, Reporter):
        raise PluginError(
            f"ptest_register_reporters returned {reporter!r}",
            "return a list of ptest_tui.reports.plugin_formats.Reporter",
        )
    if not _NAME_RE.fullmatch(reporter.name):
        raise PluginError(
            f"invalid report format name {reporter.name!r}",
            "use 1-32 lowercase letters, digits, - or _, starting with a letter",
        )
    if reporter.name in taken:
        raise PluginError(
            f"report format {reporter.name!r} is already registered by {taken[reporter.name]}",
            "pick another format name",
        )
    if not _FILE_RE.fullmatch(reporter.file_name) or ".." in reporter.file_name:
        raise PluginError(
            f"report format {reporter.name!r}: invalid file name {reporter.file_name!r}",
            "a plain file name such as summary.txt (no folders)",
        )
    if reporter.file_name in files:
        raise PluginError(
            f"report format {reporter.name!r}: file name {reporter.file_name!r} is already"
            f" used by format {files[reporter.file_name]!r}",
            "pick another file name",
        )
    if not callable(reporter.render):
        raise PluginError(f"report format {reporter.name!r}: render is not callable", "")


def render_plugin_format(reporter: Reporter, report: PreparedReport) -> bytes | None:
    """The bytes of one plugin format, or None (logged) when the plugin failed."""
    try:
        data = reporter.render(report)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes):
            raise PluginError(
                f"report format {reporter.name!r} rendered {type(data).__name__}, not bytes",
                "return bytes or str from render",
            )
        return data
    except PluginError as exc:
        # The plugin layer's guard has already reported and disabled the plugin; a direct
        # API caller without that guard still gets a log line.
        log.warning("report format %s (plugin %s) skipped: %s", reporter.name,
                    reporter.plugin or "?", exc.message)
    except Exception as exc:
        log.warning("report format %s (plugin %s) failed: %s: %s", reporter.name,
                    reporter.plugin or "?", type(exc).__name__, exc)
    return None
