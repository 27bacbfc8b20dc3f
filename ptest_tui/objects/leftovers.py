"""What ``obj cleanup`` removes: servers, data and folders that no object owns.

- a server process carrying this workspace's marker whose object is unknown, or that is
  not the process its object's pid file names (started by a ptest-tui killed before it
  wrote the pid file);
- a crashed server's stale pid file;
- folders under ``.ptest/objects`` of objects that no longer exist;
- shared data folders (``/var/lib/ptest-tui/objects``) whose object folder is gone;
- labelled containers and volumes of objects that no longer exist (when the container
  runtime is available).
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ptest_tui.objects.account import orphaned_shared_data
from ptest_tui.objects.process import PidRecord, marked_processes, terminate
from ptest_tui.outcomes import CleanupItem

if TYPE_CHECKING:
    from ptest_tui.objects.service import ObjectService


@dataclass(frozen=True)
class Leftover:
    """One thing to remove, and how."""

    item: CleanupItem
    remove: Callable[[], object]


def _stop_marked(pid: int, started: float) -> None:
    terminate(PidRecord(pid, started, ""), signal.SIGTERM, 10.0)


def find_leftovers(service: ObjectService) -> list[Leftover]:
    """Everything of this workspace's objects that nothing owns any more."""
    specs = service.specs()
    found: list[Leftover] = []
    tracked: dict[str, int | None] = {}
    for name in specs:
        obj = service.instance(name)
        tracked[name] = obj.pid()
    prefix = f"{service.context.workspace_key}/"
    for process in marked_processes(prefix):
        name = process.marker[len(prefix):]
        if name in specs and tracked.get(name) == process.pid:
            continue
        reason = (
            f"server of unknown object {name}" if name not in specs
            else f"untracked server of {name} (not in its pid file)"
        )
        found.append(Leftover(
            CleanupItem("process", str(process.pid), name, reason),
            partial(_stop_marked, process.pid, process.started),
        ))
    objects_dir = service.context.objects_dir
    if objects_dir.is_dir():
        for folder in sorted(objects_dir.iterdir()):
            if folder.is_dir() and folder.name not in specs:
                found.append(Leftover(
                    CleanupItem("folder", str(folder), folder.name, "no object owns this folder"),
                    partial(_remove_object_folder, service, folder.name),
                ))
            elif folder.name in specs and tracked.get(folder.name) is None:
                pid_files = [p for p in folder.glob("*.pid") if p.is_file()]
                for pid_file in pid_files:
                    found.append(Leftover(
                        CleanupItem("pidfile", str(pid_file), folder.name,
                                    "its server is no longer running"),
                        partial(pid_file.unlink, missing_ok=True),
                    ))
    for data in orphaned_shared_data():
        found.append(Leftover(
            CleanupItem("data", str(data), "", "its object folder no longer exists"),
            partial(_remove_shared, data),
        ))
    from ptest_tui.objects.container import leftovers as container_leftovers

    found.extend(container_leftovers(service, set(specs)))
    return found


def _remove_object_folder(service: ObjectService, name: str) -> None:
    from ptest_tui.objects.account import remove_data_dir

    folder = service.context.folder(name)
    remove_data_dir(folder)
    shutil.rmtree(folder, ignore_errors=True)
    service.context.release_port(name)


def _remove_shared(data: object) -> None:
    from pathlib import Path

    path = Path(str(data))
    shutil.rmtree(path, ignore_errors=True)
    path.with_name(f"{path.name}.owner").unlink(missing_ok=True)

