"""The app's themes: the shipped files plus the workspace's ``themes/*.toml``, kept live.

:class:`ThemeLibrary` loads every theme file at start (shipped first, then the workspace's,
so a workspace theme with a shipped theme's name replaces it), registers them with the app
and, while the app runs, watches both folders (:class:`~ptest_tui.config.theme_watch.
ThemeWatcher`, a thread). A change arrives as a :class:`ThemeFilesChanged` message and is
applied on the app's thread:

- a valid file is re-registered; if it is the theme in use, it is re-applied at once;
- an invalid file keeps the previous theme and is reported once (not at every save that
  still has the same problem);
- a deleted file's theme leaves the palette (one in use stays applied until another is
  chosen); a shipped or built-in theme it replaced comes back.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.message import Message
from textual.theme import BUILTIN_THEMES, Theme

from ptest_tui.config.theme_watch import ThemeWatcher
from ptest_tui.errors import ConfigError
from ptest_tui.tui.themes import load_theme, shipped_theme_dir, theme_files, workspace_theme_dir


class ThemeFilesChanged(Message):
    """Theme files changed on disk (posted from the watcher thread)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths


class ThemeLibrary:
    """Every theme the app offers, where each came from, and their live reload."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace_dir = workspace_theme_dir(root).absolute()
        self.themes: list[Theme] = []  # the palette's list, in load order
        self.by_path: dict[Path, str] = {}  # theme file -> theme name (shipped files first)
        self.problems: dict[Path, str] = {}  # theme file -> the problem last reported
        self.watcher: ThemeWatcher | None = None

    # -- loading --------------------------------------------------------------------------

    def where(self, path: Path) -> str:
        """How messages name ``path``: relative to the workspace, else the file name."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return path.name

    def origin(self, name: str) -> str:
        """Where theme ``name`` comes from, for the command palette."""
        paths = [path for path, theme in self.by_path.items() if theme == name]
        if paths and paths[-1].parent == self.workspace_dir:
            return f"from {self.where(paths[-1])}"
        return "shipped with ptest-tui"

    def files(self) -> list[Traversable]:
        """Every theme file to load: shipped ones, then the workspace's, each by name."""
        own = sorted(self.workspace_dir.glob("*.toml")) if self.workspace_dir.is_dir() else []
        return [*theme_files(), *own]

    def load(self, app: App[Any]) -> list[Theme]:
        """Load and register every valid theme file; problems wait in ``problems``."""
        for source in self.files():
            # Shipped files inside a zip have no path: they load, but are not watched.
            path = source.absolute() if isinstance(source, Path) else Path(source.name)
            try:
                theme = load_theme(source, self.where(path))
            except ConfigError as exc:
                self.problems[path] = _describe(exc)
                continue
            self.by_path[path] = theme.name
            self._register(app, theme)
        return self.themes

    def _register(self, app: App[Any], theme: Theme) -> None:
        app.register_theme(theme)
        names = [known.name for known in self.themes]
        if theme.name in names:
            self.themes[names.index(theme.name)] = theme
        else:
            self.themes.append(theme)

    # -- live reload ----------------------------------------------------------------------

    def start(self, app: App[Any]) -> None:
        """Report the files that did not load (one notification), then watch the folders."""
        if self.problems:
            app.notify("\n".join(self.problems.values()), title="Theme files not loaded",
                       severity="error", markup=False, timeout=10)
        folders = [self.workspace_dir]
        shipped = shipped_theme_dir()
        if shipped is not None:
            folders.insert(0, shipped)

        def changed(paths: list[Path]) -> None:
            app.post_message(ThemeFilesChanged(paths))  # thread-safe; applied on app thread

        try:
            self.watcher = ThemeWatcher(folders, changed).start()
        except Exception as exc:  # watchfiles missing: themes still work, just not live
            app.notify(f"theme files are not watched: {exc}", severity="warning",
                       markup=False)

    def stop(self) -> None:
        """Stop watching."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def apply(self, app: App[Any], paths: list[Path]) -> None:
        """Re-read changed theme files (on the app's thread)."""
        for path in paths:
            self._reload(app, path.absolute())

    def _reload(self, app: App[Any], path: Path) -> None:
        old = self.by_path.get(path)
        if not path.is_file():
            self.problems.pop(path, None)
            if old is not None:
                del self.by_path[path]
                self._forget(app, old)
            return
        try:
            theme = load_theme(path, self.where(path))
        except ConfigError as exc:
            problem = _describe(exc)
            if self.problems.get(path) != problem:  # once per problem, not per save
                self.problems[path] = problem
                keeps = f"; keeping {old}" if old else ""
                app.notify(problem, title=f"Theme not reloaded{keeps}", severity="error",
                           markup=False, timeout=10)
            return
        self.problems.pop(path, None)
        self.by_path[path] = theme.name
        if old is not None and old != theme.name:
            self._forget(app, old)  # the file now defines another name
        self._register(app, theme)
        if app.theme == theme.name:
            # Setting app.theme to its own name is no change for a reactive; force the
            # watcher so the new colors reach the CSS (and theme_changed_signal fires).
            app.mutate_reactive(App.theme)
            app.notify(f"theme {theme.name} reloaded", markup=False, timeout=3)

    def _forget(self, app: App[Any], name: str) -> None:
        """No file defines ``name`` any more: fall back to what it replaced, or drop it."""
        others = [path for path, theme in self.by_path.items() if theme == name]
        if others:
            self._reload(app, others[-1])
            return
        self.themes[:] = [theme for theme in self.themes if theme.name != name]
        if name in BUILTIN_THEMES:  # Textual's own (listed by Textual's palette entries)
            app.register_theme(BUILTIN_THEMES[name])
        elif name != app.theme:  # one in use stays registered until another is chosen
            app.unregister_theme(name)


def _describe(error: ConfigError) -> str:
    """A theme problem as one line: message and hint."""
    return error.one_line()
