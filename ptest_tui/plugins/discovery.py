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
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


# Bumped when the cached data changes shape, so an old cache is rescanned, not misread.
CACHE_FORMAT = 2

# (name, module) of the built-in plugins, registered before any entry point. ptest-tui's
# own pyproject also declares builtin_engines as an entry point: skipped, the name is taken.
BUILTIN_PLUGINS = (
    ("builtin_engines", "ptest_tui.engines.builtin"),
    ("builtin_objects", "ptest_tui.objects.builtin"),
    ("builtin_cases", "ptest_tui.runs.kinds"),
)
BUILTIN_NAMES = frozenset(name for name, _ in BUILTIN_PLUGINS)


class EntryPointRef(NamedTuple):
    """One entry point: its name, ``module:attr`` value and the distribution it ships in.

    A NamedTuple rather than a frozen dataclass: the CLI parser reads the cache on every
    command line, and importing dataclasses (with inspect) would cost it ~7 ms.
    """

    name: str
    value: str
    distribution: str = ""
    version: str = ""

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

    found: dict[str, EntryPointRef] = {}
    for ep in entry_points(group=group):
        dist = ep.dist
        found[ep.name] = EntryPointRef(
            ep.name, ep.value, dist.name if dist else "", dist.version if dist else ""
        )
    return sorted(found.values(), key=lambda ref: ref.name)


def discover(group: str) -> list[EntryPointRef]:
    """Entry points of ``group``, from the cache when nothing was installed since."""
    signature = _signature()
    cache = _cache_file(group)
    try:
        data = json.loads(cache.read_text())
        if data.get("signature") == signature and data.get("format") == CACHE_FORMAT:
            return [EntryPointRef(*fields) for fields in data["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    refs = scan(group)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({
                "format": CACHE_FORMAT,
                "signature": signature,
                "entry_points": [[r.name, r.value, r.distribution, r.version] for r in refs],
            })
        )
        tmp.replace(cache)
    except OSError as exc:  # a read-only cache folder only costs speed
        log.debug("cannot write entry-point cache %s: %s", cache, exc)
    return refs
