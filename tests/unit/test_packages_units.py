"""Pure-Python parts of package management: requirements, redaction, output, check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ptest_tui.errors import PackageConflictError, PackageUsageError, UsageError
from ptest_tui.packages.check import check_inventory
from ptest_tui.packages.errors import IndexUnreachableError, classify
from ptest_tui.packages.index import IndexConfig, redact
from ptest_tui.packages.inventory import InstalledDist, Inventory, host_markers, scan_site
from ptest_tui.packages.lock import read_lock
from ptest_tui.packages.progress import OutputParser
from ptest_tui.packages.requirements import collect, read_requirements_file


def test_redact_hides_user_and_password() -> None:
    text = "fetch https://me:s3cret@host.example/simple and http://tok@h/x, https://plain/x"
    out = redact(text)
    assert "s3cret" not in out and "me:" not in out and "tok@" not in out
    assert "https://***@host.example/simple" in out and "https://plain/x" in out


def test_index_args_for_both_backends() -> None:
    index = IndexConfig("http://u:p@h/simple", ("http://e/simple",), ("/w",), offline=False)
    assert index.uv_args() == [
        "--index-url", "http://u:p@h/simple", "--extra-index-url", "http://e/simple",
        "--find-links", "/w",
    ]
    assert index.pip_args()[:2] == ["--index-url", "http://u:p@h/simple"]
    offline = IndexConfig(find_links=("/w",), offline=True)
    assert offline.uv_args() == ["--offline", "--find-links", "/w"]
    assert offline.pip_args() == ["--no-index", "--find-links", "/w"]
    assert "p@" not in index.describe()


def test_tool_environment_drops_user_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTEST_CACHE_DIR", str(tmp_path))
    env = IndexConfig().tool_environment({"UV_INDEX_URL": "x", "PIP_INDEX_URL": "y", "HOME": "/h"})
    assert "UV_INDEX_URL" not in env and "PIP_INDEX_URL" not in env
    assert env["UV_CACHE_DIR"] == str(tmp_path / "uv") and env["UV_NO_CONFIG"] == "1"


def test_requirements_file_nested_comments_hashes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("gamma>=1  # trailing\n")
    (tmp_path / "req.txt").write_text(
        "# comment\n\nalpha==1.0 \\\n    --hash=sha256:abc\n-r sub/more.txt\n"
        "beta ; python_version>'3'\n"
    )
    lines = read_requirements_file(tmp_path / "req.txt")
    assert [line.name for line in lines] == ["alpha", "gamma", "beta"]
    assert lines[0].hashes == ("sha256:abc",)
    assert lines[1].origin.endswith("more.txt:1")


def test_requirements_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.txt does not exist"):
        collect([], [tmp_path / "nope.txt"])
    bad = tmp_path / "bad.txt"
    bad.write_text("alpha\nbad req!!\n")
    with pytest.raises(UsageError, match=r"bad.txt:2: malformed requirement"):
        collect([], [bad])
    with pytest.raises(UsageError, match="malformed requirement"):
        collect(["x==="], [])
    loop = tmp_path / "loop.txt"
    loop.write_text("-r loop.txt\n")
    with pytest.raises(UsageError, match="includes itself"):
        collect([], [loop])


def test_uv_output_becomes_phases_and_tally() -> None:
    phases: list[tuple[str, int, int]] = []
    parser = OutputParser("uv", lambda p, d, t, _x: phases.append((p, d, t)))
    for line in (
        "Resolved 3 packages in 2ms", "Prepared 1 package in 3ms", "Uninstalled 1 package in 1ms",
        "Installed 2 packages in 1ms", " - alpha==1.0", " + alpha==2.0", " + beta==2.0",
    ):
        parser.feed("stderr", line)
    tally = parser.tally
    assert tally.installed == ["alpha==2.0", "beta==2.0"] and tally.removed == ["alpha==1.0"]
    assert tally.downloads == 1 and tally.cache_hits == 1
    assert ("resolving", 3, 3) in phases and ("installing", 2, 2) in phases


def test_pip_output_tally() -> None:
    parser = OutputParser("pip")
    for line in (
        "Collecting alpha", "  Using cached alpha-1.0-py3-none-any.whl", "Collecting beta",
        "  Downloading http://u:pw@h/beta-1.0-py3-none-any.whl",
        "Installing collected packages: alpha, beta",
        "Successfully installed alpha-1.0 beta-1.0",
    ):
        parser.feed("stdout", line)
    assert parser.tally.installed == ["alpha==1.0", "beta==1.0"]
    assert parser.tally.cached == 1 and parser.tally.downloads == 1
    assert not any("pw@" in line for line in parser.tally.lines)


def test_classify_conflict_not_found_unreachable() -> None:
    index = IndexConfig("http://u:pw@127.0.0.1:9/simple")
    conflict = classify(
        "uv",
        [
            "error: No solution found when resolving dependencies:",
            "  cause: Because all versions of delta depend on alpha<1.1 and beta<=1.0 depends on"
            " alpha>=1.1, we can conclude that beta<=1.0 and all versions of delta are"
            " incompatible.",
        ],
        env="e", action="install beta==1.0, delta", index=index, requested=["beta==1.0", "delta"],
    )
    assert isinstance(conflict, PackageConflictError)
    assert "delta depend on alpha<1.1" in conflict.message and "beta<=1.0" in conflict.message
    assert "\n" not in conflict.message and "depends on" in conflict.details
    missing = classify(
        "uv",
        ["  cause: Because nosuch was not found in the package registry and you require nosuch,"],
        env="e", action="install", index=index,
    )
    assert isinstance(missing, PackageUsageError) and "'nosuch'" in missing.message
    down = classify(
        "uv", ["error: Request failed", "  cause: Connection refused (os error 111)"],
        env="e", action="install", index=index,
    )
    assert isinstance(down, IndexUnreachableError) and int(down.exit_code) == 3
    assert "127.0.0.1:9" in down.message and "pw" not in down.message
    assert "offline" in down.hint and "find_links" in down.hint


def test_check_finds_missing_and_conflicts_with_markers() -> None:
    dists = [
        InstalledDist("beta", "2.0", ("alpha>=2.0",)),
        InstalledDist("alpha", "1.0"),
        InstalledDist("gamma", "1.0", ("zeta", 'old ; python_version < "3"', 'ex ; extra == "x"')),
    ]
    report = check_inventory("e", Inventory(tuple(dists), host_markers("3.11.2")))
    described = sorted(p.describe() for p in report.problems)
    assert described == [
        "beta 2.0 requires alpha>=2.0, but alpha 1.0 is installed",
        "gamma 1.0 requires zeta, which is not installed",
    ]
    python2 = check_inventory("e", Inventory(tuple(dists), host_markers("2.7.18")))
    assert any("old" in p.requirement for p in python2.problems)


def _deps(i: int) -> tuple[str, ...]:
    return tuple(f"pkg{j}>=1.0" for j in range(i + 1, min(i + 4, 200)))


def test_check_handles_200_dists() -> None:
    dists = [
        InstalledDist(f"pkg{i}", "1.0", _deps(i))
        for i in range(200)
    ]
    report = check_inventory("e", Inventory(tuple(dists), host_markers("3.11.2")))
    assert report.ok and report.checked == 200


def test_scan_site_reads_metadata_headers(tmp_path: Path) -> None:
    info = tmp_path / "Foo_Bar-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2\nRequires-Dist: alpha>=1\n\n"
        "Requires-Dist: not-a-header\n"
    )
    (info / "INSTALLER").write_text("uv\n")
    (dist,) = scan_site([tmp_path])
    assert (dist.key, dist.version, dist.requires, dist.installer) == (
        "foo-bar", "1.2", ("alpha>=1",), "uv",
    )


def test_scan_site_sees_a_reinstall_in_the_same_folder(tmp_path: Path) -> None:
    """The header cache must not hide a METADATA rewritten in place, or a removed dist."""
    info = tmp_path / "foo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: foo\nVersion: 1.0\n\n")
    (other := tmp_path / "bar-2.0.dist-info").mkdir()
    (other / "METADATA").write_text("Name: bar\nVersion: 2.0\n\n")
    assert [(d.key, d.version) for d in scan_site([tmp_path])] == [("bar", "2.0"), ("foo", "1.0")]
    replacement = tmp_path / "METADATA.new"
    replacement.write_text("Name: foo\nVersion: 1.0.post1\nRequires-Dist: bar\n\n")
    replacement.replace(info / "METADATA")  # a new inode, as installers write it
    shutil.rmtree(other)
    (dist,) = scan_site([tmp_path])
    assert (dist.version, dist.requires) == ("1.0.post1", ("bar",))


def test_read_lock_requires_pins_and_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("# header\nalpha==1.0 \\\n    --hash=sha256:aa\n")
    assert read_lock(lock) == [("alpha", "1.0")]
    lock.write_text("alpha>=1.0 --hash=sha256:aa\n")
    with pytest.raises(UsageError, match="not an exact pin"):
        read_lock(lock)
    lock.write_text("alpha==1.0\n")
    with pytest.raises(UsageError, match="no --hash"):
        read_lock(lock)


def test_a_lease_purpose_names_three_requirements_and_counts_the_rest() -> None:
    from ptest_tui.packages.service import purpose

    assert purpose("pkg install", ["a==1", "b"]) == "pkg install a==1 b"
    many = [f"p{i}==1.0" for i in range(100)]
    assert purpose("pkg install", many) == "pkg install p0==1.0 p1==1.0 p2==1.0 (+97 more)"
