"""Turn the installers' normal output into typed progress and a final tally.

uv prints (on stderr) ``Resolved N packages in``, ``Prepared N packages in`` (fetched or
built: not from the cache), ``Installed N packages in``, ``Uninstalled N packages in`` and
one `` + name==version`` / `` - name==version`` line per change. pip prints
``Collecting``, ``Downloading``/``Using cached``, ``Installing collected packages`` and
``Successfully installed a-1.0 b-2.0``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ptest_tui.packages.index import redact

PhaseCallback = Callable[[str, int, int, str], None]  # (phase, done, total, detail)

_UV_COUNT = re.compile(
    r"^(Resolved|Prepared|Installed|Uninstalled|Audited) (\d+) packages?\b"
)
_UV_WOULD = re.compile(r"^Would (download|install|uninstall) (\d+) packages?")
_UV_CHANGE = re.compile(r"^ ([+-]) (\S+?)==(\S+)")
_PIP_COLLECT = re.compile(r"^\s*Collecting (\S+)")
_PIP_DOWNLOAD = re.compile(r"^\s*Downloading (\S+)")
_PIP_CACHED = re.compile(r"^\s*Using cached (\S+)")
_PIP_INSTALLING = re.compile(r"^Installing collected packages: (.+)$")
_PIP_DONE = re.compile(r"^Successfully installed (.+)$")
_PIP_REMOVED = re.compile(r"^\s*Successfully uninstalled (\S+)-(\S+)$")


@dataclass
class Tally:
    """What one tool run reported, filled line by line (thread-safe)."""

    installed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    resolved: int = 0
    downloads: int = 0
    cached: int = 0
    would_download: int = 0
    lines: list[str] = field(default_factory=list)  # redacted output, for error messages
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def cache_hits(self) -> int:
        """Installed distributions that came from the cache (not fetched or built)."""
        return max(0, len(self.installed) - self.downloads) if self.cached == 0 else self.cached


class OutputParser:
    """Feed it every output line of uv or pip; it calls ``on_phase`` and fills a Tally."""

    def __init__(self, tool: str, on_phase: PhaseCallback | None = None) -> None:
        self.tool = tool
        self.tally = Tally()
        self._on_phase = on_phase
        self._collected = 0

    def _phase(self, phase: str, done: int, total: int, detail: str = "") -> None:
        if self._on_phase:
            self._on_phase(phase, done, total, detail)

    def feed(self, _stream: str, line: str) -> None:
        """One line from the tool (either stream)."""
        line = redact(line)
        with self.tally._lock:
            self.tally.lines.append(line)
            if self.tool == "uv":
                self._uv(line)
            else:
                self._pip(line)

    def _uv(self, line: str) -> None:
        tally = self.tally
        count = _UV_COUNT.match(line)
        if count:
            verb, number = count.group(1), int(count.group(2))
            if verb == "Resolved":
                tally.resolved = number
                self._phase("resolving", number, number, line)
                self._phase("downloading", 0, number, "")
            elif verb == "Prepared":
                tally.downloads = number
                self._phase("downloading", number, number, line)
            elif verb in ("Installed", "Uninstalled"):
                self._phase("installing", number, number, line)
            return
        would = _UV_WOULD.match(line)
        if would and would.group(1) == "download":
            tally.would_download = int(would.group(2))
            return
        change = _UV_CHANGE.match(line)
        if change:
            target = tally.installed if change.group(1) == "+" else tally.removed
            target.append(f"{change.group(2)}=={change.group(3)}")

    def _pip(self, line: str) -> None:
        tally = self.tally
        if _PIP_COLLECT.match(line):
            self._collected += 1
            self._phase("resolving", self._collected, 0, line.strip())
        elif _PIP_DOWNLOAD.match(line):
            tally.downloads += 1
            self._phase("downloading", tally.downloads + tally.cached, self._collected, "")
        elif _PIP_CACHED.match(line):
            tally.cached += 1
            self._phase("downloading", tally.downloads + tally.cached, self._collected, "")
        elif match := _PIP_INSTALLING.match(line):
            names = [n.strip() for n in match.group(1).split(",") if n.strip()]
            self._phase("installing", 0, len(names), line)
        elif match := _PIP_DONE.match(line):
            for item in match.group(1).split():
                name, _, version = item.rpartition("-")
                tally.installed.append(f"{name}=={version}")
            self._phase("installing", len(tally.installed), len(tally.installed), line)
        elif match := _PIP_REMOVED.match(line):
            tally.removed.append(f"{match.group(1)}=={match.group(2)}")
