"""Small pieces of advise and benchmark: settings, ordering, formats, cgroup files, names,
the benchmark wheel."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ptest_tui.advise import RULES, Advice, AdviseSettings
from ptest_tui.advise.memory import cgroup_memory
from ptest_tui.advise.model import mib, seconds, sort_key
from ptest_tui.benchmark.cleanup import batch_of, env_name
from ptest_tui.benchmark.model import BenchmarkResult
from ptest_tui.benchmark.wheel import build_wheel
from ptest_tui.cli.advise_cmd import RULE_NAMES


def test_the_cli_offers_every_rule() -> None:
    assert list(RULE_NAMES) == list(RULES)


def test_settings_from_the_validated_config() -> None:
    assert AdviseSettings.from_config({}) == AdviseSettings()
    settings = AdviseSettings.from_config({"advise": {"idle_days": 3, "slow_share": 20.0}})
    assert (settings.idle_days, settings.slow_share, settings.runs) == (3, 20.0, 10)


def test_most_severe_first_then_by_kind() -> None:
    items = [
        Advice("idle-env", "env", "a", "", severity="low"),
        Advice("slow-case", "case", "s/c", "", severity="medium"),
        Advice("package-conflicts", "env", "b", "", severity="high"),
        Advice("memory-too-tight", "env", "c", "", severity="high"),
    ]
    assert [a.kind for a in sorted(items, key=sort_key)] == [
        "memory-too-tight", "package-conflicts", "slow-case", "idle-env",
    ]


def test_formats() -> None:
    assert [seconds(v) for v in (0.0123, 0.5, 42.13, 900)] == [
        "0.012 s", "0.50 s", "42.1 s", "15 min",
    ]
    assert [mib(v) for v in (512 * 1024, 64 * 1024**2, 3 * 1024**3)] == [
        "512 KiB", "64 MiB", "3.0 GiB",
    ]


def test_cgroup_v1_and_v2_files(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "10").mkdir(parents=True)
    (proc / "10" / "cgroup").write_text("5:cpu:/docker/abc\n4:memory:/docker/abc\n0::/docker/abc\n")
    v1 = root / "memory" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (v1 / "memory.max_usage_in_bytes").write_text("67108864\n")
    assert cgroup_memory(10, proc, root) == (2, 64 * 1024**2)
    (proc / "11").mkdir()
    (proc / "11" / "cgroup").write_text("0::/system.slice/docker-def.scope\n")
    v2 = root / "system.slice" / "docker-def.scope"
    v2.mkdir(parents=True)
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert cgroup_memory(11, proc, root) == (1, None)  # a kernel without memory.peak
    (v2 / "memory.peak").write_text("1048576\n")
    assert cgroup_memory(11, proc, root) == (1, 1024**2)
    assert cgroup_memory(12, proc, root) == (None, None)  # gone


def test_benchmark_env_names() -> None:
    assert env_name("3", "virtualenv", "c1") == "ptbench-3-virtualenv-c1"
    assert batch_of("ptbench-3-virtualenv-c1") == "3"
    assert batch_of("ptbench-x-basic-main") == "" and batch_of("unit") == ""
    assert len(env_name("1", "e" * 80, "main")) == 64


def test_result_statistics() -> None:
    result = BenchmarkResult("basic", "install", "uv", samples=(0.3, 0.1, 0.2, 0.6))
    assert (result.median, result.low, result.high) == (0.25, 0.1, 0.6)
    assert round(result.spread, 6) == 0.5 and result.label == "install (uv)"
    assert BenchmarkResult("basic", "exec").median == 0.0


def test_the_wheel_is_deterministic_and_complete(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a").read_bytes()
    path = build_wheel(tmp_path / "b")
    assert path.read_bytes() == first
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        record = archive.read("ptbench_tiny-1.0.dist-info/RECORD").decode()
    assert "ptbench_tiny/__init__.py" in names
    assert {line.split(",")[0] for line in record.splitlines()} == set(names)
