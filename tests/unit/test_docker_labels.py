"""Docker labels, names, filters, leftover detection and the workspace archive (no daemon)."""

from __future__ import annotations

import os
import socket
import tarfile
from pathlib import Path

import pytest

from ptest_tui.engines import docker_labels as labels
from ptest_tui.engines.docker_client import (
    DEFAULT_SOCKET,
    DockerTarget,
    archive_names,
    connect,
    resolve_target,
    workspace_archive,
)
from ptest_tui.engines.docker_exec import LineSplitter
from ptest_tui.errors import EngineUnavailableError
from ptest_tui.session import Session
from tests.conftest import write_workspace


def test_resource_labels_carry_workspace_env_and_session() -> None:
    got = labels.resource_labels("abc123", "unit", "s1")
    assert got == {
        "ptest.managed": "1",
        "ptest.workspace": "abc123",
        "ptest.env": "unit",
        "ptest.session": "s1",
    }


def test_container_name_and_filters() -> None:
    assert labels.container_name("abc123", "py3.11_x") == "ptest-abc123-py3.11_x"
    assert labels.workspace_filter("w") == {"label": ["ptest.workspace=w"]}
    assert labels.env_filter("w", "e") == {"label": ["ptest.workspace=w", "ptest.env=e"]}


def test_api_listings_become_resources() -> None:
    container = labels.container_from_api(
        {"Id": "c1", "Names": ["/ptest-w-a"], "Labels": {"ptest.env": "a"}}
    )
    network = labels.network_from_api({"Id": "n1", "Name": "net", "Labels": None})
    volume = labels.volume_from_api({"Name": "vol", "Labels": {"ptest.env": "b"}})
    assert (container.kind, container.id, container.name, container.env) == (
        "container", "c1", "ptest-w-a", "a"
    )
    assert (network.kind, network.name, network.env) == ("network", "net", "")
    assert (volume.kind, volume.id, volume.env) == ("volume", "vol", "b")


def test_orphans_are_resources_of_unknown_envs() -> None:
    found = [
        labels.LabelledResource("container", "1", "a", {"ptest.env": "kept"}),
        labels.LabelledResource("container", "2", "b", {"ptest.env": "gone"}),
        labels.LabelledResource("volume", "3", "c", {}),
    ]
    orphans = labels.orphans(found, {"kept"})
    assert [r.id for r in orphans] == ["2", "3"]
    assert "gone" in labels.orphan_reason(orphans[0])
    assert "no ptest.env label" in labels.orphan_reason(orphans[1])


@pytest.mark.parametrize(
    ("requested", "actual", "expected"),
    [
        ("3.11", "3.11.2", True),
        ("3", "3.11.2", True),
        ("3.11.2", "3.11.2", True),
        ("3.11.2", "3.11", False),
        ("3.1", "3.11.2", False),
        ("3.12", "3.11.2", False),
        ("", "3.11", False),
    ],
)
def test_python_matches_compares_given_components(
    requested: str, actual: str, expected: bool
) -> None:
    assert labels.python_matches(requested, actual) is expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ptest-tui/python:3.11", ("ptest-tui/python", "3.11")),
        ("busybox", ("busybox", "latest")),
        ("registry:5000/team/img", ("registry:5000/team/img", "latest")),
        ("registry:5000/team/img:v1", ("registry:5000/team/img", "v1")),
    ],
)
def test_split_tag(tag: str, expected: tuple[str, str]) -> None:
    assert labels.split_tag(tag) == expected


def test_target_resolution_order() -> None:
    configured = resolve_target("tcp://127.0.0.1:2375", {"DOCKER_HOST": "unix:///x.sock"})
    assert (configured.url, configured.source, configured.is_local) == (
        "tcp://127.0.0.1:2375", "docker.host", False
    )
    from_env = resolve_target("", {"DOCKER_HOST": "unix:///run/other.sock"})
    assert from_env.source == "DOCKER_HOST"
    assert from_env.socket_path == "/run/other.sock"
    assert from_env.is_local
    ssh = resolve_target("ssh://user@build-host", {})
    assert not ssh.is_local and ssh.socket_path is None


def test_default_target_is_local_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An empty DOCKER_CONFIG folder means no CLI context: the default socket is used.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    target = resolve_target("", {})
    assert target.url in (DEFAULT_SOCKET, "unix:///var/run/docker.sock")
    assert target.is_local


def test_workspace_archive_holds_only_regular_files_and_folders(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "sub" / "data.txt").write_text("data")
    (root / "top.txt").write_text("top")
    (root / ".ptest" / "envs").mkdir(parents=True)
    (root / ".ptest" / "state.db").write_text("secret")
    (root / "link.txt").symlink_to(root / "top.txt")
    (root / "linkdir").symlink_to(root / "pkg")
    os.mkfifo(root / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    try:
        archive = workspace_archive(root, "/workspace")
    finally:
        sock.close()
    with archive:
        names = archive_names(archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            members = {m.name: m for m in tar.getmembers()}
            assert tar.extractfile("workspace/pkg/mod.py").read() == b"x = 1\n"  # type: ignore[union-attr]
    assert names[0] == "workspace"
    assert set(names) == {
        "workspace",
        "workspace/pkg",
        "workspace/pkg/sub",
        "workspace/pkg/mod.py",
        "workspace/pkg/sub/data.txt",
        "workspace/top.txt",
    }
    assert all(m.isdir() or m.isreg() for m in members.values())


def test_line_splitter_joins_chunks_and_decodes_split_characters() -> None:
    lines: list[tuple[str, str]] = []
    splitter = LineSplitter("stdout", lambda s, line: lines.append((s, line)))
    snowman = "☃".encode()
    for chunk in (b"fir", b"st\r\nsec", snowman[:1], snowman[1:] + b"ond\n", b"tail"):
        splitter.feed(chunk)
    assert lines == [("stdout", "first"), ("stdout", "sec☃ond")]
    splitter.flush()
    assert lines[-1] == ("stdout", "tail")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unavailable_reasons_are_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "plain-file"
    plain.write_text("")
    cases = {
        f"unix://{tmp_path / 'missing.sock'}": "does not exist",
        f"unix://{plain}": "is not a socket",
        f"tcp://127.0.0.1:{_free_port()}": "not answering at tcp://127.0.0.1",
    }
    for url, expected in cases.items():
        with pytest.raises(EngineUnavailableError) as info:
            connect(DockerTarget(url, "test"))
        assert expected in info.value.message
        assert "\n" not in info.value.one_line() and info.value.hint


def test_engine_reports_why_it_is_unavailable(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    missing = tmp_path / "missing.sock"
    with Session.open(
        workspace=root, environ={}, overrides=[f"docker.host=unix://{missing}"]
    ) as session:
        engine = session.engines.get("docker")
        reason = engine.unavailable_reason()
        assert reason is not None and str(missing) in reason
        assert engine.unavailable_reason() == reason  # cached, not probed again
        assert engine.shares_host_filesystem is True
        with pytest.raises(EngineUnavailableError) as info:
            session.create_env("d", isolation="docker")
        assert "docker engine is unavailable" in info.value.message
        assert session.store.list_envs() == []
