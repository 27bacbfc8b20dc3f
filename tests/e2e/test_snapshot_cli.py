"""``ptest-tui snapshot ...`` and ``env migrate`` as a user runs them."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, assert_one_line_error, assert_usage_error

pytestmark = pytest.mark.slow


@pytest.fixture
def offline(cli_with: Callable[[str], Cli], find_links_dir: Path) -> Callable[[], Cli]:
    def make() -> Cli:
        return cli_with(
            f'[packages]\nfind_links = ["{find_links_dir}"]\noffline = true\n'
            '[envs.u]\nsmoke = ["tool-hello"]\n'
        )

    return make


def run(cli: Cli, tmp_path: Path, *args: str, code: int = 0) -> str:
    result = cli.run(*args, env={"PTEST_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == code, str(result)
    return result.stdout


def test_create_list_show_diff_restore_delete(offline: Callable[[], Cli], tmp_path: Path) -> None:
    cli = offline()
    run(cli, tmp_path, "env", "create", "u", "--isolation", "virtualenv",
        "--package", "beta==1.0", "--package", "tool")
    notes = cli.root / ".ptest" / "envs" / "u" / "home" / "notes.txt"
    notes.write_text("v1")
    first = json.loads(run(cli, tmp_path, "snapshot", "create", "u", "--tag", "one",
                           "-m", "first", "--json"))
    assert (first["env"], first["tag"], first["packages"], first["files"]) == ("u", "one", 3, 1)
    notes.write_text("v2")
    run(cli, tmp_path, "pkg", "install", "u", "gamma")
    second = run(cli, tmp_path, "snapshot", "create", "u")
    assert second.startswith("snapshot ") and "4 packages" in second
    listing = json.loads(run(cli, tmp_path, "snapshot", "list", "u", "--json"))
    assert [s["tag"] for s in listing] == ["one", ""]
    shown = json.loads(run(cli, tmp_path, "snapshot", "show", "one", "--json"))
    assert "beta==1.0" in shown["pins"] and shown["files"][0]["path"] == "notes.txt"
    changes = json.loads(run(cli, tmp_path, "snapshot", "diff", "one", listing[1]["id"],
                             "--json"))
    assert changes["packages"]["added"] == ["gamma==1.0"]
    assert changes["files"]["changed"] == ["notes.txt"]
    text = run(cli, tmp_path, "snapshot", "diff", "one", listing[1]["id"])
    assert "+ gamma==1.0" in text and "~ file notes.txt" in text
    restored = run(cli, tmp_path, "snapshot", "restore", "one")
    assert restored.startswith(
        f"restored u to virtualenv (was virtualenv) from snapshot {first['id']}"
    )
    assert "verified: smoke command passed: tool-hello" in restored
    assert notes.read_text() == "v1"
    assert "gamma" not in run(cli, tmp_path, "pkg", "list", "u")
    deleted = run(cli, tmp_path, "snapshot", "delete", "one")
    assert deleted.startswith(f"deleted snapshot {first['id']}")
    assert_usage_error(cli.run("snapshot", "restore", first["id"]), "does not exist")
    assert_usage_error(cli.run("snapshot", "show", "nope"), "snapshot 'nope' does not exist")


def test_export_import_and_restore_elsewhere(offline: Callable[[], Cli], tmp_path: Path) -> None:
    here, there = offline(), offline()
    run(here, tmp_path, "env", "create", "u", "--isolation", "virtualenv", "--package", "tool")
    (here.root / ".ptest" / "envs" / "u" / "home" / "data.txt").write_text("moved")
    snap = json.loads(run(here, tmp_path, "snapshot", "create", "u", "--json"))
    archive = tmp_path / "u.tar.gz"
    exported = json.loads(run(here, tmp_path, "snapshot", "export", snap["id"], "-o",
                              str(archive), "--json"))
    assert exported["bytes"] == archive.stat().st_size
    imported = json.loads(run(there, tmp_path, "snapshot", "import", str(archive), "--json"))
    assert imported["id"] == snap["id"] and imported["new"]
    assert "already here" in run(there, tmp_path, "snapshot", "import", str(archive))
    run(there, tmp_path, "snapshot", "restore", snap["id"])
    assert run(there, tmp_path, "env", "exec", "u", "--", "tool-hello") == "hello\n"
    assert (there.root / ".ptest" / "envs" / "u" / "home" / "data.txt").read_text() == "moved"


def test_hostile_and_tampered_archives_are_one_line_errors(
    offline: Callable[[], Cli], tmp_path: Path
) -> None:
    cli = offline()
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        member = tarfile.TarInfo("../../outside.txt")
        member.size = 4
        tar.addfile(member, io.BytesIO(b"evil"))
    assert_usage_error(cli.run("snapshot", "import", str(evil)), "'..' component")
    assert not (tmp_path / "outside.txt").exists()
    junk = tmp_path / "junk.tar"
    junk.write_text("junk")
    assert_usage_error(cli.run("snapshot", "import", str(junk)), "not a snapshot archive")
    assert json.loads(cli.run("snapshot", "list", "--json").stdout) == []


def test_env_migrate_says_what_is_kept(offline: Callable[[], Cli], tmp_path: Path) -> None:
    cli = offline()
    run(cli, tmp_path, "env", "create", "m", "--isolation", "virtualenv", "--package", "tool")
    out = run(cli, tmp_path, "env", "migrate", "m", "--to", "basic")
    assert out.startswith("migrated m to basic (was virtualenv)")
    assert "not kept: packages: 1 (a basic env has no Python of its own" in out
    assert "kept: files: the working folder (HOME)" in out
    assert cli.envs()["m"]["isolation"] == "basic"
    data = json.loads(run(cli, tmp_path, "env", "migrate", "m", "--to", "virtualenv",
                          "--keep-source", "--json"))
    assert data["kept_source"] == "m-basic" and data["level"] == "virtualenv"
    assert set(cli.envs()) >= {"m", "m-basic"}
    assert_usage_error(cli.run("env", "migrate", "m", "--to", "virtualenv"), "already a virtualenv")
    assert_usage_error(cli.run("env", "migrate", "nope", "--to", "basic"), "does not exist")
    dead = cli.run("--set", "docker.host=tcp://127.0.0.1:9", "env", "migrate", "m",
                   "--to", "docker", env={"PTEST_CACHE_DIR": str(tmp_path / "cache")})
    assert_one_line_error(dead, 3, "docker engine is unavailable")
    assert cli.envs()["m"]["isolation"] == "virtualenv"


def test_snapshot_of_a_broken_env(offline: Callable[[], Cli], tmp_path: Path) -> None:
    from tests.e2e.conftest import mark_broken

    cli = offline()
    run(cli, tmp_path, "env", "create", "b", "--isolation", "basic")
    mark_broken(cli.root, "b", "disk went away")
    assert_usage_error(cli.run("snapshot", "create", "b"), "it is broken (disk went away)")
    assert json.loads(cli.run("snapshot", "list", "--json").stdout) == []
