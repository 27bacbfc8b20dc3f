"""Hand-built pure-Python wheels for package-manager tests.

Tests never reach the internet: they install wheels written here with ``zipfile``. Every
archive is deterministic (fixed timestamps, sorted entries, fixed permissions), so the same
arguments always give the same bytes and the same sha256, and a cache keyed by hash hits.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# The earliest date a zip can hold; a fixed stamp keeps archives byte-for-byte stable.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
GENERATOR = "ptest-tui-tests (1.0)"
TAG = "py3-none-any"


def normalize_project(name: str) -> str:
    """PEP 503 normalised project name: ``Tiny_A.b`` -> ``tiny-a-b``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_part(name: str) -> str:
    """The project name as it appears in wheel and dist-info names: ``bulk-1`` -> ``bulk_1``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def module_name(name: str) -> str:
    """The importable module a test wheel provides for a project: ``tinyA`` -> ``tinya``."""
    return wheel_name_part(name)


def wheel_filename(name: str, version: str) -> str:
    """The PEP 427 file name of the wheel ``build_wheel`` writes for ``name`` ``version``."""
    return f"{wheel_name_part(name)}-{version}-{TAG}.whl"


def record_hash(data: bytes) -> str:
    """RECORD hash field: ``sha256=`` + urlsafe base64 digest without padding."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file (the form used in index ``#sha256=`` fragments and locks)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metadata(name: str, version: str, requires: Sequence[str]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: Test wheel {name} {version}",
    ]
    lines += [f"Requires-Dist: {req}" for req in requires]
    return "\n".join(lines) + "\n\n"


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: {GENERATOR}\nRoot-Is-Purelib: true\nTag: {TAG}\n"


def _entry_points(console_scripts: dict[str, str]) -> str:
    lines = ["[console_scripts]"]
    lines += [f"{script} = {target}" for script, target in sorted(console_scripts.items())]
    return "\n".join(lines) + "\n"


def _write_entries(path: Path, entries: Iterable[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, data)


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    requires: Sequence[str] = (),
    files: dict[str, str] | None = None,
    console_scripts: dict[str, str] | None = None,
) -> Path:
    """Write a valid ``py3-none-any`` wheel for ``name`` ``version`` into ``dest``.

    The wheel holds ``<module>/__init__.py`` with ``__version__``, plus ``files`` (archive path
    -> text; an entry for ``<module>/__init__.py`` replaces the default one), and the dist-info
    METADATA (with one ``Requires-Dist`` per ``requires`` item), WHEEL, optional
    entry_points.txt (``console_scripts``: script name -> ``module:function``) and RECORD.
    Returns the path of the wheel file.
    """
    dest.mkdir(parents=True, exist_ok=True)
    module = module_name(name)
    dist_info = f"{wheel_name_part(name)}-{version}.dist-info"
    contents: dict[str, str] = {f"{module}/__init__.py": f'__version__ = "{version}"\n'}
    contents.update(files or {})
    payload = sorted((path, text.encode("utf-8")) for path, text in contents.items())
    meta: list[tuple[str, bytes]] = [
        (f"{dist_info}/METADATA", _metadata(name, version, requires).encode("utf-8")),
        (f"{dist_info}/WHEEL", _wheel_file().encode("utf-8")),
    ]
    if console_scripts:
        meta.append((f"{dist_info}/entry_points.txt", _entry_points(console_scripts).encode()))
    entries = payload + meta
    record_lines = [f"{path},{record_hash(data)},{len(data)}" for path, data in entries]
    record_lines.append(f"{dist_info}/RECORD,,")  # RECORD cannot hash itself
    entries.append((f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode("utf-8")))
    path = dest / wheel_filename(name, version)
    _write_entries(path, entries)
    return path


@dataclass(frozen=True)
class Corpus:
    """A folder of test wheels forming a small, consistent package world.

    ``root`` doubles as a ``--find-links`` folder; ``files`` lists every wheel in it.
    """

    root: Path
    files: tuple[Path, ...]
    bulk: tuple[str, ...]

    def wheel(self, name: str, version: str) -> Path:
        """The wheel file of ``name`` ``version`` (KeyError if the corpus lacks it)."""
        path = self.root / wheel_filename(name, version)
        if path not in self.files:
            raise KeyError(f"{name} {version} is not in the corpus")
        return path

    def projects(self) -> dict[str, tuple[Path, ...]]:
        """Normalised project name -> its wheels, as a simple index lists them."""
        found: dict[str, list[Path]] = {}
        for path in self.files:
            project = normalize_project(path.name.split("-", 1)[0])
            found.setdefault(project, []).append(path)
        return {project: tuple(paths) for project, paths in sorted(found.items())}


# The corpus: (name, version, requires). beta 2.0 + gamma and beta 1.0 + delta conflict
# through alpha (2.0 vs <2 via beta<2, and >=1.1 vs <1.1).
CORPUS_SPECS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alpha", "1.0", ()),
    ("alpha", "1.1", ()),
    ("alpha", "2.0", ()),
    ("beta", "1.0", ("alpha>=1.1",)),
    ("beta", "2.0", ("alpha>=2.0",)),
    ("gamma", "1.0", ("beta<2",)),
    ("delta", "1.0", ("alpha<1.1",)),
)
BULK_COUNT = 30
TOOL_SCRIPT = "tool-hello"
TOOL_OUTPUT = "hello"


def make_corpus(dest: Path) -> Corpus:
    """Build the test corpus into ``dest`` and describe it.

    alpha 1.0/1.1/2.0; beta 1.0 (alpha>=1.1) and 2.0 (alpha>=2.0); gamma 1.0 (beta<2);
    delta 1.0 (alpha<1.1); tool 1.0 with console script ``tool-hello`` printing ``hello``;
    bulk-1 .. bulk-30, independent, for resolution-speed tests.
    """
    files = [build_wheel(dest, name, version, requires) for name, version, requires in CORPUS_SPECS]
    files.append(
        build_wheel(
            dest,
            "tool",
            "1.0",
            files={"tool/cli.py": f'def main() -> None:\n    print("{TOOL_OUTPUT}")\n'},
            console_scripts={TOOL_SCRIPT: "tool.cli:main"},
        )
    )
    bulk = tuple(f"bulk-{i}" for i in range(1, BULK_COUNT + 1))
    files += [build_wheel(dest, name, "1.0") for name in bulk]
    return Corpus(root=dest, files=tuple(sorted(files)), bulk=bulk)
