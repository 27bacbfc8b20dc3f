"""The sqlite object: a database file in the workspace, built from schema and seed SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ptest_tui.cancel import CancelToken
from ptest_tui.errors import PtestError, UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectStatus, TestObject


class SqliteError(PtestError):
    """A schema or seed script failed."""


class SqliteObject(TestObject):
    """A SQLite database file; "running" means the file exists and opens.

    Settings: ``path`` (relative to the workspace; default ``.ptest/objects/NAME/db.sqlite``),
    ``schema`` and ``seed`` (SQL files run once when the database is created, or on
    ``fresh``).
    """

    kind = "sqlite"
    description = "SQLite database file from schema and seed SQL"
    settings_doc = {
        "path": "database file, relative to the workspace (default .ptest/objects/NAME/db.sqlite)",
        "schema": "SQL file run when the database is created",
        "seed": "SQL file run after the schema",
    }
    runtimes = ("file",)

    @property
    def path(self) -> Path:
        """The database file."""
        given = self.spec.settings.get("path")
        return self.workspace / given if given else self.folder / "db.sqlite"

    def validate(self) -> None:
        """The schema and seed files must exist."""
        self._scripts()

    def _scripts(self) -> list[Path]:
        scripts = []
        for key in ("schema", "seed"):
            value = self.spec.settings.get(key)
            if value:
                script = self.workspace / str(value)
                if not script.is_file():
                    raise UsageError(
                        f"{self.spec.name}: {key} file {value} does not exist",
                        f"fix objects.{self.spec.name}.{key}",
                    )
                scripts.append(script)
        return scripts

    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        """Create the file from the scripts if needed (all or nothing), then open it."""
        scripts = self._scripts()  # validate before touching anything
        cancel.raise_if_cancelled(f"starting {self.spec.name}")
        if fresh or not self.path.exists():
            self._build(scripts)
        with sqlite3.connect(self.path) as conn:
            conn.execute("SELECT 1")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._in_use.touch()
        return self.connection()

    @property
    def _in_use(self) -> Path:
        # A file needs no process, but "stopped" should still mean what users expect.
        return self.folder / "in-use"

    def _build(self, scripts: list[Path]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".building")
        partial.unlink(missing_ok=True)
        conn = sqlite3.connect(partial)
        try:
            for script in scripts:
                self._run_script(conn, script)
            conn.commit()
        finally:
            conn.close()
        partial.replace(self.path)  # a failed script never leaves a half-built database

    def _run_script(self, conn: sqlite3.Connection, script: Path) -> None:
        text = script.read_text()
        statement = ""
        start_line = 1
        for number, line in enumerate(text.splitlines(keepends=True), start=1):
            if not statement.strip():
                start_line = number
            statement += line
            if sqlite3.complete_statement(statement):
                try:
                    conn.execute(statement)
                except sqlite3.Error as exc:
                    raise SqliteError(
                        f"{self.spec.name}: {script.name} line {start_line}: {exc}",
                        f"fix the SQL in {script}",
                    ) from None
                statement = ""
        if statement.strip():
            raise SqliteError(
                f"{self.spec.name}: {script.name} line {start_line}: incomplete statement",
                f"end the statement with ';' in {script}",
            )

    def stop(self) -> None:
        """Mark it out of use (nothing runs: the file stays as it is)."""
        self._in_use.unlink(missing_ok=True)

    def status(self) -> ObjectStatus:
        """Ready when the file opens and answers a query."""
        if not self.path.exists():
            return ObjectStatus(False, False, f"{self.path.name} not created yet")
        if not self._in_use.exists():
            return ObjectStatus(False, False, "stopped (the file is kept)")
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master")
        except sqlite3.Error as exc:
            return ObjectStatus(True, False, f"cannot open {self.path.name}: {exc}")
        return ObjectStatus(True, True, str(self.path))

    def connection(self) -> ConnectionInfo:
        """``sqlite:///ABSOLUTE/PATH`` (SQLAlchemy style) and the path."""
        return ConnectionInfo(url=f"sqlite:///{self.path}", extra={"path": str(self.path)})

    def remove(self) -> None:
        """Delete the database file and the object's folder."""
        self.path.unlink(missing_ok=True)
        super().remove()
