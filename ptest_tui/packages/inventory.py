"""What is installed in an environment, read straight from ``*.dist-info`` metadata.

Reading the METADATA headers of every distribution takes a few milliseconds for hundreds
of packages, against ~100 ms for starting a tool; ``pkg list`` and ``pkg check`` use it.
Docker envs (whose files the host may not see) run the same reader inside the container.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PackageError

if TYPE_CHECKING:
    from ptest_tui.engines.base import IsolationEngine, PackageTarget
    from ptest_tui.store import EnvRecord

# Installer tooling (seeded by ensurepip for the pip backend): like `pip freeze`, locks
# leave it out and syncs neither remove it nor count it as drift.
PIP_TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute"})


@dataclass(frozen=True)
class InstalledDist:
    """One installed distribution."""

    name: str
    version: str
    requires: tuple[str, ...] = ()  # Requires-Dist lines, markers included
    installer: str = ""
    latest: str = ""  # filled by ``pkg list --outdated``

    @property
    def key(self) -> str:
        """The canonical (PEP 503) name."""
        return canonicalize_name(self.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = asdict(self)
        data["requires"] = list(self.requires)
        return data


@dataclass(frozen=True)
class Inventory:
    """Every distribution of one env plus the marker environment of its interpreter."""

    dists: tuple[InstalledDist, ...]
    markers: dict[str, str] = field(default_factory=dict)

    def by_key(self) -> dict[str, InstalledDist]:
        """Canonical name -> distribution."""
        return {dist.key: dist for dist in self.dists}


def read_headers(path: Path) -> tuple[str, str, tuple[str, ...]]:
    """Name, Version and Requires-Dist from a METADATA file (headers only)."""
    name = version = ""
    requires: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line in ("\n", "\r\n"):
                break  # the body (long description) follows the first blank line
            key, _, value = line.partition(":")
            if key == "Name":
                name = value.strip()
            elif key == "Version":
                version = value.strip()
            elif key == "Requires-Dist":
                requires.append(value.strip())
    return name, version, tuple(requires)


# METADATA file -> what it says, while the file is unchanged (its stat key matches).
# Installs re-read an env before and after each change; most dists stay as they were.
_HEADERS: dict[str, tuple[tuple[int, int, int], InstalledDist | None]] = {}
_HEADERS_LOCK = threading.Lock()
MAX_CACHED_HEADERS = 50_000


def _read_dist(info: str) -> InstalledDist | None:
    """The distribution described by one ``*.dist-info`` folder (None without a Name)."""
    metadata = os.path.join(info, "METADATA")
    try:
        stat = os.stat(metadata)
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    with _HEADERS_LOCK:
        cached = _HEADERS.get(metadata)
    if cached is not None and cached[0] == key:
        return cached[1]
    name, version, requires = read_headers(Path(metadata))
    dist = None
    if name:
        installer_file = Path(info, "INSTALLER")
        installer = (
            installer_file.read_text(errors="replace").strip() if installer_file.is_file() else ""
        )
        dist = InstalledDist(name, version, requires, installer)
    with _HEADERS_LOCK:
        if len(_HEADERS) >= MAX_CACHED_HEADERS:
            _HEADERS.clear()
        _HEADERS[metadata] = (key, dist)
    return dist


def scan_site(folders: Iterable[Path]) -> list[InstalledDist]:
    """Every ``*.dist-info`` in ``folders`` (first folder wins for a name)."""
    found: dict[str, InstalledDist] = {}
    for folder in folders:
        try:
            entries = os.scandir(folder)
        except OSError:  # missing, or not a folder
            continue
        with entries:
            infos = sorted(entry.path for entry in entries
                           if entry.name.endswith(".dist-info") and entry.is_dir())
        for info in infos:
            dist = _read_dist(info)
            if dist is not None:
                found.setdefault(dist.key, dist)
    return sorted(found.values(), key=lambda d: d.key)


def venv_site_dirs(venv: Path) -> list[Path]:
    """The site-packages folders of a virtual environment (POSIX and Windows layouts)."""
    return [*sorted(venv.glob("lib/python*/site-packages")), venv / "Lib" / "site-packages"]


def venv_python_version(venv: Path) -> str:
    """The full Python version recorded in ``pyvenv.cfg`` (uv and virtualenv write it)."""
    cfg = venv / "pyvenv.cfg"
    if cfg.is_file():
        for line in cfg.read_text(errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version_info", "version"):
                return value.strip()
    return ""


def host_markers(python_full_version: str = "") -> dict[str, str]:
    """PEP 508 marker values of this host, with the env's Python version when known."""
    from packaging.markers import default_environment

    markers = {k: str(v) for k, v in default_environment().items()}
    if python_full_version:
        parts = python_full_version.split(".")
        markers["python_full_version"] = python_full_version
        markers["python_version"] = ".".join(parts[:2])
        markers["implementation_version"] = python_full_version
    return markers


# Run inside an env's interpreter (docker, or a basic env's python3) to describe it with
# no dependency but the standard library. Prints one JSON object.
PROBE = r"""
import json, os, platform, sys, sysconfig
from importlib import metadata
paths = [p for p in sys.argv[1:] if p] or None
dists = []
seen = set()
for d in (metadata.distributions(path=paths) if paths else metadata.distributions()):
    name = d.metadata["Name"] or ""
    key = name.lower().replace("_", "-").replace(".", "-")
    if not name or key in seen:
        continue
    seen.add(key)
    dists.append({"name": name, "version": d.version, "requires": d.requires or [],
                  "installer": (d.read_text("INSTALLER") or "").strip()})
impl = sys.implementation
iv = "{0.major}.{0.minor}.{0.micro}".format(impl.version)
markers = {"implementation_name": impl.name, "implementation_version": iv,
    "os_name": os.name, "platform_machine": platform.machine(),
    "platform_release": platform.release(), "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform}
print(json.dumps({"dists": dists, "markers": markers}))
"""


def parse_probe(output: str) -> Inventory:
    """The inventory printed by :data:`PROBE` (the last JSON line of ``output``)."""
    line = next(
        (text for text in reversed(output.splitlines()) if text.startswith("{")), "{}"
    )
    data = json.loads(line)
    dists = [
        InstalledDist(d["name"], d["version"], tuple(d["requires"]), d["installer"])
        for d in data.get("dists", [])
    ]
    dists.sort(key=lambda d: d.key)
    return Inventory(tuple(dists), data.get("markers", {}))


def read_inventory(
    record: EnvRecord,
    engine: IsolationEngine,
    target: PackageTarget,
    cancel: CancelToken | None = None,
) -> Inventory:
    """Installed distributions and marker values of the env's interpreter.

    A virtualenv is read from its site folders; a basic env's folder likewise, asking its
    interpreter only for the version; a container runs :data:`PROBE` inside.
    """
    if not target.in_container and not target.target_dir:
        venv = Path(target.python).parent.parent
        dists = scan_site(venv_site_dirs(venv))
        return Inventory(tuple(dists), host_markers(venv_python_version(venv)))
    if not target.in_container:
        dists = scan_site([Path(target.target_dir)])
        version = subprocess.run(
            [target.python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        return Inventory(tuple(dists), host_markers(version))
    output: list[str] = []
    result = engine.run_package_tool(
        record,
        ["python", "-c", PROBE],
        on_output=lambda _s, line: output.append(line),
        cancel=cancel or CancelToken(),
    )
    if result.exit_code != 0:
        raise PackageError(
            f"cannot list the packages of {record.name}: {(output or ['no output'])[-1]}",
            "check the env with `ptest-tui env status`",
        )
    return parse_probe("\n".join(output))
