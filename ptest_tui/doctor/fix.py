"""How to install what is missing, and running those installs for ``doctor --fix``.

The package manager comes from ``/etc/os-release`` (apt on Debian/Ubuntu, dnf on
Fedora/RHEL) or the platform (brew on macOS). Every command is an argument list; nothing
goes through a shell. Package installs for the same manager are merged into one command.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ptest_tui.doctor.report import FixAction, Report

OS_RELEASE = Path("/etc/os-release")
APT_IDS = frozenset({"debian", "ubuntu", "linuxmint", "raspbian", "pop", "elementary", "kali"})
DNF_IDS = frozenset({"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"})
#: Where daemons and admin tools live; a non-root PATH often leaves these out.
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")

# OS packages per component and package manager. Brew casks cannot merge with formulae,
# so the brew entries are complete argument tails instead of package names.
OS_PACKAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "docker": {"apt": ("docker.io",), "dnf": ("moby-engine",), "brew": ("--cask", "docker")},
    "docker-cli": {"apt": ("docker.io",), "dnf": ("moby-engine",), "brew": ("docker",)},
    "debootstrap": {"apt": ("debootstrap",), "dnf": ("debootstrap",)},
    "postgres": {"apt": ("postgresql",), "dnf": ("postgresql-server",),
                 "brew": ("postgresql",)},
    "mariadb": {"apt": ("mariadb-server",), "dnf": ("mariadb-server",), "brew": ("mariadb",)},
    "redis": {"apt": ("redis-server",), "dnf": ("redis",), "brew": ("redis",)},
}

ORDER_UPDATE, ORDER_PACKAGES, ORDER_PIP, ORDER_DAEMON, ORDER_GROUP, ORDER_IMAGE = (
    10, 20, 30, 40, 60, 90,
)
DAEMON_WAIT_SECONDS = 30.0
IMAGE_REPO = "ptest-tui/python"
PYTHON_TAG_RE = re.compile(r"^(\d+\.\d+)(?:[.-].*)?$")


def parse_os_release(path: Path = OS_RELEASE) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (empty when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:  # an unbalanced quote: keep the raw text
            parts = [raw.strip("\"'")]
        values[key] = parts[0] if parts else ""
    return values


def detect_package_manager(os_release: Path = OS_RELEASE, system: str | None = None) -> str:
    """``apt``, ``dnf``, ``brew`` or ``""`` when this OS has none we know."""
    import platform

    if (system or platform.system()) == "Darwin":
        return "brew"
    info = parse_os_release(os_release)
    ids = {info.get("ID", "").lower(), *info.get("ID_LIKE", "").lower().split()}
    if ids & APT_IDS:
        return "apt"
    if ids & DNF_IDS:
        return "dnf"
    return ""


def os_package_fix(component: str, manager: str) -> FixAction | None:
    """The install command for ``component`` with ``manager``, or None if it has none."""
    packages = OS_PACKAGES.get(component, {}).get(manager)
    if not packages:
        return None
    if manager == "apt":
        argv = ("apt-get", "install", "-y", *packages)
        return FixAction(argv, needs_root=True, manager="apt", packages=packages,
                         order=ORDER_PACKAGES)
    if manager == "dnf":
        argv = ("dnf", "install", "-y", *packages)
        return FixAction(argv, needs_root=True, manager="dnf", packages=packages,
                         order=ORDER_PACKAGES)
    # Homebrew refuses to run as root, so it never needs it.
    return FixAction(("brew", "install", *packages), order=ORDER_PACKAGES)


def python_fix(version: str, manager: str, venv_only: bool = False) -> FixAction | None:
    """Install Python ``version`` (or only its venv support) with the OS package manager."""
    names = {
        "apt": f"python{version}-venv" if venv_only else f"python{version}",
        "dnf": "python3" if venv_only else f"python{version}",
        "brew": f"python@{version}",
    }
    if manager not in names:
        return None
    if manager == "brew":
        return FixAction(("brew", "install", names["brew"]), order=ORDER_PACKAGES)
    tool = "apt-get" if manager == "apt" else "dnf"
    package = names[manager]
    return FixAction((tool, "install", "-y", package), needs_root=True, manager=manager,
                     packages=(package,), order=ORDER_PACKAGES)


def pip_fix(package: str, uv: str | None = None) -> FixAction:
    """Install a Python package into the interpreter running ptest-tui.

    pip of this interpreter when it has one; otherwise ``uv pip`` aimed at it (venvs that
    uv made have no pip).
    """
    import importlib.util

    if importlib.util.find_spec("pip") is None and uv:
        argv: tuple[str, ...] = (uv, "pip", "install", "--python", sys.executable, package)
    else:
        argv = (sys.executable, "-m", "pip", "install", package)
    return FixAction(argv, order=ORDER_PIP)


def find_program(name: str, environ: Mapping[str, str], extra_dirs: Sequence[str] = ()) -> str:
    """The path of ``name`` on the PATH of ``environ`` (then ``extra_dirs``), or ``""``."""
    dirs = [d for d in environ.get("PATH", "").split(os.pathsep) if d]
    dirs += [d for d in extra_dirs if d not in dirs]
    if not dirs:
        return ""
    return shutil.which(name, path=os.pathsep.join(dirs)) or ""


def daemon_start_fix(
    system: str, environ: Mapping[str, str], extra_dirs: Sequence[str] = SBIN_DIRS
) -> FixAction | None:
    """How to start an installed but stopped Docker daemon on this machine.

    systemd when it is the init system, else the SysV ``service`` script, else ``dockerd``
    itself in the background (containers and CI machines often have no init system).
    """
    if system == "Darwin":
        return FixAction(("open", "-a", "Docker"), order=ORDER_DAEMON)
    systemctl = find_program("systemctl", environ, extra_dirs)
    if systemctl and Path("/run/systemd/system").is_dir():
        return FixAction(("systemctl", "start", "docker"), needs_root=True, order=ORDER_DAEMON)
    service = find_program("service", environ, extra_dirs)
    if service and Path("/etc/init.d/docker").exists():
        return FixAction(("service", "docker", "start"), needs_root=True, order=ORDER_DAEMON)
    dockerd = find_program("dockerd", environ, extra_dirs)
    if dockerd:
        return FixAction((dockerd,), needs_root=True, background=True, order=ORDER_DAEMON,
                         note="started in the background; its log goes to the cache folder")
    return None


def image_python(image: str) -> str:
    """The ``X.Y`` Python version an image's tag names (``ptest-tui/python:3.11``), or ``""``."""
    last = image.rsplit("/", 1)[-1]
    tag = last.partition(":")[2].partition("@")[0]
    match = PYTHON_TAG_RE.match(tag)
    return match.group(1) if match else ""


def image_build_fix(image: str, workspace: Path | None, python: str = "") -> FixAction:
    """``ptest-tui image build`` for the missing image (an offline debootstrap build).

    It runs through this interpreter (``-m ptest_tui``) so the same installation builds
    it. The Python version comes from the tag, else ``python``, else 3.11; ``--tag`` is
    given when the image is not the default name for that version.
    """
    version = image_python(image) or python or "3.11"
    tag = () if image == f"{IMAGE_REPO}:{version}" else ("--tag", image)
    # --workspace only when the build would not find the workspace from here by itself.
    here = Path.cwd().resolve()
    inside = workspace is not None and (here == workspace or workspace in here.parents)
    where = ("--workspace", str(workspace)) if workspace and not inside else ()
    args = (*where, "image", "build", "--python", version, *tag)
    # debootstrap and chroot need root; the build says so itself when it is not.
    return FixAction((sys.executable, "-m", "ptest_tui", *args), needs_root=True,
                     order=ORDER_IMAGE, label=shlex.join(("ptest-tui", *args)))


# -- planning and running ------------------------------------------------------------------


@dataclass(frozen=True)
class FixPlan:
    """The commands ``doctor --fix`` would run, and what it cannot fix."""

    actions: tuple[FixAction, ...]
    needs_root: tuple[FixAction, ...]  # left out because this user is not root
    unfixable: tuple[tuple[str, str], ...]  # (check name, advice)

    @property
    def empty(self) -> bool:
        """True when there is nothing to run."""
        return not self.actions


def _merge(actions: Sequence[FixAction]) -> list[FixAction]:
    """One install per package manager (apt gets an update first), duplicates dropped."""
    merged: list[FixAction] = []
    by_manager: dict[str, list[str]] = {}
    for action in actions:
        if action.manager in ("apt", "dnf"):
            names = by_manager.setdefault(action.manager, [])
            names += [p for p in action.packages if p not in names]
        elif all(a.argv != action.argv for a in merged):
            merged.append(action)
    for manager, names in by_manager.items():
        tool = "apt-get" if manager == "apt" else "dnf"
        if manager == "apt":
            # A fresh machine (or container) has empty package lists.
            merged.append(FixAction(("apt-get", "update"), needs_root=True, manager="apt",
                                    order=ORDER_UPDATE))
        merged.append(FixAction((tool, "install", "-y", *names), needs_root=True,
                                manager=manager, packages=tuple(names), order=ORDER_PACKAGES))
    return sorted(merged, key=lambda a: a.order)


def plan_fixes(report: Report, *, is_root: bool, required_only: bool = False) -> FixPlan:
    """What to run for the failing checks of ``report``.

    Optional checks are included unless ``required_only``; low disk space and other
    problems without a command are listed as advice.
    """
    wanted = [c for c in report.checks if not c.ok and (c.required or not required_only)]
    actions = [c.fix for c in wanted if c.fix]
    unfixable = tuple(
        (c.name, c.manual_fix or "no automatic fix on this system") for c in wanted if not c.fix
    )
    merged = _merge(actions)
    runnable = tuple(a for a in merged if is_root or not a.needs_root)
    skipped = tuple(a for a in merged if a.needs_root and not is_root)
    return FixPlan(runnable, skipped, unfixable)


@dataclass(frozen=True)
class FixOutcome:
    """What happened to one action."""

    action: FixAction
    exit_code: int
    detail: str = ""


def _child_stdout() -> int | TextIO | None:
    # Command output goes to stderr so stdout keeps only the report (and --json stays valid).
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return sys.stderr


def run_action(action: FixAction, log_dir: Path) -> FixOutcome:
    """Run one action; a background daemon is started detached with its log in ``log_dir``."""
    env = {**os.environ}
    if action.manager == "apt":
        env["DEBIAN_FRONTEND"] = "noninteractive"  # no debconf questions mid-install
    try:
        if action.background:
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / f"{Path(action.argv[0]).name}.log"
            with log_path.open("ab") as log:
                subprocess.Popen(
                    list(action.argv), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, env=env,
                )
            return FixOutcome(action, 0, f"started; log in {log_path}")
        done = subprocess.run(
            list(action.argv), stdin=subprocess.DEVNULL, stdout=_child_stdout(),
            env=env, check=False,
        )
    except OSError as exc:
        return FixOutcome(action, 127, f"could not run {action.argv[0]}: {exc.strerror}")
    return FixOutcome(action, done.returncode, "" if done.returncode == 0 else "failed")


def run_plan(
    plan: FixPlan,
    log_dir: Path,
    *,
    wait_for_daemon: Callable[[float], bool] | None = None,
    on_start: Callable[[FixAction], None] | None = None,
) -> list[FixOutcome]:
    """Run every action in order; later ones still run when one fails.

    After starting a daemon, ``wait_for_daemon(seconds)`` is called so the image build
    that follows finds it answering.
    """
    outcomes: list[FixOutcome] = []
    for action in plan.actions:
        if on_start:
            on_start(action)
        outcome = run_action(action, log_dir)
        if outcome.exit_code == 0 and action.order == ORDER_DAEMON and wait_for_daemon:
            started = time.monotonic()
            if not wait_for_daemon(DAEMON_WAIT_SECONDS):
                waited = time.monotonic() - started
                outcome = replace(outcome, exit_code=1,
                                  detail=f"the daemon did not answer within {waited:.0f} s")
        outcomes.append(outcome)
    return outcomes
