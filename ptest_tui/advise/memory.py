"""What is known about an env's memory: OOM kills and the peak, from every source there is.

Sources, each used only when it exists:

* results in the window whose command was SIGKILLed (exit code 137), which is what the
  kernel's OOM killer sends; a command case says "got 137", a pytest case "exit code 137";
* the container's state: Docker sets ``OOMKilled`` when its main process was killed;
* the container's memory cgroup (local daemon only): the kernel counts every OOM kill in
  it (``oom_kill``, exec'd commands included) and keeps the high-water mark of its usage
  (``memory.max_usage_in_bytes`` on cgroup v1, ``memory.peak`` on v2);
* monitor samples, when the monitor stores them (ptest_tui.monitor); otherwise the peak
  comes from the cgroup alone and the evidence says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.errors import PtestError

if TYPE_CHECKING:
    from ptest_tui.advise.context import AdviseContext, ResultRow
    from ptest_tui.store import EnvRecord

# "exit code: expected 0, got 137", "exit code 137: killed by SIGKILL?", "killed by SIGKILL"
_KILLED_RE = re.compile(r"(?:\bgot 137\b|\bexit code 137\b|\bexit 137\b|killed by SIGKILL)")

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class MemoryFacts:
    """What was found about one env's memory."""

    killed_results: tuple[ResultRow, ...] = ()
    oom_killed_main: bool = False  # Docker's State.OOMKilled
    oom_kills: int | None = None  # the cgroup's oom_kill counter (None: not readable)
    peak: int | None = None  # bytes
    peak_source: str = ""  # "monitor samples", "the container's memory cgroup"
    since: str = ""  # when the container started (the cgroup counts from then)

    @property
    def oom_seen(self) -> bool:
        """Any sign that the limit killed something."""
        return bool(self.killed_results or self.oom_killed_main or (self.oom_kills or 0) > 0)


def killed_results(ctx: AdviseContext, env: str) -> tuple[ResultRow, ...]:
    """Results in the window of ``env`` whose process was SIGKILLed (not by a timeout)."""
    return tuple(
        row for row in ctx.results()
        if row.env == env and _KILLED_RE.search(row.message) and "timeout" not in row.message
    )


def _read_counter(path: Path, key: str) -> int | None:
    """``key N`` from a flat-keyed cgroup file (memory.oom_control, memory.events)."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except OSError:
        return None
    return None


def _read_number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def cgroup_memory(pid: int, proc: Path = Path("/proc"), root: Path = CGROUP_ROOT) -> tuple[
    int | None, int | None
]:
    """(oom kills, peak bytes) of the memory cgroup of host process ``pid``; None for each
    value the kernel does not expose here (no cgroup, v2 kernel without memory.peak)."""
    try:
        lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None, None
    v1 = v2 = None
    for line in lines:
        _number, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            v1 = path
        elif controllers == "":
            v2 = path
    if v1 is not None:
        folder = root / "memory" / v1.lstrip("/")
        if folder.is_dir():
            return (
                _read_counter(folder / "memory.oom_control", "oom_kill"),
                _read_number(folder / "memory.max_usage_in_bytes"),
            )
    if v2 is not None:
        folder = root / v2.lstrip("/")
        if (folder / "memory.events").is_file():
            return (
                _read_counter(folder / "memory.events", "oom_kill"),
                _read_number(folder / "memory.peak"),
            )
    return None, None


def _container(ctx: AdviseContext, record: EnvRecord) -> tuple[dict[str, Any] | None, bool]:
    """The container's inspect data (None when unreachable, noted) and whether the
    daemon is local (its cgroups are on this host)."""
    import docker.errors

    engine: Any = ctx.session.engines.get(record.isolation)
    reason = engine.unavailable_reason()
    if reason:
        ctx.skipped.append(f"memory of {record.name}: docker is unavailable ({reason})")
        return None, False
    try:
        info = engine.api().inspect_container(engine.container_ref(record))
    except docker.errors.NotFound:
        ctx.skipped.append(f"memory of {record.name}: its container is missing")
        return None, False
    except (docker.errors.DockerException, OSError, PtestError) as exc:
        ctx.skipped.append(f"memory of {record.name}: cannot inspect its container ({exc})")
        return None, False
    return dict(info), bool(getattr(engine, "shares_host_filesystem", False))


def monitor_peak(ctx: AdviseContext, env: str) -> int | None:
    """The highest memory in stored monitor samples of ``env``, if the monitor stores any.

    The monitor keeps its samples in memory (ring buffers) unless it offers
    ``stored_peak_memory(session, target)``; until then this returns None.
    """
    try:
        from ptest_tui import monitor
    except ImportError:
        return None
    lookup = getattr(monitor, "stored_peak_memory", None)
    if lookup is None:
        return None
    try:
        value = lookup(ctx.session, f"env:{env}")
    except PtestError as exc:
        ctx.skipped.append(f"monitor samples of {env}: {exc.message}")
        return None
    return int(value) if isinstance(value, int | float) and value > 0 else None


def memory_facts(ctx: AdviseContext, record: EnvRecord) -> MemoryFacts:
    """Everything known about the memory of one env with a limit."""
    killed = killed_results(ctx, record.name)
    peak = monitor_peak(ctx, record.name)
    source = "monitor samples" if peak is not None else ""
    oom_main, kills, since = False, None, ""
    if record.isolation == "docker" and record.status in ("ready", "busy", "broken"):
        info, local = _container(ctx, record)
        if info is not None:
            state = info.get("State") or {}
            oom_main = bool(state.get("OOMKilled"))
            started = str(state.get("StartedAt") or "")[:19].replace("T", " ")
            since = f"{started} UTC" if started else ""  # Docker reports UTC
            pid = int(state.get("Pid") or 0)
            if local and pid > 0:
                kills, cgroup_peak = cgroup_memory(pid)
                if peak is None and cgroup_peak is not None:
                    peak, source = cgroup_peak, "the container's memory cgroup"
    return MemoryFacts(killed, oom_main, kills, peak, source, since)
