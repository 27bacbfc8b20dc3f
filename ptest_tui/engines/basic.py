"""The basic engine: a folder and subprocesses with a clean environment.

Each env gets its own HOME, TMPDIR and ``bin/`` folder; commands see a controlled PATH and
only a short list of inherited variables, so nothing from the caller's shell leaks in.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import (
    EngineStatus,
    ExecResult,
    IsolationEngine,
    OutputCallback,
    PackageTarget,
)
from ptest_tui.engines.process import run_process
from ptest_tui.engines.spec import EnvSpec

if TYPE_CHECKING:
    from ptest_tui.store import EnvRecord

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INHERITED = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "USER", "LOGNAME")


class BasicEngine(IsolationEngine):
    """A folder plus subprocesses with their own HOME, TMPDIR and PATH."""

    name = "basic"
    description = "folder + subprocess with a clean environment"
    capabilities = frozenset()

    def folder(self, env_name: str) -> Path:
        """The env's folder on this host."""
        return self.context.env_dir(env_name)

    def create(self, spec: EnvSpec, cancel: CancelToken) -> dict[str, Any]:
        """Make the folder layout: home/, tmp/, bin/."""
        folder = self.folder(spec.name)
        for sub in ("home", "tmp", "bin"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {"folder": str(folder)}

    def base_environment(self, record: EnvRecord) -> dict[str, str]:
        """The variables every command in this env starts from."""
        folder = self.folder(record.name)
        env = {key: os.environ[key] for key in INHERITED if key in os.environ}
        env.update(
            HOME=str(folder / "home"),
            TMPDIR=str(folder / "tmp"),
            # Packages installed with `pkg install` live in site/ (pip/uv --target).
            PATH=os.pathsep.join([str(folder / "bin"), str(folder / "site" / "bin"), SYSTEM_PATH]),
            PYTHONPATH=str(folder / "site"),
            PTEST_ENV=record.name,
            PTEST_WORKSPACE=str(self.context.root),
        )
        env.update(record.spec.get("env") or {})
        return env

    def package_target(self, record: EnvRecord) -> PackageTarget | None:
        """The python3 on the env's PATH, installing into ``<env>/site`` with --target."""
        folder = self.folder(record.name)
        python = shutil.which("python3", path=f"{folder / 'bin'}{os.pathsep}{SYSTEM_PATH}")
        if python is None:
            return None
        return PackageTarget(python=python, target_dir=str(folder / "site"))

    def run_package_tool(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run uv (found beside ptest-tui) or the env's interpreter on this host."""
        from ptest_tui.errors import EngineError

        target = self.package_target(record)
        variables = dict(os.environ if env is None else env)
        program = argv[0]
        if program == "uv":
            from ptest_tui.engines.virtualenv import find_uv

            uv = find_uv()
            if uv is None:
                raise EngineError(
                    "no uv binary found", "install uv, or use packages.installer = pip"
                )
            command = [uv, *argv[1:]]
        elif program == "python":
            if target is None:
                raise EngineError(f"no Python interpreter in {record.name}", "install python3")
            command = [target.python, *argv[1:]]
            if target.target_dir:
                # pip finds (and uninstalls) --target packages through PYTHONPATH.
                variables["PYTHONPATH"] = target.target_dir
        else:
            raise EngineError(f"unknown package tool {program!r}", "use uv or python")
        folder = self.folder(record.name)
        return run_process(
            command,
            cwd=folder if folder.is_dir() else self.context.root,
            env=variables,
            on_output=on_output,
            cancel=cancel,
            timeout=timeout,
            own_group=False,  # a helper tool: dies with ptest-tui's process group
        )

    def exec(
        self,
        record: EnvRecord,
        argv: Sequence[str],
        *,
        on_output: OutputCallback,
        cancel: CancelToken,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``argv`` with the env's variables, in the workspace unless ``cwd`` is given."""
        variables = self.base_environment(record)
        variables.update(env or {})
        return run_process(
            argv,
            cwd=self.context.root / cwd if cwd else self.context.root,  # relative: workspace
            env=variables,
            on_output=on_output,
            cancel=cancel,
            timeout=timeout,
        )

    def status(self, record: EnvRecord) -> EngineStatus:
        """Healthy while the folder layout exists."""
        folder = self.folder(record.name)
        missing = [sub for sub in ("home", "tmp") if not (folder / sub).is_dir()]
        if missing:
            return EngineStatus(False, f"folder {folder} is missing {', '.join(missing)}")
        return EngineStatus(True, f"folder {folder}")

    def delete(self, record: EnvRecord) -> None:
        """Remove the env's folder."""
        shutil.rmtree(self.folder(record.name), ignore_errors=True)
