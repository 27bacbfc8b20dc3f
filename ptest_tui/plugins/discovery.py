"""Find ``ptest_tui`` entry points quickly.

Scanning every installed distribution's metadata costs 30-40 ms per start, a big part of a
0.3 s command. The result only changes when something is installed or removed, which
changes the modification time of a folder on ``sys.path``; so the list is cached under the
user cache folder, keyed by those folders and their mtimes, and rescanned when they move.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryPointRef:
    """One entry point: its name and ``module:attr`` value."""

    name: str
    value: str

    def load(self) -> object:
        """Import the module (and attribute) the entry point names."""
        from importlib import import_module

        module_name, _, attr = self.value.partition(":")
        target: object = import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            target = getattr(target, part)
        return target


def _signature() -> list[list[object]]:
    parts: list[list[object]] = []
    here = os.getcwd()
    for entry in sys.path:
        if entry in ("", ".", here):  # the working folder changes all the time
            continue
        try:
            parts.append([entry, os.stat(entry).st_mtime_ns])
        except OSError:
            continue
    return parts


def _cache_file(group: str) -> Path:
    from ptest_tui.paths import user_cache_dir

    return user_cache_dir() / f"entry-points-{group}.json"


def scan(group: str) -> list[EntryPointRef]:
    """Read the entry points of ``group`` from installed metadata (slow path)."""
    from importlib.metadata import entry_points

    found = {ep.name: EntryPointRef(ep.name, ep.value) for ep in entry_points(group=group)}
    return sorted(found.values(), key=lambda ref: ref.name)


def discover(group: str) -> list[EntryPointRef]:
    """Entry points of ``group``, from the cache when nothing was installed since."""
    signature = _signature()
    cache = _cache_file(group)
    try:
        data = json.loads(cache.read_text())
        if data.get("signature") == signature:
            return [EntryPointRef(n, v) for n, v in data["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    refs = scan(group)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({"signature": signature, "entry_points": [[r.name, r.value] for r in refs]})
        )
        tmp.replace(cache)
    except OSError as exc:  # a read-only cache folder only costs speed
        log.debug("cannot write entry-point cache %s: %s", cache, exc)
    return refs
