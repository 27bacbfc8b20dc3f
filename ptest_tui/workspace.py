"""The workspace: its root folder, ``.ptest/`` state folder and stable identity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ptest_tui.config.loader import find_workspace
from ptest_tui.errors import WorkspaceError

STATE_DIR = ".ptest"


@dataclass(frozen=True)
class Workspace:
    """A project folder with a ptest.toml (or ``[tool.ptest]``) and its state folder."""

    root: Path

    @property
    def state_dir(self) -> Path:
        """``.ptest/`` under the root."""
        return self.root / STATE_DIR

    @property
    def id(self) -> str:
        """A stable short id (from the absolute path), used in Docker labels."""
        return hashlib.sha256(str(self.root).encode()).hexdigest()[:12]

    @classmethod
    def locate(
        cls, start: str | Path | None = None, explicit: str | Path | None = None
    ) -> Workspace:
        """The workspace at ``explicit``, or the nearest one at or above ``start``."""
        if explicit is not None:
            root = Path(explicit).expanduser().resolve()
            if not root.is_dir():
                raise WorkspaceError(
                    f"workspace folder {explicit} does not exist", "check the path"
                )
            if find_workspace(root) != root:
                raise WorkspaceError(
                    f"{explicit} has no ptest.toml",
                    f"create one with `ptest-tui init` in {explicit}",
                )
            return cls(root)
        here = Path(start or Path.cwd()).resolve()
        found = find_workspace(here)
        if found is None:
            raise WorkspaceError(
                f"no ptest.toml found in {here} or any folder above it",
                "run `ptest-tui init` to create one, or pass --workspace DIR",
            )
        return cls(found)
