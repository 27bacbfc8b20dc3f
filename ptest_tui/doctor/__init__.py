"""``ptest-tui doctor``: what this machine has, what is missing, and how to install it.

    from ptest_tui.doctor import run_checks

    report = run_checks()
    print(report.summary())          # "doctor: all required checks pass"
    for check in report.missing:
        print(check.name, check.fix_command)

Core pieces (Python, a way to make virtual environments) are always required. Docker,
the base image and debootstrap are optional until the workspace uses docker environments
or ``PTEST_REQUIRE`` names them.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ptest_tui.doctor.checks import CHECKS, MIN_FREE_BYTES, DoctorContext
from ptest_tui.doctor.docker_probe import DockerProbe
from ptest_tui.doctor.fix import OS_RELEASE, SBIN_DIRS, detect_package_manager
from ptest_tui.doctor.report import CheckResult, FixAction, Report

__all__ = [
    "CheckResult",
    "FixAction",
    "Report",
    "WorkspaceInfo",
    "apply_levels",
    "inspect_workspace",
    "required_names",
    "run_checks",
    "wait_for_docker",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkspaceInfo:
    """What the doctor learned about the workspace (if there is one)."""

    root: Path | None = None
    error: str = ""  # why the configuration could not be loaded
    docker_envs: tuple[str, ...] = ()  # envs whose isolation level is docker
    docker_default: bool = False  # defaults.isolation = "docker"
    image: str = ""
    docker_host: str = ""
    object_kinds: tuple[str, ...] = ()  # kinds of objects declared in ptest.toml

    def uses_docker(self) -> str:
        """Why the workspace needs docker, or ``""`` when it does not."""
        if self.docker_envs:
            return "ptest.toml env " + ", ".join(self.docker_envs)
        return "ptest.toml defaults.isolation = docker" if self.docker_default else ""


def inspect_workspace(
    explicit: Path | None = None,
    *,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
) -> WorkspaceInfo:
    """Find the workspace and which of its environments select docker.

    A missing workspace is fine (only core is required then); an explicit ``--workspace``
    that is not one raises WorkspaceError; an invalid config becomes ``error``.
    """
    from ptest_tui.config.loader import find_workspace
    from ptest_tui.workspace import Workspace

    if explicit is not None:
        root = Workspace.locate(explicit=explicit).root
    else:
        found = find_workspace((start or Path.cwd()).resolve())
        if found is None:
            return WorkspaceInfo()
        root = found
    try:
        from ptest_tui.session import Session

        # The same selection `env create` makes, so "uses docker" means what it will mean.
        with Session(Workspace(root), overrides=overrides, environ=environ) as session:
            docker_envs = []
            for name in session.config.envs:
                try:
                    if session.select(session.spec_for(name)).level == "docker":
                        docker_envs.append(name)
                except Exception as exc:  # one bad env must not hide the others
                    log.debug("cannot select a level for %s: %s", name, exc)
            config = session.config
            return WorkspaceInfo(
                root=root,
                docker_envs=tuple(docker_envs),
                docker_default=config.defaults.isolation == "docker",
                image=config.docker.image,
                docker_host=config.docker.host,
                object_kinds=tuple(
                    sorted({str(t.get("kind")) for t in config.declared_objects.values()})
                ),
            )
    except Exception as exc:  # the doctor must diagnose a broken setup, not crash on it
        message = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        hint = getattr(exc, "hint", "")
        return WorkspaceInfo(root=root, error=f"{message} (hint: {hint})" if hint else message)


def required_names(environ: Mapping[str, str]) -> dict[str, str]:
    """Feature or check names from ``PTEST_REQUIRE`` (comma-separated), with the reason."""
    raw = environ.get("PTEST_REQUIRE", "")
    return {p.strip(): f"PTEST_REQUIRE={raw}" for p in raw.split(",") if p.strip()}


def workspace_check(info: WorkspaceInfo) -> CheckResult:
    """The workspace's configuration loads (required only when there is a workspace)."""
    needed_by = "every command in this workspace"
    if info.root is None:
        return CheckResult("workspace", True, "no workspace here: only core checks are required",
                           needed_by)
    if info.error:
        return CheckResult("workspace", False, info.error, needed_by, required=True,
                           manual_fix="fix ptest.toml as the message says")
    uses = info.uses_docker()
    detail = f"{info.root}" + (f" (docker: {uses})" if uses else "")
    return CheckResult("workspace", True, detail, needed_by, required=True)


def apply_levels(
    results: Sequence[CheckResult], features: Mapping[str, str]
) -> tuple[CheckResult, ...]:
    """Mark each result required or optional.

    ``features`` maps a feature or check name ("docker", "image", "debootstrap", "uv", ...)
    to why it is required. Core: python always; venv and virtualenv when uv is missing;
    uv when venv or virtualenv is missing. debootstrap becomes required when the base
    image is required and missing, since building it needs debootstrap.
    """
    by_name = {r.name: r for r in results}

    def ok(name: str) -> bool:
        return name in by_name and by_name[name].ok

    out: list[CheckResult] = []
    for result in results:
        why = next((features[f] for f in (result.name, *result.features) if f in features), "")
        if result.name == "python":
            result = result.require()
        elif result.name in ("venv", "virtualenv") and not ok("uv"):
            result = result.require("uv is missing")
        elif result.name == "uv" and not (ok("venv") and ok("virtualenv")):
            result = result.require("venv or virtualenv is missing")
        elif why:
            result = result.require(why)
        out.append(result)
    image = next((r for r in out if r.name == "base-image"), None)
    if image is not None and image.required and not image.ok:
        out = [
            r.require("to build the missing base image") if r.name == "debootstrap" else r
            for r in out
        ]
    return tuple(out)


def run_checks(
    workspace: Path | None = None,
    *,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
    os_release: Path = OS_RELEASE,
    system: str | None = None,
    min_free: int = MIN_FREE_BYTES,
    cache_dir: Path | None = None,
    extra_dirs: tuple[str, ...] = SBIN_DIRS,
) -> Report:
    """Run every check on this machine and return the report (nothing is changed).

    ``workspace`` is an explicit workspace folder (``--workspace``); otherwise the nearest
    one at or above ``start`` (default: the current folder) is used, if any.
    """
    env = dict(os.environ if environ is None else environ)
    # After `doctor --fix` pip-installed something, the import system must look again.
    importlib.invalidate_caches()
    info = inspect_workspace(workspace, start=start, environ=env, overrides=overrides)
    from ptest_tui.config.model import DockerConfig

    image = info.image or env.get("PTEST_DOCKER_IMAGE", "") or DockerConfig().image
    host = info.docker_host or env.get("PTEST_DOCKER_HOST", "")
    if cache_dir is None:
        from ptest_tui.paths import user_cache_dir

        cache_dir = user_cache_dir()
    probe = DockerProbe(host, env)
    context = DoctorContext(
        environ=env,
        package_manager=detect_package_manager(os_release, system),
        system=system or platform.system(),
        docker_host=host,
        image=image,
        cache_dir=cache_dir,
        workspace=info.root,
        min_free=min_free,
        extra_dirs=extra_dirs,
        docker=probe,
    )
    from ptest_tui.doctor.servers import SERVER_CHECKS

    try:
        results = [check(context) for check in (*CHECKS, *SERVER_CHECKS)]
    finally:
        probe.close()
    features = required_names(env)
    uses = info.uses_docker()
    if uses:
        features.setdefault("docker", f"used by {uses}")
    for kind in info.object_kinds:
        features.setdefault(kind, f"ptest.toml declares a {kind} object")
    checks = apply_levels([workspace_check(info), *results], features)
    return Report(
        checks=checks,
        package_manager=context.package_manager,
        workspace=str(info.root or ""),
        docker_host=host,
    )


def wait_for_docker(seconds: float, host: str = "", environ: Mapping[str, str] | None = None,
                    interval: float = 1.0) -> bool:
    """Poll until the Docker daemon answers a ping (True) or ``seconds`` pass (False)."""
    env = dict(os.environ if environ is None else environ)
    deadline = time.monotonic() + seconds
    while True:
        probe = DockerProbe(host, env)
        try:
            if probe.connect()[0] is not None:
                return True
        finally:
            probe.close()
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)

