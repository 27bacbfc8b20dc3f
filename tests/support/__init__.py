"""Test support: hand-built wheels, a local simple index, and hermetic installer settings.

Package-manager tests never touch the internet: they install the wheel corpus from
``tests.support.wheels`` through ``--find-links`` or the local index in
``tests.support.index_server``. Fixtures live in ``tests.support.conftest_packages``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# Variables from the developer's shell or CI that would change installer behaviour
# (extra find-links, another index, a user config) are dropped from test subprocesses.
_INSTALLER_PREFIXES = ("UV_", "PIP_", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "CONDA_")


def uv_binary() -> Path:
    """The ``uv`` binary installed next to the running interpreter (the project's .venv)."""
    path = Path(sys.executable).parent / "uv"
    if not path.exists():
        raise RuntimeError(f"uv not found at {path}; install the project's dev dependencies")
    return path


def bundled_pip_folder() -> Path:
    """The stdlib's ensurepip wheel folder: an offline ``--find-links`` source for pip."""
    import ensurepip

    return Path(ensurepip.__file__).parent / "_bundled"


def isolated_env(cache_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for uv/pip subprocesses that ignores user config and uses ``cache_dir``.

    UV_NO_CONFIG and PIP_CONFIG_FILE hide config files; the caches are private; uv never
    downloads a Python. Inherited UV_*/PIP_* settings are dropped so results do not depend on
    the machine.
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(_INSTALLER_PREFIXES)}
    env.update(
        {
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(cache_dir / "uv"),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_CACHE_DIR": str(cache_dir / "pip"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
        }
    )
    return env
