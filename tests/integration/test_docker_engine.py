"""The docker engine against the real daemon and the locally built base image.

The base image (``ptest-tui/python:3.11``) is built by ``.ci/prepare.sh`` with
``ptest-tui image build --python 3.11``; no test pulls from a registry.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.docker import ImageMissingError
from ptest_tui.engines.docker_labels import env_filter
from ptest_tui.errors import EngineError, ExitCode, ImageError, UsageError
from ptest_tui.session import Session
from tests.integration.docker_support import IMAGE, engine_of

pytestmark = pytest.mark.docker
PTEST = Path(sys.executable).with_name("ptest-tui")


def run(session: Session, name: str, argv: list[str], **kw: Any) -> tuple[int, list[str]]:
    """Exit code and stdout lines of a command."""
    lines: list[str] = []
    result = session.exec(
        name, argv, on_output=lambda stream, line: lines.append(line) if stream == "stdout"
        else None, **kw
    )
    return result.exit_code, lines


def containers_of(session: Session, env: str) -> list[dict[str, Any]]:
    api = engine_of(session).api()
    return list(api.containers(all=True, filters=env_filter(session.workspace.id, env)))


def test_create_exec_streams_lines_and_exit_codes(dsession: Session) -> None:
    record = dsession.create_env("d", isolation="docker", env={"GREETING": "hello"})
    state = record.engine_state
    assert record.status == "ready" and record.isolation == "docker"
    assert state["image"] == IMAGE and state["image_id"].startswith("sha256:")
    assert state["python_version"].startswith("3.11.")
    assert state["container_name"] == f"ptest-{dsession.workspace.id}-d"
    seen: list[tuple[str, str]] = []
    result = dsession.exec(
        "d",
        ["python3", "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
        on_output=lambda stream, line: seen.append((stream, line)),
    )
    assert result.exit_code == 3 and not result.cancelled and not result.timed_out
    assert sorted(seen) == [("stderr", "err"), ("stdout", "out")]
    show = "echo $PTEST_ENV $PTEST_WORKSPACE $HOME $GREETING; pwd"
    code, lines = run(dsession, "d", ["sh", "-c", show])
    assert (code, lines) == (0, ["d /workspace /root hello", "/workspace"])
    assert run(dsession, "d", ["pwd"], cwd="/tmp") == (0, ["/tmp"])
    assert run(dsession, "d", ["sh", "-c", "echo $X"], env={"X": "per-call"}) == (0, ["per-call"])
    assert dsession.env_status("d").healthy


def test_output_is_streamed_while_the_command_runs(dsession: Session) -> None:
    # The command waits for a file the host creates only after seeing its first line:
    # without streaming it could never finish.
    dsession.create_env("s", isolation="docker")
    go = dsession.workspace.root / "go"
    lines: list[str] = []

    def on_output(stream: str, line: str) -> None:
        lines.append(line)
        if line == "ready":
            go.write_text("")

    script = (
        "import os, time\nprint('ready', flush=True)\n"
        "while not os.path.exists('/workspace/go'): time.sleep(0.05)\nprint('done')"
    )
    result = dsession.exec("s", ["python3", "-c", script], on_output=on_output, timeout=60)
    assert not result.timed_out
    assert (result.exit_code, lines) == (0, ["ready", "done"])


def test_limits_are_applied(dsession: Session) -> None:
    record = dsession.create_env("lim", isolation="docker", memory="64m", cpus="0.5", pids=64)
    assert record.engine_state["limits"] == {
        "memory": 64 * 1024**2, "cpus": 0.5, "pids": 64, "network": "none"
    }
    script = (
        "import os\n"
        "v1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes'\n"
        "print(open(v1 if os.path.exists(v1) else '/sys/fs/cgroup/memory.max').read().strip())"
    )
    assert run(dsession, "lim", ["python3", "-c", script]) == (0, [str(64 * 1024**2)])
    info = engine_of(dsession).api().inspect_container(record.engine_state["container_id"])
    host = info["HostConfig"]
    assert host["Memory"] == host["MemorySwap"] == 64 * 1024**2
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 64
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Init"] is True
    # network "none": the workspace's internal objects network alone (see test_objects_docker)
    assert host["NetworkMode"] == f"ptest-{dsession.workspace.id}-objects"
    assert record.engine_state["objects_network"] == host["NetworkMode"]


def test_network_none_by_default_and_bridge_on_request(dsession: Session) -> None:
    # "none" puts the env on the internal objects network alone (one interface besides lo,
    # no route out: test_objects_docker checks what it can and cannot reach); "bridge"
    # adds Docker's bridge to it.
    dsession.create_env("iso", isolation="docker")
    dsession.create_env("net", isolation="docker", network="bridge")
    listing = ["python3", "-c", "import os; print(' '.join(sorted(os.listdir('/sys/class/net'))))"]
    assert run(dsession, "iso", listing) == (0, ["eth0 lo"])
    assert run(dsession, "net", listing) == (0, ["eth0 eth1 lo"])
    api = engine_of(dsession).api()
    objects = f"ptest-{dsession.workspace.id}-objects"
    networks = {
        name: sorted(api.inspect_container(f"ptest-{dsession.workspace.id}-{name}")
                     ["NetworkSettings"]["Networks"])
        for name in ("iso", "net")
    }
    assert networks == {"iso": [objects], "net": sorted(["bridge", objects])}


def test_workspace_mount_read_only_by_default_and_rw_on_request(dsession: Session) -> None:
    root = dsession.workspace.root
    (root / "data.txt").write_text("from host\n")
    dsession.create_env("ro", isolation="docker")
    dsession.create_env("rw", isolation="docker", workspace_mount="rw")
    dsession.create_env("none", isolation="docker", workspace_mount="none")
    assert run(dsession, "ro", ["cat", "data.txt"]) == (0, ["from host"])
    code, _ = run(dsession, "ro", ["touch", "/workspace/new.txt"])
    assert code != 0 and not (root / "new.txt").exists()
    assert run(dsession, "rw", ["sh", "-c", "echo written > /workspace/new.txt"])[0] == 0
    assert (root / "new.txt").read_text() == "written\n"
    # The state folder is hidden from containers even with a rw mount.
    assert run(dsession, "rw", ["ls", "-A", "/workspace/.ptest"]) == (0, [])
    assert run(dsession, "none", ["sh", "-c", "test -e /workspace; echo $?; pwd"]) == (
        0, ["1", "/root"]
    )


def container_config(session: Session, name: str) -> tuple[list[Any], list[str], str]:
    """Mounts, environment and working folder of an env's container, as the daemon has them."""
    record = session.store.get_env(name)
    info = engine_of(session).api().inspect_container(record.engine_state["container_id"])
    return info["Mounts"], info["Config"]["Env"], info["Config"]["WorkingDir"]


def test_mount_none_from_the_cli_and_the_config_mounts_nothing(
    dsession: Session, workspace: Path
) -> None:
    done = subprocess.run(
        [str(PTEST), "--workspace", str(workspace), "env", "create", "bare",
         "--isolation", "docker", "--mount", "none"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    overrides = ["docker.workspace_mount=none"]
    with Session.open(workspace=workspace, environ={}, overrides=overrides) as configured:
        configured.create_env("cfg", isolation="docker")
    for name in ("bare", "cfg"):
        mounts, env, workdir = container_config(dsession, name)
        # Not even the tmpfs that hides .ptest (the package mounts are not the workspace's).
        assert [m for m in mounts if m["Destination"].startswith("/workspace")] == [], name
        assert not any(e.startswith("PTEST_WORKSPACE=") for e in env), name
        assert workdir == "/root"
        assert dsession.store.get_env(name).engine_state["workspace_mount"] == "none"
    # The default (ro) does mount, so the check above can fail.
    dsession.create_env("dflt", isolation="docker")
    assert "/workspace" in {m["Destination"] for m in container_config(dsession, "dflt")[0]}


def test_labels_on_containers(dsession: Session) -> None:
    dsession.create_env("lab", isolation="docker")
    [container] = containers_of(dsession, "lab")
    # The image's own labels (ptest.image, ptest.python) are inherited beside ours.
    assert container["Labels"].items() >= {
        "ptest.managed": "1",
        "ptest.workspace": dsession.workspace.id,
        "ptest.env": "lab",
        "ptest.session": dsession.session_id,
    }.items()


def test_status_and_delete(dsession: Session) -> None:
    record = dsession.create_env("st", isolation="docker")
    api = engine_of(dsession).api()
    api.stop(record.engine_state["container_id"], timeout=1)
    status = dsession.env_status("st")
    assert not status.healthy and "exited" in status.detail
    dsession.delete_env("st")
    assert containers_of(dsession, "st") == []
    assert dsession.store.find_env("st") is None
    engine_of(dsession).delete(record)  # idempotent
    assert not engine_of(dsession).status(record).healthy
    assert "missing" in engine_of(dsession).status(record).detail


def test_cancel_and_timeout_stop_the_process_in_the_container(dsession: Session) -> None:
    dsession.create_env("c", isolation="docker")
    cancel = CancelToken()
    timer = threading.Timer(0.5, cancel.cancel)
    timer.start()
    result = dsession.exec("c", ["sh", "-c", "sleep 300 & wait"], cancel=cancel)
    assert result.cancelled and result.exit_code != 0
    timed = dsession.exec("c", ["python3", "-c", "import time; time.sleep(300)"], timeout=0.5)
    assert timed.timed_out and timed.exit_code != 0
    # Nothing but the container's own init and sleep survives.
    script = (
        "import os\nfor p in os.listdir('/proc'):\n"
        " if p.isdigit():\n"
        "  try: print(open(f'/proc/{p}/cmdline','rb').read().replace(b'\\0',b' ').decode())\n"
        "  except OSError: pass"
    )
    _, lines = run(dsession, "c", ["python3", "-c", script])
    assert not [line for line in lines if "sleep 300" in line or "time.sleep" in line]


def test_missing_image_is_refused_before_anything_changes(dsession: Session) -> None:
    with pytest.raises(ImageError) as info:
        dsession.create_env("img", isolation="docker", image="ptest-tui/missing:3.11")
    assert isinstance(info.value, ImageMissingError)
    assert info.value.exit_code == ExitCode.USAGE
    assert "ptest-tui/missing:3.11" in info.value.message
    assert "`ptest-tui image build --python 3.11 --tag ptest-tui/missing:3.11`" in info.value.hint
    assert dsession.store.find_env("img") is None
    assert containers_of(dsession, "img") == []


def test_python_must_match_the_image(dsession: Session) -> None:
    with pytest.raises(UsageError) as info:
        dsession.create_env("py", isolation="docker", python="3.13")
    assert "has Python 3.11." in info.value.message and "not 3.13" in info.value.message
    assert "ptest-tui image build --python 3.13 --tag ptest-tui/python:3.13" in info.value.hint
    assert dsession.store.find_env("py") is None
    record = dsession.create_env("py", isolation="docker", python="3.11")
    assert record.engine_state["python_version"].startswith("3.11")


def test_leftovers_and_cleanup_remove_unknown_labelled_resources(dsession: Session) -> None:
    engine = engine_of(dsession)
    dsession.create_env("kept", isolation="docker")
    # A container made by the engine but never stored, as a crashed run would leave it.
    spec = dsession.spec_for("ghost", isolation="docker")
    engine.create(spec, CancelToken())
    api = engine.api()
    labels = {
        "ptest.managed": "1", "ptest.workspace": dsession.workspace.id,
        "ptest.env": "ghost", "ptest.session": "old",
    }
    volume = f"ptest-{dsession.workspace.id}-ghost-vol"
    network = f"ptest-{dsession.workspace.id}-ghost-net"
    api.create_volume(volume, labels=labels)
    api.create_network(network, labels=labels)
    found = {(leftover.kind, leftover.env) for leftover in engine.leftovers({"kept"})}
    assert found == {("container", "ghost"), ("volume", "ghost"), ("network", "ghost")}
    planned = dsession.cleanup(dry_run=True)
    assert {(i.kind, i.env) for i in planned} == found
    assert len(containers_of(dsession, "ghost")) == 1
    dsession.cleanup()
    assert engine.leftovers({"kept"}) == []
    assert containers_of(dsession, "ghost") == []
    assert len(containers_of(dsession, "kept")) == 1
    assert dsession.env_status("kept").healthy


def test_delete_also_removes_labelled_leftovers_of_the_env(dsession: Session) -> None:
    record = dsession.create_env("part", isolation="docker")
    engine = engine_of(dsession)
    labels = {"ptest.workspace": dsession.workspace.id, "ptest.env": "part"}
    engine.api().create_volume(f"ptest-{dsession.workspace.id}-part-extra", labels=labels)
    dsession.delete_env("part")
    assert engine.leftovers(set()) == []
    assert containers_of(dsession, record.name) == []


def test_create_many_in_parallel(dsession: Session) -> None:
    names = [f"par{i}" for i in range(6)]
    outcomes = dsession.create_envs(
        [dsession.spec_for(n, isolation="docker") for n in names], max_workers=6
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if o.error]
    for name in names:
        assert run(dsession, name, ["python3", "-c", "print(1)"]) == (0, ["1"])
    errors = dsession.delete_envs(names)
    assert set(errors.values()) == {None}
    assert engine_of(dsession).leftovers(set()) == []


def test_sigkill_during_create_then_cleanup(dsession: Session, workspace: Path) -> None:
    api = engine_of(dsession).api()
    for attempt in range(5):
        name = f"killed{attempt}"
        child = subprocess.Popen(
            [str(PTEST), "--workspace", str(workspace), "env", "create", name,
             "--isolation", "docker"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and child.poll() is None:
                if api.containers(all=True, filters=env_filter(workspace_id(workspace), name)):
                    break
                time.sleep(0.01)
            alive = child.poll() is None
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
        if alive:
            break
        # The create finished before it could be killed: clean up and try again.
        with Session.open(workspace=workspace, environ={}) as again:
            again.delete_env(name, force=True)
    else:
        pytest.fail("the create always finished before the container was seen")
    assert containers_of(dsession, name)
    with Session.open(workspace=workspace, environ={}) as after:
        assert name in after.recovered
        assert after.get_env(name).status == "broken"
        removed = after.cleanup()
        assert ("env", name) in {(i.kind, i.env) for i in removed}
        assert after.store.find_env(name) is None
    assert containers_of(dsession, name) == []


def workspace_id(root: Path) -> str:
    from ptest_tui.workspace import Workspace

    return Workspace(root.resolve()).id


class _Forward(socketserver.BaseRequestHandler):
    """Pipes one TCP connection to the local docker socket, both ways."""

    server: _Proxy

    def handle(self) -> None:
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(self.server.socket_path)

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

        self.server.open.extend([self.request, upstream])
        back = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
        back.start()
        pipe(self.request, upstream)
        back.join(30)
        upstream.close()


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, socket_path: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.socket_path = socket_path
        self.open: list[socket.socket] = []

    def cut(self) -> None:
        """Stop accepting and drop every open connection: the daemon is gone."""
        self.shutdown()
        self.server_close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(dsession: Session) -> Iterator[_Proxy]:
    """The local daemon reached over tcp://127.0.0.1 (a real remote-style connection)."""
    path = engine_of(dsession).target.socket_path
    if path is None:
        pytest.skip("the daemon is not on a local socket")
    server = _Proxy(path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.cut()


def url_of(server: _Proxy) -> str:
    return f"tcp://127.0.0.1:{server.server_address[1]}"


def test_remote_daemon_gets_the_workspace_by_copy(
    dsession: Session, workspace: Path, proxy: _Proxy
) -> None:
    tcp_daemon = url_of(proxy)
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "mod.py").write_text("VALUE = 42\n")
    (workspace / "link").symlink_to("/etc/hostname")
    overrides = [f"docker.host={tcp_daemon}"]
    with Session.open(workspace=workspace, environ={}, overrides=overrides) as remote:
        engine = engine_of(remote)
        assert engine.shares_host_filesystem is False
        assert engine.unavailable_reason() is None
        record = remote.create_env("far", isolation="docker")
        assert record.engine_state["docker_host"] == tcp_daemon
        info = engine.api().inspect_container(record.engine_state["container_id"])
        assert info["Mounts"] == []
        code, lines = run(
            remote, "far", ["python3", "-c", "import pkg.mod, os; print(pkg.mod.VALUE);"
                            " print(sorted(os.listdir('.')))"],
        )
        assert (code, lines) == (0, ["42", "['pkg', 'ptest.toml']"])
        cancel = CancelToken()
        threading.Timer(0.5, cancel.cancel).start()
        assert remote.exec("far", ["sleep", "300"], cancel=cancel).cancelled
        remote.delete_env("far")
        assert containers_of(dsession, "far") == []


def test_losing_the_daemon_is_a_one_line_error(
    dsession: Session, workspace: Path, proxy: _Proxy
) -> None:
    overrides = [f"docker.host={url_of(proxy)}"]
    with Session.open(workspace=workspace, environ={}, overrides=overrides) as remote:
        remote.create_env("lost", isolation="docker")
        proxy.cut()
        with pytest.raises(EngineError) as info:
            remote.exec("lost", ["true"])
        assert "lost the Docker daemon at tcp://127.0.0.1" in info.value.message
        status = remote.env_status("lost")
        assert not status.healthy and "lost the Docker daemon" in status.detail
    assert len(containers_of(dsession, "lost")) == 1  # still there; the fixture removes it
