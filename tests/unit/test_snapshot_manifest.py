"""Snapshot manifests, path safety, include/exclude patterns and diffs (no envs needed)."""

from __future__ import annotations

import json

import pytest

from ptest_tui.errors import UsageError
from ptest_tui.snapshots.diff import diff
from ptest_tui.snapshots.errors import ArchiveError
from ptest_tui.snapshots.manifest import FileEntry, Manifest, check_entries, link_escapes
from ptest_tui.snapshots.patterns import PathFilter, compile_pattern

SHA = "a" * 64
SHA2 = "b" * 64


def manifest(**changes: object) -> Manifest:
    data: dict[str, object] = {
        "env": "unit",
        "isolation": "virtualenv",
        "created_at": 1.5,
        "settings": {"spec": {"name": "unit", "env": {"A": "1"}}, "python_version": "3.11.7"},
        "pins": ("alpha==1.0", "beta==2.0"),
        "files": (FileEntry("d", "dir", 0o755), FileEntry("d/x.txt", "file", 0o644, 3, SHA)),
    }
    data.update(changes)
    return Manifest(**data)  # type: ignore[arg-type]


def test_json_round_trip_and_id_follow_the_content() -> None:
    m = manifest()
    again = Manifest.from_json(m.to_json())
    assert again == m
    assert again.id == m.id and len(m.id) == 12 and m.sha256.startswith(m.id)
    assert manifest(pins=("alpha==1.1",)).id != m.id
    assert m.blobs() == {SHA}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/etc/passwd", "absolute path"),
        ("../outside", "'..' component"),
        ("a/../../b", "'..' component"),
        ("a//b", "empty or '.' component"),
        ("./a", "empty or '.' component"),
        ("", "empty path"),
        ("a\x00b", "NUL byte"),
    ],
)
def test_unsafe_paths_are_refused(path: str, expected: str) -> None:
    with pytest.raises(ArchiveError, match="refused") as info:
        check_entries([FileEntry(path, "file", 0o644, 1, SHA)], relative=True)
    assert expected in info.value.message


def test_links_must_stay_inside_the_working_folder() -> None:
    assert link_escapes("a/link", "../../etc/passwd")
    assert link_escapes("link", "/etc/passwd")
    assert not link_escapes("a/link", "../b/file")
    with pytest.raises(ArchiveError, match="points outside"):
        check_entries([FileEntry("l", "symlink", target="../../x")], relative=True)
    with pytest.raises(ArchiveError, match="lies under the link"):
        check_entries(
            [FileEntry("l", "symlink", target="d"), FileEntry("l/x", "file", 0o644, 1, SHA)],
            relative=True,
        )


def test_special_files_duplicates_and_bad_hashes_are_refused() -> None:
    with pytest.raises(ArchiveError, match="device files"):
        check_entries([FileEntry("dev", "chardev")], relative=True)
    with pytest.raises(ArchiveError, match="twice"):
        check_entries([FileEntry("a", "dir"), FileEntry("a", "dir")], relative=True)
    with pytest.raises(ArchiveError, match="invalid content hash"):
        check_entries([FileEntry("a", "file", 0o644, 1, "nothex")], relative=True)


def test_container_entries_are_absolute_and_may_be_deletions() -> None:
    check_entries([FileEntry("/usr/x", "file", 0o644, 1, SHA), FileEntry("/etc/motd", "deleted")],
                  relative=False)
    with pytest.raises(ArchiveError):
        check_entries([FileEntry("usr/x", "file", 0o644, 1, SHA)], relative=False)
    with pytest.raises(ArchiveError):
        check_entries([FileEntry("/usr/../../x", "file", 0o644, 1, SHA)], relative=False)


def test_setuid_bits_never_survive_parsing() -> None:
    raw = json.loads(manifest().to_json())
    raw["files"][1]["mode"] = 0o4755
    assert Manifest.from_json(json.dumps(raw).encode()).files[1].mode == 0o755


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"format": 99}', b'{"format": 1}'])
def test_malformed_manifests_are_one_line_errors(raw: bytes) -> None:
    with pytest.raises(ArchiveError) as info:
        Manifest.from_json(raw)
    assert "\n" not in info.value.one_line()


def test_patterns() -> None:
    flt = PathFilter.build(exclude=["big/**", "*.log"])
    assert flt.keeps("notes/a.txt")
    assert not flt.keeps("x.log") and flt.keeps("sub/x.log")  # * stays in one part
    assert flt.excluded("big") and flt.excluded("big/deep/file")
    assert not flt.keeps(".cache/pip/x") and not flt.keeps("a/__pycache__/m.cpython-311.pyc")
    only = PathFilter.build(include=["notes/**"])
    assert only.keeps("notes/a") and not only.keeps("other")
    assert compile_pattern("**/*.py").fullmatch("a/b/c.py")
    assert compile_pattern("**/*.py").fullmatch("c.py")
    for bad in ("", "/", "../x", "a/../b"):
        with pytest.raises(UsageError):
            PathFilter.build(include=[bad])


def test_diff_names_packages_files_and_settings() -> None:
    a = manifest()
    b = manifest(
        pins=("alpha==1.1", "gamma==1.0"),
        files=(
            FileEntry("d/x.txt", "file", 0o644, 3, SHA2), FileEntry("new", "file", 0o600, 1, SHA)
        ),
        settings={"spec": {"name": "unit", "env": {"A": "2"}}, "python_version": "3.11.7"},
    )
    result = diff("a", a, "b", b)
    assert result.packages_added == ("gamma==1.0",)
    assert result.packages_removed == ("beta==2.0",)
    assert result.packages_changed == (("alpha", "1.0", "1.1"),)
    assert result.files_added == ("new",) and result.files_changed == ("d/x.txt",)
    assert ("spec.env", {"A": "1"}, {"A": "2"}) in result.settings_changed
    assert result.to_dict()["packages"]["changed"] == [{"name": "alpha", "a": "1.0", "b": "1.1"}]
    assert diff("a", a, "a", a).empty
