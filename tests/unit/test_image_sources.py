"""Base-image choices: suite by Python version, mirror from apt sources, tags (no network)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ptest_tui.engines import image_sources as sources
from ptest_tui.errors import UsageError

MIRROR = "http://mirror.invalid/debian"


@pytest.mark.parametrize(
    ("python", "suite"),
    [("3.11", "bookworm"), ("3.13", "trixie"), ("3.9", "bullseye"), ("3.11.4", "bookworm")],
)
def test_suite_follows_python(python: str, suite: str) -> None:
    assert sources.suite_for(python) == suite


def test_unsupported_python_lists_supported_versions() -> None:
    with pytest.raises(UsageError) as info:
        sources.suite_for("3.12")
    assert "3.9, 3.11, 3.13" in info.value.hint
    with pytest.raises(UsageError):
        sources.check_python("three")


def test_explicit_suite_wins_and_is_checked() -> None:
    assert sources.suite_for("3.11", "trixie") == "trixie"
    with pytest.raises(UsageError):
        sources.suite_for("3.11", "../etc")


def test_tags() -> None:
    assert sources.check_tag("ptest-tui/python:3.11") == "ptest-tui/python:3.11"
    assert sources.check_tag("localhost:5000/a/b:v1") == "localhost:5000/a/b:v1"
    for bad in ("", "Upper/Case", "a b", "x:"):
        with pytest.raises(UsageError):
            sources.check_tag(bad)


# Each case checked against dockerd 20.10 with `docker tag IMAGE REF`.
@pytest.mark.parametrize(
    "good",
    ["a__b", "a--b", "a.b_c", "reg_io/x", "my.reg:5000/x", "Reg.io/x", "localhost/a",
     "x:" + "a" * 128, "x:V1.0-rc_1"],
)
def test_tags_the_daemon_accepts(good: str) -> None:
    assert sources.check_tag(good) == good


@pytest.mark.parametrize(
    "bad",
    ["BAD/Img", "BAD/img", "a___b", "a.-b", "-a", "a-", "a//b", "/a", "a/", "a:b:c",
     "x:" + "a" * 129, "x:.v", "a@sha256:00", "reg.io:port/x", "-reg.io/x"],
)
def test_tags_the_daemon_refuses(bad: str) -> None:
    with pytest.raises(UsageError):
        sources.check_tag(bad)


def test_default_tag_uses_config_image_only_for_its_python() -> None:
    assert sources.default_tag("3.11", "ptest-tui/python:3.11") == "ptest-tui/python:3.11"
    assert sources.default_tag("3.13", "ptest-tui/python:3.11") == "ptest-tui/python:3.13"
    assert sources.default_tag("3.11", "corp/base:latest", "3.11") == "corp/base:latest"
    assert sources.default_tag("3.11", "corp/base:latest") == "ptest-tui/python:3.11"


def test_host_mirror_from_one_line_lists(tmp_path: Path) -> None:
    lists = tmp_path / "sources.list.d"
    lists.mkdir()
    (lists / "a-thirdparty.list").write_text(
        "deb [arch=amd64 signed-by=/k.gpg] http://vendor.invalid/apt nodistro main\n"
    )
    (lists / "b-debian.list").write_text(
        textwrap.dedent(
            f"""\
            # deb http://commented.invalid/debian bookworm main
            deb-src {MIRROR} bookworm main
            deb http://security.invalid/debian-security bookworm-security main
            deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} bookworm main
            """
        )
    )
    (lists / "c.list.disabled").write_text("deb http://disabled.invalid/debian bookworm main\n")
    assert sources.host_mirror([tmp_path / "sources.list", lists]) == MIRROR


def test_host_mirror_from_deb822_sources(tmp_path: Path) -> None:
    lists = tmp_path / "sources.list.d"
    lists.mkdir()
    (lists / "debian.sources").write_text(
        textwrap.dedent(
            f"""\
            Types: deb
            URIs: http://off.invalid/debian
            Suites: bookworm
            Enabled: no

            Types: deb
            # a comment
            URIs: http://security.invalid/debian-security
            Suites: bookworm-security
            Components: main

            Types: deb deb-src
            URIs: {MIRROR}
            Suites: bookworm bookworm-updates
            Components: main
            """
        )
    )
    assert sources.host_mirror([lists]) == MIRROR


def test_mirror_precedence_and_no_sources(tmp_path: Path) -> None:
    missing = [tmp_path / "none"]
    assert sources.pick_mirror("http://flag.invalid/d", "http://cfg.invalid/d", missing) == (
        "http://flag.invalid/d"
    )
    assert sources.pick_mirror("", "http://cfg.invalid/d", missing) == "http://cfg.invalid/d"
    assert sources.pick_mirror("", "", missing) == ""


def test_cache_name_depends_on_suite_and_packages() -> None:
    a = sources.cache_name("bookworm")
    assert a.startswith("bookworm-") and a.endswith(".tar.gz")
    assert a != sources.cache_name("trixie")
    assert a != sources.cache_name("bookworm", ("python3",))
