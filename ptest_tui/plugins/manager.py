"""The plugin manager: built-ins, entry points and path plugins, each one isolated.

Load order (= registration order): the built-ins, then entry points of the ``ptest_tui``
group in name order, then ``[plugins] paths`` in config order. Registration hooks are
collected in that order (built-ins first, so a plugin cannot take a built-in's name);
lifecycle hooks are called in pluggy's order, the reverse: the last loaded first, with
``tryfirst``/``trylast`` respected.

Hooks are called one implementation at a time (:meth:`PtestPluginManager.collect`,
:meth:`PtestPluginManager.notify`) so that a plugin that raises is caught, logged with its
name, announced as a ``PluginFailed`` event, unregistered and blocked for the rest of the
session, while every other plugin still runs. A plugin that fails to import is reported
the same way and skipped.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from ptest_tui.errors import PluginError, PtestError
from ptest_tui.plugins import hookspecs
from ptest_tui.plugins.discovery import (
    BUILTIN_NAMES,
    BUILTIN_PLUGINS,
    EntryPointRef,
    discover,
)
from ptest_tui.plugins.paths import PluginSources, load_module, modules_under

if TYPE_CHECKING:
    # Imported when a plugin fails: the event types cost ~20 ms to import, too much for
    # the CLI parser, which builds a manager for plugin commands on every command line.
    from ptest_tui.events.types import PluginFailed

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "ptest_tui"

# How a failure in a registration hook reads in the log ("plugin x failed to register ...").
ACTIONS = {
    "ptest_register_engines": "to register engines",
    "ptest_register_objects": "to register objects",
    "ptest_register_cases": "to register cases",
    "ptest_register_reporters": "to register reporters",
    "ptest_register_commands": "to register commands",
    "load": "to load",
}


@dataclass(frozen=True)
class PluginInfo:
    """One plugin: where it came from and whether it works.

    ``source`` is ``builtin``, ``entry point`` or ``path``; ``origin`` the entry point's
    ``module:attr`` or the module's import name; ``file`` the module file (path plugins and
    loaded entry points); ``state`` is ``ok``, ``failed`` or ``disabled`` (by config).
    """

    name: str
    source: str
    origin: str
    version: str = ""
    distribution: str = ""
    file: str = ""
    state: str = "ok"
    reason: str = ""
    hook: str = ""  # where it failed: a hook name, or "load"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def describe_error(exc: BaseException) -> str:
    """One line for a plugin's exception: a PtestError's message, else type and text."""
    if isinstance(exc, PtestError):
        return exc.message
    text = " ".join(str(exc).split())  # one line: pluggy's validation errors span several
    if text and type(exc) in (Exception, RuntimeError):
        return text  # "raise RuntimeError('webhook down')" reads best as is
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class PtestPluginManager(pluggy.PluginManager):
    """pluggy's manager plus what ptest-tui knows about each plugin, and isolated calls."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[PluginFailed], None]] = []

    # -- loading --------------------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """pluggy's register; a plugin registered directly (``session.plugins.register``
        from the Python API or a test) is recorded with source ``api``."""
        registered = super().register(plugin, name)
        if registered is not None and registered not in self.infos:
            origin = getattr(plugin, "__name__", None) or type(plugin).__qualname__
            self.infos[registered] = PluginInfo(registered, "api", str(origin))
        return registered

    def add(self, plugin: object, info: PluginInfo) -> bool:
        """Register ``plugin`` under ``info.name``; False (recorded as failed) on error.

        Beyond pluggy's own checks, a hook implementation named like a hook that does not
        exist (a typo such as ``ptest_on_run_finish``) and a wrapper implementation (not
        supported: hooks are called one plugin at a time) fail the plugin.
        """
        try:
            self.register(plugin, name=info.name)
        except Exception as exc:
            # pluggy may have added some of its hooks before refusing another one.
            if self.get_plugin(info.name) is plugin:
                self.unregister(name=info.name)
            self._record_failure(info, "load", describe_error(exc))
            return False
        self.infos[info.name] = info
        problem = self._check_impls(info.name)
        if problem:
            self.fail(info.name, "load", PluginError(problem, "fix the plugin"))
            return False
        return True

    def _check_impls(self, name: str) -> str:
        for caller in self.get_hookcallers(self.get_plugin(name)) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name != name:
                    continue
                if not caller.has_spec() and not impl.optionalhook:
                    return f"unknown hook {caller.name}"
                if impl.hookwrapper or impl.wrapper:
                    return f"{caller.name}: wrapper implementations are not supported"
        return ""

    def _record_failure(self, info: PluginInfo, hook: str, reason: str) -> None:
        with self._lock:
            self.infos[info.name] = replace(info, state="failed", reason=reason, hook=hook)
        log.warning("plugin %r (%s) failed to load: %s", info.name, info.origin, reason)

    def disabled(self, info: PluginInfo) -> None:
        """Record a plugin that ``[plugins] disabled`` keeps from loading."""
        self.infos[info.name] = replace(info, state="disabled", reason="disabled in config")
        self.set_blocked(info.name)

    # -- failures -------------------------------------------------------------------------

    def on_failure(self, listener: Callable[[PluginFailed], None]) -> Callable[[], None]:
        """Call ``listener`` with a PluginFailed for each plugin that fails from now on;
        returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def failures(self) -> list[PluginInfo]:
        """Plugins that failed so far (to load or in a hook)."""
        with self._lock:
            return [info for info in self.infos.values() if info.state == "failed"]

    def is_failed(self, name: str) -> bool:
        """Whether plugin ``name`` has failed (and is disabled) in this session."""
        info = self.infos.get(name)
        return info is not None and info.state == "failed"

    def fail(self, name: str, hook: str, exc: BaseException) -> None:
        """Report plugin ``name`` as failed in ``hook`` and disable it for this session.

        Logs a warning naming the plugin, unregisters and blocks it, and tells the
        listeners (the session publishes a PluginFailed event). A second failure of the
        same plugin (another thread was already inside it) is ignored.
        """
        reason = describe_error(exc)
        with self._lock:
            info = self.infos.get(name) or PluginInfo(name, "unknown", "")
            if info.state == "failed":
                return
            self.infos[name] = replace(info, state="failed", reason=reason, hook=hook)
            if self.get_plugin(name) is not None:
                self.unregister(name=name)
            self.set_blocked(name)
            listeners = list(self._listeners)
        from ptest_tui.events.types import PluginFailed

        action = ACTIONS.get(hook, f"in {hook}")
        log.warning(
            "plugin %s failed %s: %s; disabled for the rest of this session", name, action, reason
        )
        event = PluginFailed(name, hook, reason)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("plugin failure listener %r failed", listener)

    # -- calling hooks --------------------------------------------------------------------

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a registration hook of every plugin in registration order (built-ins first).

        Returns (plugin name, result) pairs; a plugin that raises is failed and left out.
        """
        impls = getattr(self.hook, hook_name).get_hookimpls()
        return self._call_each(hook_name, impls, kwargs)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook of every plugin in pluggy's order (the last loaded first,
        ``tryfirst``/``trylast`` respected); a plugin that raises is failed and skipped."""
        impls = getattr(self.hook, hook_name).get_hookimpls()
        if impls:
            self._call_each(hook_name, impls[::-1], kwargs)

    def _call_each(
        self, hook_name: str, impls: list[Any], kwargs: Mapping[str, Any]
    ) -> list[tuple[str, Any]]:
        results: list[tuple[str, Any]] = []
        for impl in impls:
            if self.is_failed(impl.plugin_name):
                continue  # failed in another hook or thread since the list was taken
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                self.fail(impl.plugin_name, hook_name, exc)
                continue
            results.append((impl.plugin_name, result))
        return results


def build_plugin_manager(
    load_entry_points: bool = True,
    sources: PluginSources | None = None,
    *,
    builtins: bool = True,
) -> PtestPluginManager:
    """A plugin manager with the hookspecs, the built-ins and the installed plugins.

    ``sources`` adds path plugins and names plugins not to load (``[plugins]``; see
    :func:`ptest_tui.plugins.paths.sources_from_config`). A plugin that fails to import is
    reported by name and skipped, so one broken plugin never stops ptest-tui.
    ``builtins=False`` is for the CLI parser, which only wants plugin commands.
    """
    from importlib import import_module

    from ptest_tui import __version__

    manager = PtestPluginManager()
    sources = sources or PluginSources()
    if builtins:
        for name, module_name in BUILTIN_PLUGINS:
            builtin = import_module(module_name)
            file = builtin.__file__ or ""
            manager.add(builtin, PluginInfo(name, "builtin", module_name, __version__, file=file))
    if load_entry_points:
        for ref in discover(ENTRY_POINT_GROUP):
            if ref.name in BUILTIN_NAMES or manager.get_plugin(ref.name) is not None:
                continue
            _load_entry_point(manager, ref, sources)
    for module in modules_under(sources.paths):
        info = PluginInfo(module.name, "path", str(module.file), file=str(module.file))
        if module.name in sources.disabled:
            manager.disabled(info)
        elif module.name in manager.infos:
            manager._record_failure(
                info, "load", f"the name {module.name!r} is taken by the plugin from"
                f" {manager.infos[module.name].origin}",
            )
        else:
            try:
                loaded = load_module(module)
            except Exception as exc:
                manager._record_failure(info, "load", describe_error(exc))
                continue
            version = getattr(loaded, "__version__", "")
            manager.add(loaded, replace(info, version=version if isinstance(version, str) else ""))
    return manager


def _load_entry_point(
    manager: PtestPluginManager, ref: EntryPointRef, sources: PluginSources
) -> None:
    info = PluginInfo(ref.name, "entry point", ref.value, ref.version, ref.distribution)
    if ref.name in sources.disabled:
        manager.disabled(info)
        return
    try:
        plugin = ref.load()
    except Exception as exc:
        error = PluginError(
            f"plugin {ref.name!r} ({ref.value}) failed to load: {describe_error(exc)}",
            "fix or uninstall that plugin",
        )
        manager.infos[ref.name] = replace(
            info, state="failed", reason=describe_error(exc), hook="load"
        )
        log.warning("%s", error.one_line())
        return
    module = plugin if hasattr(plugin, "__file__") else sys.modules.get(
        str(getattr(plugin, "__module__", ""))
    )
    module_file = getattr(module, "__file__", None)
    manager.add(plugin, replace(info, file=str(Path(module_file)) if module_file else ""))
