"""The port allocator: no collisions across processes, pinned ports, persistence."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ptest_tui.errors import UsageError
from ptest_tui.objects.ports import PortAllocator, PortError, port_is_free
from ptest_tui.validation import parse_port_range

RANGE = (21000, 21999)


def test_allocation_is_stable_per_owner_and_survives_restarts(tmp_path: Path) -> None:
    ledger = tmp_path / "ports.db"
    first = PortAllocator(ledger, RANGE).allocate("/ws", "pg")
    assert RANGE[0] <= first <= RANGE[1]
    again = PortAllocator(ledger, RANGE)  # a new process, say
    assert again.allocate("/ws", "pg") == first
    assert [(a.port, a.owner) for a in again.allocations("/ws")] == [(first, "pg")]
    again.release("/ws", "pg")
    assert again.allocations() == []


def test_pinned_port_in_use_by_another_program_is_refused(tmp_path: Path) -> None:
    allocator = PortAllocator(tmp_path / "ports.db", RANGE)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        assert not port_is_free(taken)
        with pytest.raises(UsageError) as info:
            allocator.allocate("/ws", "pg", pinned=taken)
        assert f"port {taken} is in use" in info.value.message
    assert allocator.allocations() == []


def test_pinned_port_of_another_owner_is_refused(tmp_path: Path) -> None:
    allocator = PortAllocator(tmp_path / "ports.db", RANGE)
    port = allocator.allocate("/ws", "a")
    with pytest.raises(UsageError):
        allocator.allocate("/other", "b", pinned=port)
    assert allocator.allocate("/ws", "a", pinned=port) == port


def test_range_exhausted(tmp_path: Path) -> None:
    allocator = PortAllocator(tmp_path / "ports.db", (21500, 21502))
    ports = {allocator.allocate("/ws", f"o{i}") for i in range(3)}
    assert ports == {21500, 21501, 21502}
    with pytest.raises(PortError):
        allocator.allocate("/ws", "one-too-many")


def test_prune_forgets_deleted_workspaces(tmp_path: Path) -> None:
    allocator = PortAllocator(tmp_path / "ports.db", RANGE)
    allocator.allocate(str(tmp_path), "kept")
    allocator.allocate(str(tmp_path / "gone"), "lost")
    assert [a.owner for a in allocator.prune()] == ["lost"]
    assert [a.owner for a in allocator.allocations()] == ["kept"]


WORKER = """
import sys
from pathlib import Path
from ptest_tui.objects.ports import PortAllocator
allocator = PortAllocator(Path(sys.argv[1]), (21000, 21999))
for i in range(50):
    print(allocator.allocate(sys.argv[2], f"obj{i}"), flush=True)
"""


def test_four_processes_fifty_allocations_each_never_collide(tmp_path: Path) -> None:
    ledger = tmp_path / "ports.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ledger), f"/ws{n}"],
            stdout=subprocess.PIPE, text=True,
        )
        for n in range(4)
    ]
    ports: list[int] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        ports += [int(line) for line in out.split()]
    assert len(ports) == 200
    assert len(set(ports)) == 200
    assert len(PortAllocator(ledger, RANGE).allocations()) == 200


@pytest.mark.parametrize("text", ["20000", "a-b", "30000-20000", "80-90", "60000-70000"])
def test_bad_port_ranges(text: str) -> None:
    with pytest.raises(UsageError):
        parse_port_range(text)


def test_session_uses_the_configured_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ptest_tui.session import Session
    from tests.conftest import write_workspace

    monkeypatch.setenv("PTEST_CACHE_DIR", str(tmp_path / "cache"))
    root = write_workspace(tmp_path / "ws", '[objects]\nport_range = "23000-23010"\n')
    with Session.open(workspace=root, environ={}) as session:
        port = session.ports.allocate(str(root), "db")
    assert 23000 <= port <= 23010
