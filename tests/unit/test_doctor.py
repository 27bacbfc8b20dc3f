"""Doctor check logic against real conditions made in tmp: PATHs, os-release files, sockets."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.cli.main import main
from ptest_tui.doctor import apply_levels, required_names, run_checks
from ptest_tui.doctor.checks import (
    DoctorContext,
    check_base_image,
    check_debootstrap,
    check_disk_cache,
    check_docker_cli,
    check_docker_daemon,
    check_docker_socket,
    check_python,
)
from ptest_tui.doctor.fix import (
    detect_package_manager,
    find_program,
    image_build_fix,
    image_python,
    os_package_fix,
    parse_os_release,
    plan_fixes,
)
from ptest_tui.doctor.report import CheckResult, FixAction, Report
from ptest_tui.errors import WorkspaceError
from tests.conftest import write_workspace

JSON_KEYS = {"name", "ok", "required", "detail", "needed_by", "fix_command"}
MISSING_SOCKET = "unix:///nonexistent/ptest-doctor/docker.sock"


def os_release(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "os-release"
    path.write_text(text)
    return path


def context(tmp_path: Path, **overrides: object) -> DoctorContext:
    """A context whose PATH is an empty folder and with no sbin fallbacks."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    values: dict[str, object] = {
        "environ": {"PATH": str(empty), "DOCKER_HOST": MISSING_SOCKET},
        "package_manager": "apt",
        "system": "Linux",
        "docker_host": "",
        "image": "ptest-tui/python:3.11",
        "cache_dir": tmp_path / "cache",
        "extra_dirs": (),
    }
    values.update(overrides)
    return DoctorContext(**values)  # type: ignore[arg-type]


def executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


# -- package manager detection ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ID=debian\nVERSION_ID="12"\n', "apt"),
        ('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', "apt"),
        ("ID=linuxmint\nID_LIKE='ubuntu debian'\n", "apt"),
        ("ID=fedora\nVERSION_ID=40\n", "dnf"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "dnf"),
        ("ID=alpine\n", ""),
        ("# only a comment\n", ""),
    ],
)
def test_package_manager_from_os_release(tmp_path: Path, text: str, expected: str) -> None:
    assert detect_package_manager(os_release(tmp_path, text), system="Linux") == expected


def test_package_manager_missing_file_and_macos(tmp_path: Path) -> None:
    assert detect_package_manager(tmp_path / "absent", system="Linux") == ""
    assert detect_package_manager(tmp_path / "absent", system="Darwin") == "brew"


def test_parse_os_release_unquotes(tmp_path: Path) -> None:
    path = os_release(tmp_path, 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
    assert parse_os_release(path) == {"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
                                      "ID": "debian"}


@pytest.mark.parametrize(
    ("component", "manager", "command"),
    [
        ("docker", "apt", "apt-get install -y docker.io"),
        ("docker", "dnf", "dnf install -y moby-engine"),
        ("docker", "brew", "brew install --cask docker"),
        ("debootstrap", "apt", "apt-get install -y debootstrap"),
        ("debootstrap", "dnf", "dnf install -y debootstrap"),
    ],
)
def test_os_package_fix_commands(component: str, manager: str, command: str) -> None:
    fix = os_package_fix(component, manager)
    assert fix is not None
    assert fix.display() == command
    assert fix.needs_root == (manager != "brew")


def test_no_fix_without_a_known_package_manager() -> None:
    assert os_package_fix("docker", "") is None
    assert os_package_fix("debootstrap", "brew") is None


# -- programs on PATH -----------------------------------------------------------------------


def test_find_program_uses_the_given_path(tmp_path: Path) -> None:
    tool = executable(tmp_path / "bin", "ptest-fake-tool")
    assert find_program("ptest-fake-tool", {"PATH": str(tmp_path / "bin")}) == str(tool)
    assert find_program("ptest-fake-tool", {"PATH": str(tmp_path)}) == ""
    assert find_program("ptest-fake-tool", {}, extra_dirs=[str(tmp_path / "bin")]) == str(tool)
    assert find_program("ptest-fake-tool", {}) == ""


def test_debootstrap_missing_gives_the_apt_command(tmp_path: Path) -> None:
    result = check_debootstrap(context(tmp_path))
    assert not result.ok
    assert result.fix_command == "apt-get install -y debootstrap"
    assert result.needed_by == "image build"


def test_debootstrap_found_on_path(tmp_path: Path) -> None:
    tool = executable(tmp_path / "sbin", "debootstrap")
    result = check_debootstrap(context(tmp_path, environ={"PATH": str(tmp_path / "sbin")}))
    assert result.ok
    assert result.detail == str(tool)
    assert result.fix is None


def test_debootstrap_on_macos_has_advice_instead_of_a_command(tmp_path: Path) -> None:
    result = check_debootstrap(context(tmp_path, package_manager="brew", system="Darwin"))
    assert not result.ok and result.fix is None
    assert "Linux" in result.manual_fix


def test_docker_cli_missing_per_os(tmp_path: Path) -> None:
    release = os_release(tmp_path, "ID=fedora\n")
    manager = detect_package_manager(release, system="Linux")
    result = check_docker_cli(context(tmp_path, package_manager=manager))
    assert not result.ok
    assert result.fix_command == "dnf install -y moby-engine"


# -- python ---------------------------------------------------------------------------------


def test_python_too_old_says_how_to_install(tmp_path: Path) -> None:
    result = check_python(context(tmp_path, python_version=(3, 10, 12)))
    assert not result.ok
    assert "3.10.12" in result.detail
    assert result.fix_command == "apt-get install -y python3.11"


def test_python_current_is_ok(tmp_path: Path) -> None:
    result = check_python(context(tmp_path))
    assert result.ok
    assert sys.executable in result.detail


# -- docker without a daemon ------------------------------------------------------------------


def test_daemon_unreachable_without_docker_installed(tmp_path: Path) -> None:
    result = check_docker_daemon(context(tmp_path))
    assert not result.ok
    assert "/nonexistent/ptest-doctor/docker.sock" in result.detail
    # No dockerd on this (empty) PATH: install the engine with the OS package manager.
    assert result.fix_command == "apt-get install -y docker.io"


def test_daemon_installed_but_stopped_is_started_with_consent(tmp_path: Path) -> None:
    executable(tmp_path / "bin", "dockerd")
    ctx = context(tmp_path, environ={"PATH": str(tmp_path / "bin"),
                                     "DOCKER_HOST": MISSING_SOCKET})
    result = check_docker_daemon(ctx)
    assert not result.ok
    assert result.fix is not None
    # systemctl/service are not on this PATH, so it is dockerd in the background.
    if not Path("/run/systemd/system").is_dir():
        assert result.fix.argv == (str(tmp_path / "bin" / "dockerd"),)
        assert result.fix.background and result.fix.needs_root


def test_socket_missing(tmp_path: Path) -> None:
    result = check_docker_socket(context(tmp_path))
    assert not result.ok
    assert "/nonexistent/ptest-doctor/docker.sock" in result.detail


def test_socket_present_and_usable(tmp_path: Path) -> None:
    path = tmp_path / "d.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        ctx = context(tmp_path, environ={"PATH": "", "DOCKER_HOST": f"unix://{path}"})
        result = check_docker_socket(ctx)
    finally:
        server.close()
    assert result.ok, result.detail
    assert "readable and writable" in result.detail


def test_socket_that_is_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a.sock"
    path.write_text("")
    result = check_docker_socket(context(tmp_path, docker_host=f"unix://{path}"))
    assert not result.ok
    assert "is not a socket" in result.detail


def test_remote_daemon_has_no_local_socket(tmp_path: Path) -> None:
    ctx = context(tmp_path, environ={"PATH": "", "DOCKER_HOST": "tcp://127.0.0.1:1"})
    result = check_docker_socket(ctx)
    assert result.ok
    assert "tcp://127.0.0.1:1" in result.detail


def test_base_image_without_daemon_offers_the_build(tmp_path: Path) -> None:
    result = check_base_image(context(tmp_path))
    assert not result.ok
    assert result.fix_command == "ptest-tui image build --python 3.11"
    assert result.fix is not None and result.fix.argv[:3] == (sys.executable, "-m", "ptest_tui")


@pytest.mark.parametrize(
    ("image", "python"),
    [
        ("ptest-tui/python:3.11", "3.11"),
        ("registry.local:5000/team/python:3.12-slim", "3.12"),
        ("python:3.13.1", "3.13"),
        ("localhost:5000/tools", ""),
        ("busybox", ""),
    ],
)
def test_image_python_from_tag(image: str, python: str) -> None:
    assert image_python(image) == python


def test_image_build_fix_names_a_custom_tag(tmp_path: Path) -> None:
    assert image_build_fix("ptest-tui/python:3.13", None).display() == (
        "ptest-tui image build --python 3.13"
    )
    custom = image_build_fix("team/base:3.11", tmp_path / "elsewhere")
    assert custom.display() == (
        f"ptest-tui --workspace {tmp_path / 'elsewhere'} image build --python 3.11"
        " --tag team/base:3.11"
    )


# -- disk -----------------------------------------------------------------------------------


def test_disk_warns_below_the_threshold(tmp_path: Path) -> None:
    low = check_disk_cache(context(tmp_path, min_free=2**62))
    assert not low.ok
    assert "below" in low.detail
    fine = check_disk_cache(context(tmp_path, min_free=1))
    assert fine.ok
    # The cache folder does not exist yet: its nearest existing parent is measured.
    assert str(tmp_path / "cache") in fine.detail


# -- levels ---------------------------------------------------------------------------------


def result(name: str, ok: bool, *features: str) -> CheckResult:
    return CheckResult(name, ok, "", name, features=frozenset(features))


def by_name(results: tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def test_core_alternatives() -> None:
    with_uv = by_name(apply_levels(
        [result("python", True), result("venv", False), result("uv", True),
         result("virtualenv", False)], {},
    ))
    assert with_uv["python"].required
    assert with_uv["uv"].required  # venv/virtualenv missing: uv is the only way
    assert not with_uv["venv"].required and not with_uv["virtualenv"].required

    without_uv = by_name(apply_levels(
        [result("python", True), result("venv", True), result("uv", False),
         result("virtualenv", True)], {},
    ))
    assert without_uv["venv"].required and without_uv["virtualenv"].required
    assert not without_uv["uv"].required


def test_features_make_optional_checks_required() -> None:
    checks = [result("docker-daemon", False, "docker"), result("base-image", False, "docker",
              "image"), result("debootstrap", True, "debootstrap"), result("docker-cli", False)]
    plain = by_name(apply_levels(checks, {}))
    assert not any(r.required for r in plain.values())

    docker = by_name(apply_levels(checks, required_names({"PTEST_REQUIRE": "docker, db"})))
    assert docker["docker-daemon"].required and docker["base-image"].required
    assert "PTEST_REQUIRE=docker, db" in docker["docker-daemon"].needed_by
    # Building the missing image needs debootstrap.
    assert docker["debootstrap"].required
    assert not docker["docker-cli"].required

    by_check_name = by_name(apply_levels(checks, {"docker-cli": "PTEST_REQUIRE=docker-cli"}))
    assert by_check_name["docker-cli"].required
    assert not by_check_name["docker-daemon"].required


def test_report_exit_code_and_json_shape() -> None:
    fix = FixAction(("apt-get", "install", "-y", "debootstrap"), needs_root=True)
    report = Report((
        CheckResult("python", True, "Python 3.11", "ptest-tui", required=True),
        CheckResult("debootstrap", False, "not found", "image build", fix),
    ))
    assert report.ok and report.exit_code == 0
    data = report.to_json()
    assert all(set(item) >= JSON_KEYS for item in data)
    assert data[1]["fix_command"] == "apt-get install -y debootstrap"
    assert data[1]["status"] == "warning"
    failing = Report((report.checks[0].require(), report.checks[1].require("PTEST_REQUIRE")))
    assert not failing.ok and failing.exit_code == 1
    assert failing.summary() == "doctor: 1 required check(s) fail: debootstrap"


# -- fix plans ------------------------------------------------------------------------------


def failing(name: str, fix: FixAction | None, required: bool = True) -> CheckResult:
    return CheckResult(name, False, "", name, fix, required=required)


def test_plan_merges_apt_installs_after_one_update() -> None:
    report = Report((
        failing("docker-daemon", os_package_fix("docker", "apt")),
        failing("docker-cli", os_package_fix("docker-cli", "apt"), required=False),
        failing("debootstrap", os_package_fix("debootstrap", "apt")),
        failing("base-image", image_build_fix("ptest-tui/python:3.11", None)),
        failing("disk-cache", None, required=False),
    ))
    plan = plan_fixes(report, is_root=True)
    assert [a.display() for a in plan.actions] == [
        "apt-get update",
        "apt-get install -y docker.io debootstrap",
        "ptest-tui image build --python 3.11",
    ]
    assert [name for name, _ in plan.unfixable] == ["disk-cache"]

    as_user = plan_fixes(report, is_root=False)
    assert as_user.empty
    assert len(as_user.needs_root) == 3

    required_only = plan_fixes(
        Report((failing("docker-cli", os_package_fix("docker-cli", "dnf"), required=False),)),
        is_root=True, required_only=True,
    )
    assert required_only.empty and not required_only.unfixable


# -- run_checks on this machine with controlled conditions -----------------------------------


@pytest.fixture
def no_docker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"PATH": os.environ.get("PATH", ""), "DOCKER_HOST": MISSING_SOCKET}


def test_no_workspace_only_core_is_required(tmp_path: Path, no_docker_env: dict[str, str]) -> None:
    report = run_checks(start=tmp_path, environ=no_docker_env, cache_dir=tmp_path / "c")
    assert report.workspace == ""
    assert not report.get("docker-daemon").ok
    assert not report.get("docker-daemon").required
    assert report.exit_code == 0, report.summary()


def test_docker_env_in_workspace_makes_docker_required(
    tmp_path: Path, no_docker_env: dict[str, str]
) -> None:
    root = write_workspace(tmp_path / "ws", '[envs.limited]\nmemory = "256m"\n[envs.plain]\n')
    report = run_checks(root, environ=no_docker_env, cache_dir=tmp_path / "c")
    daemon = report.get("docker-daemon")
    assert daemon.required and not daemon.ok
    assert "limited" in daemon.needed_by and "plain" not in daemon.needed_by
    assert report.exit_code == 1


def test_workspace_without_docker_envs(tmp_path: Path, no_docker_env: dict[str, str]) -> None:
    root = write_workspace(tmp_path / "ws", '[envs.unit]\npython = "3.11"\n')
    report = run_checks(start=root, environ=no_docker_env,
                        cache_dir=tmp_path / "c")
    assert report.workspace == str(root)
    assert not report.get("docker-daemon").required
    assert report.exit_code == 0


def test_ptest_require_without_workspace(tmp_path: Path, no_docker_env: dict[str, str]) -> None:
    environ = {**no_docker_env, "PTEST_REQUIRE": "docker"}
    report = run_checks(start=tmp_path, environ=environ, cache_dir=tmp_path / "c")
    assert report.get("docker-daemon").required
    assert report.exit_code == 1


def test_invalid_config_is_a_failing_check(tmp_path: Path, no_docker_env: dict[str, str]) -> None:
    root = write_workspace(tmp_path / "ws", "[envs.bad]\nmemory = 'lots'\n")
    report = run_checks(start=root, environ=no_docker_env, cache_dir=tmp_path / "c")
    check = report.get("workspace")
    assert check.required and not check.ok
    assert "lots" in check.detail
    assert report.exit_code == 1


def test_explicit_workspace_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError):
        run_checks(tmp_path, environ={"PATH": ""}, cache_dir=tmp_path / "c")


def test_low_disk_is_only_a_warning(tmp_path: Path, no_docker_env: dict[str, str]) -> None:
    report = run_checks(start=tmp_path, environ=no_docker_env, cache_dir=tmp_path / "c",
                        min_free=2**62)
    assert report.get("disk-workspace").status == "warning"
    assert report.exit_code == 0


# -- the command in-process -----------------------------------------------------------------


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", MISSING_SOCKET)
    monkeypatch.delenv("PTEST_REQUIRE", raising=False)
    return tmp_path


def test_cli_json(no_docker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data][:2] == ["workspace", "python"]
    assert all(set(item) >= JSON_KEYS for item in data)


def test_cli_plain_lines_and_exit_code(
    no_docker: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PTEST_REQUIRE", "docker")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "missing  docker-daemon" in out
    assert out.rstrip().splitlines()[-1].startswith("doctor: ")


def test_cli_yes_needs_fix(no_docker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--yes"]) == 2
    assert "--yes only applies to --fix" in capsys.readouterr().err


def test_cli_fix_dry_run_and_no(
    no_docker: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A daemon that cannot answer: the only automatic fix is the (fast-failing) image build.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    monkeypatch.setenv("PTEST_REQUIRE", "image")
    assert main(["doctor", "--fix", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "ptest-tui image build --python 3.11" in out
    assert "dry run: nothing was run" in out

    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    assert main(["doctor", "--fix"]) == 1
    out = capsys.readouterr().out
    if os.geteuid() == 0:
        assert "Run 1 command(s)? [y/N] nothing was changed" in out
    else:
        assert "need root" in out


# -- running a plan (harmless real commands; nothing is installed) ---------------------------


def test_run_plan_runs_argument_lists_and_keeps_going(tmp_path: Path) -> None:
    from ptest_tui.doctor.fix import ORDER_DAEMON, FixPlan, run_plan

    marker = tmp_path / "ran"
    plan = FixPlan(
        actions=(
            FixAction(("false",)),
            FixAction((sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x; y')")),
            FixAction((str(tmp_path / "no-such-tool"),)),
            FixAction((sys.executable, "-c", "print('daemon up')"), background=True,
                      order=ORDER_DAEMON),
        ),
        needs_root=(),
        unfixable=(),
    )
    started: list[str] = []
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False  # the "daemon" never answers

    outcomes = run_plan(plan, tmp_path / "logs", wait_for_daemon=wait,
                        on_start=lambda a: started.append(a.argv[0]))
    assert [o.exit_code for o in outcomes] == [1, 0, 127, 1]
    assert marker.read_text() == "x; y"  # an argument, not shell syntax
    assert len(started) == 4 and len(waits) == 1
    assert "did not answer" in outcomes[3].detail
    log = tmp_path / "logs" / f"{Path(sys.executable).name}.log"
    assert log.exists()
