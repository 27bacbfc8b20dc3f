"""The virtualenv engine: a basic env plus a Python virtual environment.

``uv venv`` creates an empty environment in a few milliseconds, against the ~1.7 s of the
virtualenv library with seeding; uv also installs into it later, so no pip is seeded. The
virtualenv library is the fallback when no uv binary is available.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptest_tui.cancel import CancelToken
from ptest_tui.engines.base import EngineStatus, PackageTarget
from ptest_tui.engines.basic import SYSTEM_PATH, BasicEngine
from ptest_tui.engines.process import run_checked
from ptest_tui.engines.pythons import find_interpreter
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import CancelledError, EngineError, PtestError

if TYPE_CHECKING:
    from ptest_tui.store import EnvRecord


def find_uv() -> str | None:
    """The uv binary: next to this interpreter, on PATH, or from the ``uv`` package."""
    beside = Path(sysconfig.get_path("scripts")) / "uv"
    if beside.is_file():
        return str(beside)
    on_path = shutil.which("uv")
    if on_path:
        return on_path
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


class VirtualenvEngine(BasicEngine):
    """A basic env with a Python virtual environment in ``venv/``."""

    name = "virtualenv"
    description = "Python virtual environment (uv venv, or the virtualenv library)"
    capabilities = frozenset({"python", "packages"})

    def validate(self, spec: EnvSpec) -> None:
        """Find the interpreter now, so an unknown version fails before anything changes."""
        find_interpreter(spec.python or self.context.config.defaults.python)

    def venv_dir(self, env_name: str) -> Path:
        """The virtual environment's folder."""
        return self.folder(env_name) / "venv"

    def create(self, spec: EnvSpec, cancel: CancelToken) -> dict[str, Any]:
        """Create the folder layout and an empty virtual environment."""
        state = super().create(spec, cancel)
        interpreter = find_interpreter(spec.python or self.context.config.defaults.python)
        venv = self.venv_dir(spec.name)
        uv = find_uv()
        if uv:
            env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"}
            run_checked(
                [uv, "venv", "--quiet", "--no-project", "--python", str(interpreter.path),
                 str(venv)],
                what="uv venv",
                env=env,
                cancel=cancel,
            )
            tool = "uv"
        else:
            try:
                from virtualenv import cli_run
            except ImportError:
                raise EngineError(
                    "neither uv nor virtualenv is installed", "run `ptest-tui doctor --fix`"
                ) from None
            # Without uv, pip installs the packages, so it is seeded only when needed.
            seed = [] if spec.packages else ["--no-seed"]
            cli_run([str(venv), "--python", str(interpreter.path), *seed, "--quiet"])
            tool = "virtualenv"
        python = venv / "bin" / "python"
        if not python.exists():
            raise EngineError(f"{tool} did not create {python}", "run `ptest-tui doctor`")
        if spec.packages:
            self._install(spec, python, uv, cancel)
        return {
            **state,
            "venv": str(venv),
            "python": str(python),
            "python_version": ".".join(map(str, interpreter.version)),
            "base_python": str(interpreter.path),
            "created_with": tool,
        }

    def _install(self, spec: EnvSpec, python: Path, uv: str | None, cancel: CancelToken) -> None:
        """Install the spec's requirements through the package installer.

        The same installer as ``pkg install`` (index settings, shared cache, redacted
        errors), without its inventory and locking: the env is new and still ``creating``.
        """
        from ptest_tui.packages.index import IndexConfig
        from ptest_tui.packages.installers import BACKENDS
        from ptest_tui.store import EnvRecord

        config = self.context.config
        backend = config.packages.installer or config.defaults.installer or "uv"
        if backend == "uv" and uv is None:
            backend = "pip"  # the virtualenv library seeded pip for this case
        record = EnvRecord(spec.name, self.name, "creating", spec.to_dict())
        target = self.package_target(record)
        assert target is not None
        installer = BACKENDS[backend](self, record, target, IndexConfig.from_config(config))
        try:
            installer.install_cached_first(
                list(spec.packages), upgrade=False, pins=[], cancel=cancel
            )
        except PtestError as exc:
            if isinstance(exc, CancelledError):
                raise
            # Keep the error's class (conflict, not found, unreachable) and its exit code.
            exc.message = f"installing packages into {spec.name} failed: {exc.message}"
            exc.args = (exc.message,)
            raise

    def base_environment(self, record: EnvRecord) -> dict[str, str]:
        """Basic variables plus VIRTUAL_ENV and the venv's bin/ first on PATH."""
        env = super().base_environment(record)
        env.pop("PYTHONPATH", None)  # the venv's own site-packages hold its packages
        venv = self.venv_dir(record.name)
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join(
            [str(venv / "bin"), str(self.folder(record.name) / "bin"), SYSTEM_PATH]
        )
        env.update(record.spec.get("env") or {})
        return env

    def package_target(self, record: EnvRecord) -> PackageTarget | None:
        """The venv's interpreter; packages go into its site-packages."""
        return PackageTarget(python=str(self.venv_dir(record.name) / "bin" / "python"))

    def status(self, record: EnvRecord) -> EngineStatus:
        """Healthy while the folder and the venv's interpreter exist."""
        base = super().status(record)
        if not base.healthy:
            return base
        python = self.venv_dir(record.name) / "bin" / "python"
        if not python.exists():
            return EngineStatus(False, f"interpreter {python} is missing")
        version = record.engine_state.get("python_version", "")
        return EngineStatus(True, f"venv {self.venv_dir(record.name)} (Python {version})")

