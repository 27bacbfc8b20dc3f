"""An ObjectContext for tests that use test objects without a whole Session."""

from __future__ import annotations

from pathlib import Path

from ptest_tui.objects.base import ObjectContext
from ptest_tui.objects.ports import PortAllocator


def object_context(root: Path, port_range: tuple[int, int] = (20000, 29999)) -> ObjectContext:
    """A context for a workspace at ``root`` with its own port ledger (real allocations)."""
    ports = PortAllocator(root / ".ptest-ports.db", port_range)
    key = str(root)
    return ObjectContext(
        workspace=root,
        objects_dir=root / ".ptest" / "objects",
        workspace_key=f"test-{abs(hash(key)) % 10**8}",
        allocate_port=lambda name, pinned: ports.allocate(key, name, pinned),
        release_port=lambda name: ports.release(key, name),
        held_port=lambda name: next(
            (a.port for a in ports.allocations(key) if a.owner == name), None
        ),
    )
