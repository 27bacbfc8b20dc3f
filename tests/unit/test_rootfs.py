"""The rootfs cache survives killed builds: metadata, stale work folders (no daemon).

``XDG_CACHE_HOME`` points the cache at a temporary folder; nothing is downloaded: every
case either finds its cache or stops at the first check of a rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.engines import image_sources as sources
from ptest_tui.engines.rootfs import (
    cache_dir,
    make_rootfs,
    read_meta,
    remove_stale_work,
    write_meta,
)
from ptest_tui.errors import UsageError

META = {"suite": "bookworm", "python_version": "3.11.2", "packages": [], "mirror": ""}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty rootfs cache folder (platformdirs reads XDG_CACHE_HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = cache_dir()
    assert folder.is_relative_to(tmp_path)
    folder.mkdir(parents=True)
    return folder


def cached_files(folder: Path, suite: str) -> tuple[Path, Path]:
    tarball = folder / sources.cache_name(suite)
    return tarball, folder / (tarball.name.removesuffix(".tar.gz") + ".json")


def test_write_meta_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"python_version": "old"')  # truncated, as a killed writer left it
    write_meta(path, META)
    assert json.loads(path.read_text()) == META
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


@pytest.mark.parametrize(
    "text",
    ['{"suite": "bookworm", "python_ver', "", "[1, 2]", '{"suite": "x"}', "\udcff",
     '{"python_version": ""}'],
)
def test_unreadable_meta_reads_as_none(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(text.encode(errors="surrogateescape"))
    assert read_meta(path) is None
    assert read_meta(tmp_path / "missing.json") is None


def test_a_truncated_meta_means_rebuild_not_a_crash(cache: Path) -> None:
    # A suite this host's debootstrap does not know: the rebuild stops at its first check
    # (or at the root check) instead of downloading anything.
    tarball, meta = cached_files(cache, "nosuchsuite")
    tarball.write_bytes(b"not really a tarball")
    meta.write_text('{"suite": "nosuchsuite", "python_ver')
    with pytest.raises(UsageError):
        make_rootfs("nosuchsuite", "", lambda _s, _d: None, CancelToken())


def test_stale_work_folders_of_the_suite_are_removed_under_the_lock(cache: Path) -> None:
    tarball, meta = cached_files(cache, "bookworm")
    tarball.write_bytes(b"cached")
    write_meta(meta, META)
    stale = cache / "rootfs-bookworm-ab_12xyz"
    (stale / "rootfs" / "etc").mkdir(parents=True)
    (stale / "rootfs" / "etc" / "hostname").write_text("x\n")
    other_suite = cache / "rootfs-trixie-ab_12xyz"
    similar_suite = cache / "rootfs-bookworm-backports-ab_12xyz"
    other_suite.mkdir()
    similar_suite.mkdir()
    killed_write = cache / f".{meta.name}.12345.tmp"
    killed_write.write_text('{"python_')
    steps: list[str] = []
    got, data, from_cache = make_rootfs(
        "bookworm", "", lambda _s, detail: steps.append(detail), CancelToken()
    )
    assert (got, data, from_cache) == (tarball, META, True)
    assert not stale.exists()
    assert other_suite.is_dir() and similar_suite.is_dir()
    assert not killed_write.exists()
    assert any("rootfs-bookworm-ab_12xyz" in step for step in steps)


def test_remove_stale_work_ignores_files_and_odd_names(tmp_path: Path) -> None:
    (tmp_path / "rootfs-bookworm-abcdefgh").write_text("a file, not a work folder")
    (tmp_path / "rootfs-bookworm-ABCDEFGH").mkdir()
    (tmp_path / "rootfs-bookworm-abcdefg").mkdir()
    assert remove_stale_work(tmp_path, "bookworm") == []
    assert len(list(tmp_path.iterdir())) == 3
