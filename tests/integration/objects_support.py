"""Shared scenarios for the host database objects (postgres, redis, mysql/mariadb).

Each kind's test module describes how to talk to its server with the real client program
(:class:`KindDriver`: write a value, read them back, break the data folder, make a start
hang) and runs the same scenarios against a real server. :class:`Objects` builds objects in
a fresh workspace and, at teardown, removes them and checks through the environment marker
that no server process of the workspace is left running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectContext, ObjectSpec
from ptest_tui.objects.host_tools import ToolError
from ptest_tui.objects.process import MarkedProcess, PidRecord, marked_processes, terminate
from ptest_tui.objects.readiness import ObjectStartError, PortOpen
from ptest_tui.objects.server import ObjectUnavailableError, ServerObject
from tests.support.objects import object_context


class KindDriver(ABC):
    """What the scenarios need to know about one kind."""

    cls: type[ServerObject]
    good_init: tuple[str, str]  # (file name, text) that stores "seeded" where read() sees it
    bad_init: tuple[str, str, int, str]  # (file name, text, failing line, words of the error)

    @abstractmethod
    def write(self, info: ConnectionInfo, value: str) -> None:
        """Store ``value`` with the kind's real client program."""

    @abstractmethod
    def read(self, info: ConnectionInfo) -> list[str]:
        """Every stored value, sorted, read back with the real client program."""

    @abstractmethod
    def corrupt(self, data: Path) -> None:
        """Damage the data folder the way the kind checks before starting."""

    @abstractmethod
    def damage(self, data: Path) -> None:
        """Damage the data folder so that the server itself refuses it and exits."""

    @abstractmethod
    def hang(self, obj: ServerObject, data: Path) -> Any:
        """Make the next start hang for real after logging a little; return undo state."""

    @abstractmethod
    def unhang(self, obj: ServerObject, data: Path, state: Any) -> None:
        """Undo :meth:`hang`."""


def run(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    """Run a client program; its stdout, or a test failure with its stderr."""
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False, input=stdin,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})},
    )
    if done.returncode != 0:
        pytest.fail(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def make_fifo(path: Path, obj: ServerObject) -> None:
    """A named pipe at ``path``, owned by the server's account: opening it blocks forever."""
    path.unlink(missing_ok=True)
    os.mkfifo(path, 0o600)
    account = obj.account
    if account is not None:
        os.chown(path, account.uid, account.gid)


class Objects:
    """Objects of one kind in a fresh workspace; cleaned up and checked for leaks."""

    def __init__(self, driver: KindDriver, root: Path) -> None:
        self.driver = driver
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        context = object_context(root)
        self.ports: list[int] = []  # every port handed out, in order

        def allocate(owner: str, pinned: int | None) -> int:
            self.ports.append(context.allocate_port(owner, pinned))
            return self.ports[-1]

        self.context: ObjectContext = replace(context, allocate_port=allocate)
        self.made: list[ServerObject] = []

    def __call__(self, name: str = "obj", **settings: Any) -> ServerObject:
        """An object named ``name`` (one folder per name) with these settings."""
        obj = self.driver.cls(ObjectSpec(name, self.driver.cls.kind, settings), self.context)
        self.made.append(obj)
        return obj

    def file(self, name: str, text: str) -> str:
        """Write a workspace file (an init script); its workspace-relative name."""
        (self.root / name).write_text(text)
        return name

    def running(self) -> list[MarkedProcess]:
        """Server processes of this workspace that still run (found by their marker)."""
        return marked_processes(self.context.workspace_key + "/")

    def cleanup(self) -> None:
        """Remove every object; fail when a server process survived that."""
        for obj in reversed(self.made):
            obj.remove()
        leaked = self.running()
        for process in leaked:  # kill them anyway so one failure does not pile up
            terminate(PidRecord(process.pid, process.started, "leak"), signal.SIGKILL, 5.0)
        assert leaked == [], f"server processes left running: {leaked}"


def data_folder(obj: ServerObject) -> Path:
    """The object's real data folder (behind the ``data`` symlink when there is one)."""
    return (obj.folder / "data").resolve()


@contextmanager
def held_port() -> Iterator[int]:
    """A port another program (this test) listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


def assert_nothing_running(objects: Objects, obj: ServerObject, port: int | None) -> None:
    """No server process, no port held in the ledger, nothing listening on the port."""
    assert objects.running() == []
    assert obj.pid() is None
    assert obj.context.held_port(obj.name) is None
    if port is not None:
        # Not a bind probe: connections the server closed itself may sit in TIME_WAIT on
        # the port for a minute, which only a bind without SO_REUSEADDR minds.
        assert not PortOpen(port).check()


# -- scenarios -----------------------------------------------------------------------------


def lifecycle(objects: Objects) -> None:
    """Start from nothing, keep data across stop/start, restart and kill -9, find the marker,
    then drop the data with fresh."""
    driver = objects.driver
    init = objects.file(*driver.good_init)
    obj = objects("db", init=[init])
    info = obj.start(CancelToken())
    assert info.port is not None and info.url
    assert obj.status().running and obj.status().healthy
    driver.write(info, "one")
    assert driver.read(info) == ["one", "seeded"]

    obj.stop()
    assert obj.status().detail == "stopped" and not obj.status().running
    assert objects.running() == []
    info = obj.start(CancelToken())
    driver.write(info, "two")
    assert driver.read(info) == ["one", "seeded", "two"]

    info = obj.restart(CancelToken())
    assert driver.read(info) == ["one", "seeded", "two"]
    # Starting a server that runs and answers changes nothing.
    pid = obj.pid()
    assert obj.start(CancelToken()).port == info.port and obj.pid() == pid

    driver.write(info, "three")
    obj.process.kill()  # kill -9 of the whole process group: a crash
    status = obj.status()
    assert not status.running and not status.healthy
    assert status.detail.startswith("crashed")
    info = obj.start(CancelToken())
    assert obj.status().healthy
    assert driver.read(info) == ["one", "seeded", "three", "two"]

    # A server whose pid file is gone is still found by the marker in its environment.
    record = obj.process.record()
    assert record is not None
    obj.process.pid_file.unlink()
    found = objects.running()
    assert [(p.pid, p.marker) for p in found] == [
        (record.pid, f"{objects.context.workspace_key}/db")
    ]
    terminate(record, obj.stop_signal, 30.0)
    assert objects.running() == []

    info = obj.start(CancelToken(), fresh=True)
    assert driver.read(info) == ["seeded"]  # the init script ran again on the new data
    obj.stop()


def bad_init_script(objects: Objects) -> None:
    """An init script error names the script and line; nothing is left; a fixed start works."""
    name, text, line, words = objects.driver.bad_init
    obj = objects("db", init=[objects.file(name, text)])
    with pytest.raises(ToolError) as failure:
        obj.start(CancelToken())
    assert failure.value.message.startswith(f"db: {name} line {line}: ")
    assert words.lower() in failure.value.message.lower()
    assert_nothing_running(objects, obj, objects.ports[-1])
    assert not (obj.folder / "data").exists()
    assert not obj.marker_file.exists()

    good = objects("db")
    info = good.start(CancelToken())
    assert objects.driver.read(info) == []
    good.stop()


def pinned_port_taken(objects: Objects) -> None:
    """A pinned port another program holds is refused before anything starts; auto moves on."""
    with held_port() as port:
        obj = objects("db", port=port)
        with pytest.raises(UsageError) as refused:
            obj.start(CancelToken())
        assert str(port) in refused.value.message
        assert objects.running() == []
        assert not (obj.folder / "data").exists()
        auto = objects("db", port="auto")
        info = auto.start(CancelToken())
        assert info.port is not None and info.port != port
        assert objects.driver.read(info) == []
        auto.stop()


def corrupted_data(objects: Objects) -> None:
    """A broken data folder fails in one line with a --fresh hint; --fresh recovers."""
    driver = objects.driver
    obj = objects("db")
    info = obj.start(CancelToken())
    driver.write(info, "kept")
    obj.stop()

    driver.corrupt(data_folder(obj))
    with pytest.raises(ToolError) as checked:
        obj.start(CancelToken())
    assert "--fresh" in checked.value.hint
    assert objects.running() == []
    assert obj.context.held_port(obj.name) is None

    info = obj.start(CancelToken(), fresh=True)
    driver.write(info, "again")
    obj.stop()
    driver.damage(data_folder(obj))
    with pytest.raises(ObjectStartError) as refused:
        obj.start(CancelToken())
    assert "exited before" in refused.value.message
    assert "last log lines:" in refused.value.message
    assert "--fresh" in refused.value.hint
    assert "\n" not in refused.value.message
    assert objects.running() == []
    assert obj.context.held_port(obj.name) is None
    assert driver.read(obj.start(CancelToken(), fresh=True)) == []
    obj.stop()


def start_timeout(objects: Objects) -> None:
    """A server that hangs for real times out with its last log lines and is stopped."""
    driver = objects.driver
    obj = objects("db")
    info = obj.start(CancelToken())
    driver.write(info, "kept")
    obj.stop()

    state = driver.hang(obj, data_folder(obj))
    slow = objects("db", startup_timeout=1)
    with pytest.raises(ObjectStartError) as timed_out:
        slow.start(CancelToken())
    message = timed_out.value.message
    assert message.startswith("db not ready after 1 s (waiting for ")
    assert "last log lines:" in message
    assert objects.running() == []
    assert obj.context.held_port(obj.name) is None

    driver.unhang(obj, data_folder(obj), state)
    assert driver.read(obj.start(CancelToken())) == ["kept"]
    obj.stop()


def missing_programs(
    objects: Objects, monkeypatch: pytest.MonkeyPatch, empty: Path, hint: str
) -> None:
    """Without the server programs: ObjectUnavailableError with the packages hint."""
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    obj = objects("db")
    reason = obj.unavailable_reason()
    assert reason is not None and "not found" in reason
    with pytest.raises(ObjectUnavailableError) as missing:
        obj.start(CancelToken())
    assert hint in missing.value.hint
    assert not obj.folder.exists()
    assert obj.context.held_port(obj.name) is None
