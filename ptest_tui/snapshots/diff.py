"""Comparing two snapshots: packages added, removed and changed; files; settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from ptest_tui.snapshots.manifest import FileEntry, Manifest


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed from snapshot ``a`` to snapshot ``b``."""

    a: str
    b: str
    packages_added: tuple[str, ...] = ()
    packages_removed: tuple[str, ...] = ()
    packages_changed: tuple[tuple[str, str, str], ...] = ()  # (name, version in a, in b)
    files_added: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    files_changed: tuple[str, ...] = ()
    settings_changed: tuple[tuple[str, Any, Any], ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the two snapshots hold the same packages, files and settings."""
        return not any(
            (self.packages_added, self.packages_removed, self.packages_changed,
             self.files_added, self.files_removed, self.files_changed, self.settings_changed)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``snapshot diff --json``)."""
        return {
            "a": self.a,
            "b": self.b,
            "packages": {
                "added": list(self.packages_added),
                "removed": list(self.packages_removed),
                "changed": [{"name": n, "a": x, "b": y} for n, x, y in self.packages_changed],
            },
            "files": {
                "added": list(self.files_added),
                "removed": list(self.files_removed),
                "changed": list(self.files_changed),
            },
            "settings": [{"key": k, "a": x, "b": y} for k, x, y in self.settings_changed],
        }


def _pins(manifest: Manifest) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for pin in manifest.pins:
        name, _, version = pin.partition("==")
        found[canonicalize_name(name)] = (name, version)
    return found


def _files(entries: tuple[FileEntry, ...]) -> dict[str, FileEntry]:
    return {e.path: e for e in entries if e.kind != "dir"}


def _settings(manifest: Manifest) -> dict[str, Any]:
    spec = dict(manifest.settings.get("spec", {}))
    spec.pop("name", None)
    flat = {f"spec.{k}": v for k, v in spec.items()}
    flat["isolation"] = manifest.isolation
    for key in ("python_version", "image", "image_id", "limits", "workspace_mount"):
        flat[key] = manifest.settings.get(key)
    flat["objects"] = sorted(o.get("name", "") for o in manifest.settings.get("objects", []))
    return flat


def diff(a_id: str, a: Manifest, b_id: str, b: Manifest) -> SnapshotDiff:
    """Compare two manifests."""
    pa, pb = _pins(a), _pins(b)
    changed = tuple(
        (pb[key][0], pa[key][1], pb[key][1])
        for key in sorted(set(pa) & set(pb)) if pa[key][1] != pb[key][1]
    )
    fa, fb = _files(a.files), _files(b.files)
    files_changed = tuple(
        path for path in sorted(set(fa) & set(fb))
        if (fa[path].kind, fa[path].sha256, fa[path].target, fa[path].mode)
        != (fb[path].kind, fb[path].sha256, fb[path].target, fb[path].mode)
    )
    sa, sb = _settings(a), _settings(b)
    settings = tuple(
        (key, sa.get(key), sb.get(key))
        for key in sorted(set(sa) | set(sb)) if sa.get(key) != sb.get(key)
    )
    return SnapshotDiff(
        a=a_id,
        b=b_id,
        packages_added=tuple(f"{pb[k][0]}=={pb[k][1]}" for k in sorted(set(pb) - set(pa))),
        packages_removed=tuple(f"{pa[k][0]}=={pa[k][1]}" for k in sorted(set(pa) - set(pb))),
        packages_changed=changed,
        files_added=tuple(sorted(set(fb) - set(fa))),
        files_removed=tuple(sorted(set(fa) - set(fb))),
        files_changed=files_changed,
        settings_changed=settings,
    )
