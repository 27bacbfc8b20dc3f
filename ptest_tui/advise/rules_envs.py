"""Rules over environments: idle ones and memory limits that are too tight or too loose."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ptest_tui.advise.context import AdviseContext, spec_memory
from ptest_tui.advise.memory import memory_facts
from ptest_tui.advise.model import Advice, mib
from ptest_tui.validation import format_memory

DAY = 86400.0
MIB = 1024**2


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def folder_size(folder: Path, limit: int = 200_000) -> int:
    """Bytes under ``folder`` (symlinks not followed; stops counting after ``limit``
    entries so a huge env cannot make advise slow)."""
    total, seen = 0, 0
    stack = [folder]
    while stack and seen < limit:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def idle_envs(ctx: AdviseContext) -> list[Advice]:
    """Envs nobody used for ``idle_days``: delete them (snapshot first to keep them)."""
    found: list[Advice] = []
    limit = ctx.settings.idle_days
    for record in ctx.envs():
        at, how = ctx.last_use(record)
        days = (ctx.now - at) / DAY
        if days < limit:
            continue
        evidence = [
            f"last used {_when(at)}, {days:.1f} days ago ({how})",
            f"created {_when(record.created_at)}, {(ctx.now - record.created_at) / DAY:.1f}"
            " days ago",
            f"the idle threshold is {limit:g} days (advise.idle_days)",
        ]
        folder = ctx.session.workspace.state_dir / "envs" / record.name
        if record.isolation != "docker" and folder.is_dir():
            evidence.append(f"its folder holds {mib(folder_size(folder))} ({folder})")
        found.append(Advice(
            kind="idle-env",
            target_kind="env",
            target=record.name,
            message=f"{record.name} ({record.isolation}) has not been used for {days:.0f} days:"
            f" delete it (ptest-tui env delete {record.name}), after"
            f" `ptest-tui snapshot create {record.name}` if you may need it again",
            evidence=tuple(evidence),
            severity="low",
            env=record.name,
        ))
    return found


def _round_up(amount: float, step: int = 64 * MIB) -> int:
    return max(step, int(-(-amount // step) * step))


def memory_limits(ctx: AdviseContext) -> list[Advice]:
    """Memory limits that killed commands (raise them) or sit far above the observed
    peak (lower them, so more envs fit on the machine)."""
    found: list[Advice] = []
    for record in ctx.envs():
        limit = spec_memory(record)
        if limit is None:
            continue
        facts = memory_facts(ctx, record)
        shown = format_memory(limit)
        if facts.oom_seen:
            evidence = [f"memory limit {shown} ({mib(limit)})"]
            if facts.killed_results:
                runs = sorted({r.run_id for r in facts.killed_results}, key=int)
                names = sorted({f"{r.suite}/{r.case}" for r in facts.killed_results})
                evidence.append(
                    f"{len(facts.killed_results)} result(s) in run(s) {', '.join(runs)} ended"
                    f" with exit code 137 (SIGKILL, what the OOM killer sends):"
                    f" {', '.join(names[:3])}"
                )
            if facts.oom_kills:
                evidence.append(
                    f"the kernel OOM-killed {facts.oom_kills} process(es) in its container"
                    f" since {facts.since or 'it started'} (memory cgroup oom_kill)"
                )
            if facts.oom_killed_main:
                evidence.append("Docker reports the container itself as OOMKilled")
            if facts.peak is not None:
                evidence.append(f"peak usage {mib(facts.peak)} ({facts.peak_source})")
            found.append(Advice(
                kind="memory-too-tight",
                target_kind="env",
                target=record.name,
                message=f"{record.name}'s memory limit {shown} is too tight: commands were"
                f" killed for lack of memory; raise it (memory = \"{format_memory(limit * 2)}\""
                f" in [envs.{record.name}]) or find what uses it",
                evidence=tuple(evidence),
                severity="high",
                env=record.name,
            ))
            continue
        if facts.peak is None:
            ctx.skipped.append(
                f"memory of {record.name}: no observed peak (no stored monitor samples, and"
                " the container's memory cgroup is not readable here)"
            )
            continue
        if not any(t.new == "busy" for t in ctx.session.store.transitions(record.name)):
            ctx.skipped.append(
                f"memory of {record.name}: nothing ran in it yet, so its peak says little"
            )
            continue
        factor = ctx.settings.memory_factor
        if limit < factor * facts.peak or limit - facts.peak < 64 * MIB:
            continue
        suggested = _round_up(2 * facts.peak)
        since = f" since {facts.since}" if facts.since else ""
        found.append(Advice(
            kind="memory-too-loose",
            target_kind="env",
            target=record.name,
            message=f"{record.name}'s memory limit {shown} is {limit / facts.peak:.0f}x its"
            f" observed peak: lower it to about {format_memory(suggested)} so more envs fit",
            evidence=(
                f"memory limit {shown} ({mib(limit)})",
                f"observed peak {mib(facts.peak)}{since} ({facts.peak_source})",
                f"no OOM kills seen; the threshold is {factor:g}x the peak"
                " (advise.memory_factor)",
            ),
            severity="low",
            env=record.name,
        ))
    return found
