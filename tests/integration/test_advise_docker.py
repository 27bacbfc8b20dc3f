"""Memory advice from real containers: an OOM kill under a tight limit, and a limit far
above what the container ever used (the kernel's counters of the container's cgroup)."""

from __future__ import annotations

import pytest

from ptest_tui.advise import advise
from ptest_tui.advise.memory import cgroup_memory
from ptest_tui.session import Session
from tests.integration.docker_support import engine_of

pytestmark = pytest.mark.docker

HOG = ["python3", "-c", "x = bytearray(200 * 1024 * 1024); print(len(x))"]


def container_pid(session: Session, env: str) -> int:
    engine = engine_of(session)
    info = engine.api().inspect_container(engine.container_ref(session.get_env(env)))
    return int(info["State"]["Pid"])


def test_an_oom_kill_makes_the_limit_too_tight(dsession: Session) -> None:
    dsession.create_env("tight", isolation="docker", memory="64m")
    done = dsession.exec("tight", HOG)
    assert done.exit_code == 137  # SIGKILLed by the kernel's OOM killer
    kills, _peak = cgroup_memory(container_pid(dsession, "tight"))
    if kills is None:
        pytest.skip("the container's memory cgroup is not readable on this host")
    (item,) = advise(dsession, rules=["memory-limits"]).advice
    assert (item.kind, item.target, item.severity) == ("memory-too-tight", "tight", "high")
    assert "memory limit 64m (64 MiB)" in item.evidence
    assert any(f"the kernel OOM-killed {kills} process(es) in its container" in fact
               for fact in item.evidence), item.evidence


def test_a_limit_far_above_the_peak_is_too_loose(dsession: Session) -> None:
    dsession.create_env("roomy", isolation="docker", memory="2g")
    report = advise(dsession, rules=["memory-limits"])
    assert report.advice == ()
    assert "memory of roomy: nothing ran in it yet, so its peak says little" in report.skipped
    assert dsession.exec("roomy", ["python3", "-c", "print('ok')"]).exit_code == 0
    _kills, peak = cgroup_memory(container_pid(dsession, "roomy"))
    if peak is None:
        pytest.skip("this kernel keeps no peak for the container's memory cgroup")
    (item,) = advise(dsession, "roomy", rules=["memory-limits"]).advice
    assert (item.kind, item.target, item.severity) == ("memory-too-loose", "roomy", "low")
    assert "memory limit 2g (2.0 GiB)" in item.evidence
    assert any("(the container's memory cgroup)" in fact and "observed peak" in fact
               for fact in item.evidence)
    assert "no OOM kills seen; the threshold is 4x the peak (advise.memory_factor)" \
        in item.evidence
