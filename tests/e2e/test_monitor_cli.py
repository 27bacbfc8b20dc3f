"""``ptest-tui monitor`` as scripts and people run it: NDJSON, plain lines, alerts, Ctrl+C."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from tests.e2e.conftest import Cli, assert_usage_error, make_workspace


def ndjson(text: str) -> list[dict[str, object]]:
    """Every line parsed on its own (the whole output is not one JSON document)."""
    lines = text.splitlines()
    assert lines and all(line.startswith("{") for line in lines), text
    return [json.loads(line) for line in lines]


def test_json_count_prints_one_object_per_sample(cli: Cli) -> None:
    cli.ok("env", "create", "unit", "--isolation", "basic")
    result = cli.ok("monitor", "--json", "--count", "3", "--interval", "0.2")
    records = ndjson(result.stdout)
    assert [(r["event"], r["target"]) for r in records] == [
        ("monitor_sample", "host"), ("monitor_sample", "unit"),
    ] * 3
    unit = records[-1]
    assert unit["target_kind"] == "env" and unit["state"] == "idle"
    assert unit["processes"] == 0 and unit["cpu_percent"] == 0.0
    host = records[-2]
    assert isinstance(host["memory_bytes"], int) and isinstance(host["disk_free"], int)
    assert isinstance(host["at"], float)
    assert result.stderr == ""


def test_piped_text_output_is_plain_lines_with_a_header(cli: Cli) -> None:
    cli.ok("env", "create", "unit", "--isolation", "basic")
    result = cli.ok("monitor", "unit", "--count", "2", "--interval", "200ms")
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == [
        "TIME", "TARGET", "KIND", "STATE", "CPU", "MEMORY", "READ", "WRITE", "RX", "TX", "PROCS",
    ]
    assert len(rows) == 2
    assert all(row.split("\t")[1:4] == ["unit", "env", "idle"] for row in rows)


def test_an_alert_prints_a_warning_line_and_an_alert_record(tmp_path: Path) -> None:
    # No disk has a petabyte free: the host alerts on its first sample, once.
    cli = Cli(make_workspace(tmp_path / "ws", '[monitor]\ndisk_free = "1024t"\n'))
    plain = cli.ok("monitor", "host", "--count", "2", "--interval", "0.1")
    warnings = plain.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("ptest-tui: warning: host: disk free")
    assert warnings[0].endswith("is below 1024.0T")
    records = ndjson(cli.ok("monitor", "host", "--json", "--count", "2", "--interval", "0.1")
                     .stdout)
    assert [r["event"] for r in records] == ["monitor_sample", "monitor_alert", "monitor_sample"]
    assert records[1]["metric"] == "disk_free" and records[1]["threshold"] == 1024**5


def test_bad_input_is_a_one_line_usage_error(cli: Cli, tmp_path: Path) -> None:
    assert_usage_error(cli.run("monitor", "nope", "--count", "1"), "no environment or object")
    assert_usage_error(cli.run("monitor", "--interval", "5 parsecs"), "unknown unit 'parsecs'")
    assert_usage_error(cli.run("monitor", "--count", "0"), "--count must be at least 1")
    bad = Cli(make_workspace(tmp_path / "bad", '[monitor]\nmemory = "80 percent"\n'))
    assert_usage_error(bad.run("monitor", "--count", "1"), "monitor.memory: invalid memory")


def test_ctrl_c_stops_cleanly_with_130(cli: Cli) -> None:
    proc = cli.popen("monitor", "--interval", "0.1", stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("TIME\t")  # running and printing
        assert proc.stdout.readline().split("\t")[1] == "host"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "error" not in err
