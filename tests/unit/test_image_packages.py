"""Images with extra packages and the names of container objects (no daemon, no download)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ptest_tui.engines import image_sources as sources
from ptest_tui.engines.rootfs import _drop_default_data, remove_stale_work, work_prefix
from ptest_tui.errors import UsageError
from ptest_tui.objects.container import container_name, object_filter, volume_name
from ptest_tui.objects.container_tools import tar_files
from ptest_tui.objects.network import network_filter, network_labels, network_name


def test_packages_are_checked_sorted_and_deduplicated() -> None:
    given = ["redis-server,postgresql", " mariadb-server ", "postgresql,python3", ""]
    assert sources.check_packages(given) == ("mariadb-server", "postgresql", "redis-server")
    assert sources.check_packages([]) == ()
    for bad in ("Postgres", "x", "a;rm", "-dash", "pkg name"):
        with pytest.raises(UsageError, match="invalid Debian package name"):
            sources.check_packages([bad])


def test_the_base_image_cache_is_unchanged_and_package_sets_get_their_own() -> None:
    assert sources.include_for(()) == sources.INCLUDE
    base = sources.cache_name("bookworm")
    assert sources.cache_name("bookworm", sources.include_for(())) == base
    servers = sources.cache_name("bookworm", sources.include_for(("postgresql", "redis-server")))
    assert servers != base
    assert servers == sources.cache_name(
        "bookworm", sources.include_for(("redis-server", "postgresql", "redis-server"))
    )
    assert sources.packages_tag("bookworm") == "ptest-tui/objects:bookworm"


def test_stale_work_of_one_package_set_is_never_taken_for_another(tmp_path: Path) -> None:
    servers = ("postgresql",)
    assert work_prefix("bookworm") == "rootfs-bookworm-"
    base_work = tmp_path / (work_prefix("bookworm") + "abcd1234")
    servers_work = tmp_path / (work_prefix("bookworm", servers) + "efgh5678")
    base_work.mkdir()
    servers_work.mkdir()
    assert remove_stale_work(tmp_path, "bookworm") == [base_work]
    assert servers_work.is_dir()
    assert remove_stale_work(tmp_path, "bookworm", ("redis-server",)) == []
    assert remove_stale_work(tmp_path, "bookworm", servers) == [servers_work]


def test_default_databases_of_package_scripts_are_dropped(tmp_path: Path) -> None:
    for folder in ("var/lib/postgresql/15/main/base", "etc/postgresql/15/main",
                   "var/lib/mysql/mysql", "var/lib/postgresql/15/keep"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "var/lib/mysql/ibdata1").write_bytes(b"x" * 100)
    removed = _drop_default_data(tmp_path)
    assert removed == ["/var/lib/postgresql/*/main", "/etc/postgresql/*/main", "/var/lib/mysql/*"]
    assert not (tmp_path / "var/lib/postgresql/15/main").exists()
    assert not (tmp_path / "etc/postgresql/15/main").exists()
    assert list((tmp_path / "var/lib/mysql").iterdir()) == []  # the folder itself stays
    assert (tmp_path / "var/lib/postgresql/15/keep").is_dir()
    assert _drop_default_data(tmp_path) == []


def test_object_and_network_names_never_collide_with_env_containers() -> None:
    key = "0123456789ab"
    # Env containers are ptest-<12 hex>-<env>; "obj" is not hex, so no env name matches.
    assert container_name(key, "db") == "ptest-obj-0123456789ab-db"
    assert volume_name(key, "db") == "ptest-obj-0123456789ab-db-data"
    assert network_name(key) == "ptest-0123456789ab-objects"
    assert network_labels(key) == {
        "ptest.managed": "1", "ptest.workspace": key, "ptest.network": "objects"
    }
    assert network_filter(key)["label"][-1] == f"ptest.workspace={key}"
    assert object_filter(key, "db") == {"label": [f"ptest.workspace={key}", "ptest.object=db"]}


def test_tar_files_holds_folders_then_files_in_order() -> None:
    data = tar_files([("launch/argv", b"postgres\n-D\n", 0o644), ("launch/go", b"", 0o600)])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [(m.name, m.isdir(), m.mode) for m in members] == [
            ("launch", True, 0o755), ("launch/argv", False, 0o644), ("launch/go", False, 0o600)
        ]
        handle = tar.extractfile("launch/argv")
        assert handle is not None and handle.read() == b"postgres\n-D\n"
