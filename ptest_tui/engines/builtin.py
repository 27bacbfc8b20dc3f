"""Registers the built-in engines through the same hook third-party plugins use."""

from __future__ import annotations

from ptest_tui.engines.base import IsolationEngine
from ptest_tui.plugins.hookspecs import hookimpl


@hookimpl
def ptest_register_engines() -> list[type[IsolationEngine]]:
    """basic, virtualenv and docker."""
    from ptest_tui.engines.basic import BasicEngine
    from ptest_tui.engines.docker import DockerEngine
    from ptest_tui.engines.virtualenv import VirtualenvEngine

    return [BasicEngine, VirtualenvEngine, DockerEngine]
