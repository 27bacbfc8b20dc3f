"""Find Python interpreters on this machine from a version request or a path."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ptest_tui.errors import UsageError

_VERSION_RE = re.compile(r"^(?:python|py|cpython)?-?(3(?:\.\d+){0,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter: its executable and version (major, minor, micro)."""

    path: Path
    version: tuple[int, int, int]

    @property
    def short_version(self) -> str:
        """``3.11`` style."""
        return f"{self.version[0]}.{self.version[1]}"


@lru_cache(maxsize=64)
def probe(path: str) -> Interpreter | None:
    """Ask an executable for its Python version; None if it is not a working Python 3."""
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    major, minor, micro = (int(p) for p in parts)
    return Interpreter(Path(path), (major, minor, micro))


def _candidates(minor: str) -> list[str]:
    found: list[str] = []
    name = f"python{minor}"
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    found += sorted(glob.glob(f"{pyenv_root}/versions/{minor}*/bin/{name}"), reverse=True)
    for folder in ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"):
        path = Path(folder, name)
        if path.exists():
            found.append(str(path))
    return list(dict.fromkeys(found))


def current() -> Interpreter:
    """The interpreter running ptest-tui."""
    major, minor, micro = sys.version_info[:3]
    return Interpreter(Path(sys.executable), (major, minor, micro))


def find_interpreter(request: str) -> Interpreter:
    """Resolve ``3.11``, ``3.11.7``, ``python3.12`` or a path to an interpreter.

    Raises UsageError naming the request when nothing matches, before anything changes.
    """
    request = request.strip()
    if not request:
        return current()
    if os.sep in request or request.startswith("."):
        path = Path(request).expanduser()
        if not path.exists():
            raise UsageError(f"Python interpreter {request} does not exist", "check the path")
        found = probe(str(path.resolve()))
        if found is None:
            raise UsageError(f"{request} is not a working Python 3 interpreter", "check the path")
        return Interpreter(path.absolute(), found.version)
    match = _VERSION_RE.match(request)
    if not match:
        raise UsageError(
            f"invalid Python version {request!r}", "use a version such as 3.11 or a path"
        )
    wanted = tuple(int(p) for p in match.group(1).split("."))
    here = current()
    if here.version[: len(wanted)] == wanted:
        return here
    if len(wanted) == 1:
        raise UsageError(f"ambiguous Python version {request!r}", "name a minor version: 3.11")
    minor = f"{wanted[0]}.{wanted[1]}"
    for candidate in _candidates(minor):
        found = probe(candidate)
        if found and found.version[: len(wanted)] == wanted:
            return found
    raise UsageError(
        f"no Python {request} interpreter found on this machine",
        f"install Python {minor} (e.g. `apt install python{minor}` or pyenv) or pass a path"
        " with --python",
    )
