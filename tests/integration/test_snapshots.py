"""Snapshots and restores of real envs: round trips, atomic replacement, bad input.

Packages come from the local wheel corpus (offline, private cache). Docker tests need the
daemon and the base image (``need("docker", ...)``).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import EnvStateError, UsageError
from ptest_tui.events import Event, MigrationStep, SnapshotCreated, SnapshotRestored
from ptest_tui.session import Session
from ptest_tui.snapshots.errors import SnapshotCorruptError, SnapshotError, VerificationError
from tests.conftest import write_workspace
from tests.integration.snapshot_support import (
    fill_home,
    home,
    home_state,
    open_ws,
    output,
    packages,
    workspace_toml,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTEST_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def workspace(tmp_path: Path, find_links_dir: Path) -> Path:
    """The workspace ``dsession`` opens: packages from the local wheel corpus only."""
    return write_workspace(tmp_path / "dws", workspace_toml(find_links_dir))


@pytest.fixture
def s(tmp_path: Path, find_links_dir: Path) -> Iterator[Session]:
    session = open_ws(tmp_path / "ws", find_links_dir)
    yield session
    session.close()


def unit_env(s: Session, name: str = "e", level: str = "virtualenv") -> Path:
    s.create_env(name, isolation=level)
    s.install(name, ["beta==1.0", "tool"])
    folder = home(s, name)
    fill_home(folder)
    return folder


def test_round_trip_restores_packages_files_and_settings(s: Session) -> None:
    folder = unit_env(s)
    events: list[Event] = []
    s.bus.subscribe(Event, events.append)
    record = s.snapshot("e", tag="good", message="known good")
    assert (record.packages, record.tag) == (3, "good")
    expected = {k: v for k, v in home_state(folder).items() if not k.startswith(".cache")}
    # Change everything: packages, contents, modes, links; add and remove files.
    s.install("e", ["gamma"])
    (folder / "notes" / "a.txt").write_text("changed\n")
    (folder / "run.sh").chmod(0o600)
    (folder / "notes" / "b.txt").unlink()
    (folder / "link").unlink()
    (folder / "new.txt").write_text("new")
    outcome = s.restore("good")
    assert outcome.replaced == "virtualenv" and outcome.level == "virtualenv"
    assert packages(s, "e") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
    assert home_state(folder) == expected  # the cache folder was not recorded
    # The console script's shebang points at the env's own venv after the switch.
    assert output(s, "e", ["tool-hello"]) == (0, ["hello"])
    assert s.get_env("e").status == "ready" and s.env_status("e").healthy
    assert [e.name for e in s.store.list_envs()] == ["e"]
    assert not list((s.workspace.state_dir / "envs").glob("e.*"))
    assert any(t.note.startswith("restored from snapshot") for t in s.store.transitions("e"))
    steps = [e.step for e in events if isinstance(e, MigrationStep) and e.index]
    assert steps == ["checking", "building", "packages", "files", "verifying", "switching", "done"]
    assert any(isinstance(e, SnapshotCreated) for e in events)
    assert any(isinstance(e, SnapshotRestored) for e in events)
    assert "files: 3 hashes match" in outcome.verified


def test_basic_env_with_site_packages(s: Session) -> None:
    folder = unit_env(s, "b", "basic")
    record = s.snapshot("b")
    s.uninstall("b", ["tool"])
    shutil.rmtree(folder / "notes")
    s.restore(record.id)
    assert packages(s, "b") == {"alpha": "2.0", "beta": "1.0", "tool": "1.0"}
    assert (folder / "notes" / "a.txt").read_text() == "alpha\n"
    assert output(s, "b", ["tool-hello"]) == (0, ["hello"])


def test_restore_as_another_name_leaves_the_original(s: Session) -> None:
    folder = unit_env(s)
    record = s.snapshot("e")
    (folder / "notes" / "a.txt").write_text("mine")
    outcome = s.restore(record.id, as_name="copy")
    assert outcome.replaced == ""
    assert (home(s, "copy") / "notes" / "a.txt").read_text() == "alpha\n"
    assert (folder / "notes" / "a.txt").read_text() == "mine"
    assert output(s, "copy", ["tool-hello"]) == (0, ["hello"])
    with pytest.raises(UsageError, match="invalid environment name"):
        s.restore(record.id, as_name="../x")


def test_content_is_deduplicated_and_freed_with_the_last_snapshot(s: Session) -> None:
    folder = unit_env(s)
    (folder / "big.bin").write_bytes(b"x" * 200_000)
    first = s.snapshot("e")
    blobs, size = s.snapshots.blobs.usage()
    second = s.snapshot("e")
    assert first.id != second.id
    count, grown = s.snapshots.blobs.usage()
    # Only the new manifest and lock (the lock header carries a date) are new.
    assert count - blobs <= 2 and grown - size < 10_000
    _, freed = s.snapshots.delete(first.id)
    assert freed < 10_000 and s.snapshots.get(second.id)
    _, freed = s.snapshots.delete(second.id)
    assert freed > 200_000 and s.snapshots.blobs.usage() == (0, 0)


def test_include_and_exclude(s: Session) -> None:
    unit_env(s)
    only = s.snapshot("e", include=["notes/**"], exclude=["notes/b.txt"])
    _, manifest = s.snapshots.show(only.id)
    assert {e.path for e in manifest.files} == {"notes", "notes/a.txt"}


def test_snapshot_of_a_broken_env_is_refused(s: Session) -> None:
    unit_env(s)
    s.store.update_env("e", status="broken", error="the venv was deleted")
    with pytest.raises(EnvStateError, match=r"broken \(the venv was deleted\)") as info:
        s.snapshot("e")
    assert "env repair e" in info.value.hint
    assert s.snapshots.all() == []
    s.store.update_env("e", status="ready", error="")
    shutil.rmtree(s.workspace.state_dir / "envs" / "e" / "venv")  # broken on disk
    with pytest.raises(EnvStateError, match="not healthy"):
        s.snapshot("e")
    assert s.snapshots.all() == []


def test_restoring_a_deleted_snapshot_changes_nothing(s: Session) -> None:
    unit_env(s)
    record = s.snapshot("e")
    s.snapshots.delete(record.id)
    before = s.get_env("e")
    with pytest.raises(UsageError, match=f"snapshot '{record.id}' does not exist"):
        s.restore(record.id)
    assert s.get_env("e") == before


def test_corrupt_content_is_found_before_anything_is_built(s: Session) -> None:
    folder = unit_env(s)
    record = s.snapshot("e")
    _, manifest = s.snapshots.show(record.id)
    sha = next(e.sha256 for e in manifest.files if e.path == "notes/a.txt")
    s.snapshots.blobs.path(sha).write_text("bit rot")
    with pytest.raises(SnapshotCorruptError, match="does not match its hash"):
        s.restore(record.id)
    assert [e.name for e in s.store.list_envs()] == ["e"]
    assert (folder / "notes" / "a.txt").read_text() == "alpha\n"


def test_failed_verification_keeps_the_old_env(tmp_path: Path, find_links_dir: Path) -> None:
    s = open_ws(tmp_path / "ws2", find_links_dir,
                '[envs.e]\nsmoke = ["python", "-c", "import gamma"]\n')
    folder = unit_env(s)
    record = s.snapshot("e")
    (folder / "notes" / "a.txt").write_text("current")
    with pytest.raises(VerificationError, match=r"smoke command .* exited 1") as info:
        s.restore(record.id)
    assert "e is unchanged" in info.value.message
    assert (folder / "notes" / "a.txt").read_text() == "current"
    assert [r.name for r in s.store.list_envs()] == ["e"] and s.get_env("e").status == "ready"
    assert output(s, "e", ["tool-hello"]) == (0, ["hello"])
    assert s.snapshots.journal.all() == []
    s.close()


def test_busy_env_is_not_replaced(s: Session) -> None:
    unit_env(s)
    record = s.snapshot("e")
    token = CancelToken()
    worker = threading.Thread(target=s.exec, args=("e", ["sleep", "30"]), kwargs={"cancel": token})
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while s.get_env("e").status != "busy" and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(EnvStateError, match="is busy"):
            s.restore(record.id)
    finally:
        token.cancel()
        worker.join()
    assert [r.name for r in s.store.list_envs()] == ["e"]


def test_export_import_restore_on_another_workspace(
    s: Session, tmp_path: Path, find_links_dir: Path
) -> None:
    unit_env(s)
    record = s.snapshot("e")
    archive = tmp_path / "e.snapshot.tar.gz"
    s.snapshots.export(record.id, archive)
    other = open_ws(tmp_path / "elsewhere", find_links_dir)
    imported, new = other.snapshots.import_(archive)
    assert new and imported.id == record.id
    other.restore(imported.id)
    assert packages(other, "e") == packages(s, "e")
    assert home_state(home(other, "e"))["notes/a.txt"] == ("file", "alpha\n|644")
    other.close()


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, check=False)
    return done.returncode == 0


def test_disk_full_during_restore_leaves_the_old_env_intact(
    tmp_path: Path, find_links_dir: Path
) -> None:
    """A real full filesystem: the workspace lives on a 24 MB tmpfs."""
    mount = tmp_path / "small"
    if not _mount_tmpfs(mount, "24m"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        s = open_ws(mount / "ws", find_links_dir)
        folder = unit_env(s)
        (folder / "big.bin").write_bytes(b"\x01" * (6 << 20))
        record = s.snapshot("e")
        (folder / "notes" / "a.txt").write_text("current")
        stat = shutil.disk_usage(mount)
        # Leave less room than the 6 MB file the restore must write.
        (mount / "filler").write_bytes(b"\0" * (stat.free - (3 << 20)))
        with pytest.raises(SnapshotError, match="no space left") as info:
            s.restore(record.id)
        assert "e is unchanged" in info.value.message
        assert (folder / "notes" / "a.txt").read_text() == "current"
        assert [r.name for r in s.store.list_envs()] == ["e"]
        assert s.get_env("e").status == "ready" and s.env_status("e").healthy
        assert output(s, "e", ["tool-hello"]) == (0, ["hello"])
        assert not list((s.workspace.state_dir / "envs").glob("e.*"))
        (mount / "filler").unlink()
        s.restore(record.id)  # with room again it works
        assert (folder / "notes" / "a.txt").read_text() == "alpha\n"
        s.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.docker
def test_docker_round_trip_with_the_container_filesystem(dsession: Session) -> None:
    dsession.create_env("d", isolation="docker")
    dsession.install("d", ["beta==1.0", "tool"])
    dsession.exec("d", ["sh", "-c", "mkdir -p /root/notes && echo alpha > /root/notes/a.txt"
                  " && echo system > /usr/local/share/x.txt && rm /etc/motd"])
    old_container = dsession.get_env("d").engine_state["container_id"]
    record = dsession.snapshot("d", container_fs=True)
    _, manifest = dsession.snapshots.show(record.id)
    changed = {e.path: e.kind for e in manifest.container_fs or ()}
    assert changed["/usr/local/share/x.txt"] == "file" and changed["/etc/motd"] == "deleted"
    assert not any(p.startswith(("/root", "/env", "/tmp", "/workspace")) for p in changed)
    dsession.exec("d", ["sh", "-c", "rm -r /root/notes /usr/local/share/x.txt && touch /etc/motd"])
    dsession.uninstall("d", ["tool"])
    outcome = dsession.restore(record.id)
    assert "container filesystem: changes match" in outcome.verified
    state = dsession.get_env("d").engine_state
    assert state["container_id"] != old_container
    assert state["container_name"].endswith("-d")
    code, lines = output(dsession, "d", ["sh", "-c", "cat /root/notes/a.txt /usr/local/share/x.txt;"
                                   " test -e /etc/motd || echo gone; tool-hello"])
    assert (code, lines) == (0, ["alpha", "system", "gone", "hello"])
    api = dsession.engines.get("docker").api()  # type: ignore[attr-defined]
    names = [c["Names"][0] for c in api.containers(all=True, filters={
        "label": [f"ptest.workspace={dsession.workspace.id}", "ptest.env=d"]})]
    assert len(names) == 1  # the old container is gone, the new one has the env's name
    assert [r.name for r in dsession.store.list_envs()] == ["d"]
