"""Export and import: a corpus of hostile and tampered archives, each refused before
anything is written; a clean archive round-trips between workspaces."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.session import Session
from ptest_tui.snapshots.archive import Limits
from ptest_tui.snapshots.errors import ArchiveError
from ptest_tui.snapshots.manifest import FileEntry, Manifest
from ptest_tui.snapshots.records import SnapshotRecord
from tests.conftest import write_workspace

Member = tuple[tarfile.TarInfo, bytes | None]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Session]:
    s = Session.open(workspace=write_workspace(tmp_path / "src"), environ={})
    yield s
    s.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Session]:
    s = Session.open(workspace=write_workspace(tmp_path / "dst"), environ={})
    yield s
    s.close()


def stored(session: Session, files: dict[str, bytes]) -> SnapshotRecord:
    """A snapshot made of these files (no env needed: the manifest is built directly)."""
    blobs = session.snapshots.blobs
    entries = [FileEntry("docs", "dir", 0o755)]
    for path, data in files.items():
        entries.append(FileEntry(path, "file", 0o644, len(data), blobs.put_bytes(data)))
    manifest = Manifest(
        env="unit", isolation="virtualenv", created_at=1.0, settings={"spec": {"name": "unit"}},
        files=tuple(entries),
    )
    return session.snapshots.store_manifest(manifest, "created")


def members_of(path: Path) -> list[Member]:
    out: list[Member] = []
    with tarfile.open(path) as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            out.append((info, handle.read() if handle else None))
    return out


def write_tar(path: Path, members: list[Member], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    return member


def snapshot_files(root: Path) -> set[str]:
    folder = root / ".ptest" / "snapshots"
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"lock"}


@pytest.fixture
def exported(source: Session, tmp_path: Path) -> Path:
    record = stored(source, {"docs/a.txt": b"alpha" * 100, "docs/b.txt": b"beta"})
    path = tmp_path / "good.tar"
    source.snapshots.export(record.id, path)
    return path


def reheader(members: list[Member], manifest: bytes) -> list[Member]:
    """What a careful tamperer does: recompute the manifest hash and the header."""
    import hashlib

    sha = hashlib.sha256(manifest).hexdigest()
    out: list[Member] = []
    for member, data in members:
        if member.name == "manifest.json":
            data = manifest
        elif member.name == "ptest-snapshot.json":
            header = json.loads(data or b"{}")
            header.update(manifest_sha256=sha, id=sha[:12])
            data = json.dumps(header).encode()
        out.append((member, data))
    return out


def test_round_trip_between_workspaces(
    exported: Path, source: Session, target: Session
) -> None:
    record, new = target.snapshots.import_(exported)
    assert new and record.id == source.snapshots.all()[0].id and record.origin == "imported"
    _, manifest = target.snapshots.show(record.id)
    assert {e.path for e in manifest.files} == {"docs", "docs/a.txt", "docs/b.txt"}
    for sha in manifest.blobs():
        target.snapshots.blobs.verify(sha)
    again, new = target.snapshots.import_(exported)
    assert again.id == record.id and not new


def test_gzip_archives_work_too(source: Session, target: Session, tmp_path: Path) -> None:
    record = stored(source, {"docs/a.txt": b"x" * 5000})
    path = tmp_path / "snap.tar.gz"
    source.snapshots.export(record.id, path)
    with open(path, "rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"
    assert target.snapshots.import_(path)[0].id == record.id


EVIL = f"/tmp/ptest-evil-{uuid.uuid4().hex}"  # must never be created


def hostile_members() -> list[tuple[str, list[Member], str]]:
    """(case, extra members, expected message part)."""
    return [
        ("absolute path", [(info(EVIL), b"x")], "absolute path"),
        ("dot-dot", [(info("../../evil"), b"x")], "'..' component"),
        ("dot-dot inside blobs", [(info("blobs/../../evil"), b"x")], "'..' component"),
        ("symlink outside", [(info("blobs/" + "c" * 64, tarfile.SYMTYPE, "/etc/passwd"), None)],
         "pointing outside"),
        ("symlink dot-dot", [(info("evil", tarfile.SYMTYPE, "../../../etc"), None)],
         "pointing outside"),
        ("hard link outside", [(info("evil", tarfile.LNKTYPE, "../../etc/shadow"), None)],
         "pointing outside"),
        ("symlink inside", [(info("evil", tarfile.SYMTYPE, "manifest.json"), None)],
         "link pointing inside"),
        ("char device", [(info("evil", tarfile.CHRTYPE), None)], "device file"),
        ("block device", [(info("evil", tarfile.BLKTYPE), None)], "device file"),
        ("fifo", [(info("evil", tarfile.FIFOTYPE), None)], "special file"),
        ("unexpected file", [(info("install.sh"), b"rm -rf /")], "unexpected member"),
        ("unexpected folder", [(info("etc", tarfile.DIRTYPE), None)], "unexpected folder"),
        ("duplicate", [(info("manifest.json"), b"{}")], "appears twice"),
    ]


@pytest.mark.parametrize("case", [c[0] for c in hostile_members()])
def test_hostile_archives_are_refused_before_anything_is_written(
    case: str, exported: Path, target: Session, tmp_path: Path
) -> None:
    _, extra, expected = next(c for c in hostile_members() if c[0] == case)
    members = members_of(exported)
    path = write_tar(tmp_path / "evil.tar", [*extra, *members])  # the bad member first
    before = snapshot_files(target.workspace.root)
    with pytest.raises(ArchiveError) as error:
        target.snapshots.import_(path)
    assert expected in error.value.message and "\n" not in error.value.one_line()
    assert snapshot_files(target.workspace.root) == before
    assert target.snapshots.all() == []
    assert not Path(EVIL).exists()


def test_oversized_members_are_refused_from_their_header(
    exported: Path, target: Session, tmp_path: Path
) -> None:
    # A header that claims 10 GiB with no data behind it: refused at the header, so the
    # archive's real size never matters (and no 10 GiB are ever read).
    huge = info("blobs/" + "d" * 64)
    huge.size = 10 << 30
    path = tmp_path / "huge.tar"
    path.write_bytes(huge.tobuf(format=tarfile.PAX_FORMAT))
    with pytest.raises(ArchiveError, match="oversized"):
        target.snapshots.import_(path)
    with pytest.raises(ArchiveError, match="oversized"):
        target.snapshots.import_(exported, Limits(max_member=100))
    with pytest.raises(ArchiveError, match="oversized"):
        target.snapshots.import_(exported, Limits(max_members=2))
    assert target.snapshots.all() == []


def test_gzip_does_not_hide_a_hostile_member(
    exported: Path, target: Session, tmp_path: Path
) -> None:
    path = write_tar(tmp_path / "evil.tgz", [(info(EVIL), b"x"), *members_of(exported)], "w:gz")
    with pytest.raises(ArchiveError, match="absolute path"):
        target.snapshots.import_(path)
    assert not Path(EVIL).exists()


def test_tampered_content_is_detected(exported: Path, target: Session, tmp_path: Path) -> None:
    members = members_of(exported)
    blob = next(i for i, (m, _) in enumerate(members) if m.name.startswith("blobs/"))
    member, data = members[blob]
    assert data is not None
    members[blob] = (member, b"X" + data[1:])  # same size, other bytes
    with pytest.raises(ArchiveError, match="does not match its hash"):
        target.snapshots.import_(write_tar(tmp_path / "t1.tar", members))
    assert snapshot_files(target.workspace.root) == set()


def test_tampered_manifest_is_detected(exported: Path, target: Session, tmp_path: Path) -> None:
    members = members_of(exported)
    index = next(i for i, (m, _) in enumerate(members) if m.name == "manifest.json")
    raw = members[index][1]
    assert raw is not None
    members[index] = (members[index][0], raw.replace(b'"unit"', b'"evil"'))
    with pytest.raises(ArchiveError, match="manifest does not match its hash"):
        target.snapshots.import_(write_tar(tmp_path / "t2.tar", members))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"path": "../../.bashrc", "kind": "file", "sha256": "a" * 64}, "'..' component"),
        ({"path": "/etc/cron.d/x", "kind": "file", "sha256": "a" * 64}, "absolute path"),
        ({"path": "l", "kind": "symlink", "target": "/etc"}, "points outside"),
        ({"path": "dev", "kind": "chardev"}, "device files"),
    ],
)
def test_rehashed_manifests_with_unsafe_entries_are_refused(
    exported: Path, target: Session, tmp_path: Path, entry: dict[str, str], expected: str
) -> None:
    members = members_of(exported)
    raw = next(d for m, d in members if m.name == "manifest.json")
    data = json.loads(raw or b"{}")
    data["files"].append(entry)
    forged = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    path = write_tar(tmp_path / "forged.tar", reheader(members, forged))
    with pytest.raises(ArchiveError, match=expected):
        target.snapshots.import_(path)
    assert target.snapshots.all() == []


def test_missing_extra_or_resized_content_is_detected(
    exported: Path, target: Session, tmp_path: Path
) -> None:
    members = members_of(exported)
    without = [m for m in members if not m[0].name.startswith("blobs/")][:2]
    with pytest.raises(ArchiveError, match="do not match its manifest"):
        target.snapshots.import_(write_tar(tmp_path / "m.tar", without + members[3:]))
    extra = [*members, (info("blobs/" + "e" * 64), b"extra")]
    with pytest.raises(ArchiveError, match="do not match its manifest"):
        target.snapshots.import_(write_tar(tmp_path / "e.tar", extra))


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_not_an_archive(content: bytes, target: Session, tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(content)
    with pytest.raises(ArchiveError) as error:
        target.snapshots.import_(path)
    assert "\n" not in error.value.one_line()


def test_truncated_archive(exported: Path, target: Session, tmp_path: Path) -> None:
    with tarfile.open(exported) as tar:
        cut = tar.getmembers()[-1].offset_data + 2  # inside the last file's content
    path = tmp_path / "cut.tar"
    path.write_bytes(exported.read_bytes()[:cut])
    with pytest.raises(ArchiveError):
        target.snapshots.import_(path)
    assert target.snapshots.all() == []


def test_missing_file(target: Session, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="does not exist"):
        target.snapshots.import_(tmp_path / "nope.tar")
