"""A tiny pure-Python wheel written on the fly, so the install scenario needs no network.

The archive is deterministic (fixed timestamps, sorted entries), like the test wheels in
tests/support/wheels.py: the same bytes every time, so caches behave the same each run.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

NAME = "ptbench-tiny"
VERSION = "1.0"
MODULE = "ptbench_tiny"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def build_wheel(folder: Path) -> Path:
    """Write ``ptbench_tiny-1.0-py3-none-any.whl`` into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{MODULE}-{VERSION}.dist-info"
    files = {
        f"{MODULE}/__init__.py": b'"""Installed by ptest-tui benchmark."""\nVALUE = 1\n',
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
            "Summary: ptest-tui benchmark wheel\n\n"
        ).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: ptest-tui\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},{_hash(data)},{len(data)}\n" for name, data in sorted(files.items()))
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = folder / f"{MODULE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, files[name])
    return path
