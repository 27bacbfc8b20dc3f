"""Object kinds: the registry, settings checks, plugin kinds, declared objects in the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ptest_tui.cancel import CancelToken
from ptest_tui.config.loader import load_config
from ptest_tui.errors import ConfigError, PluginError, UsageError
from ptest_tui.objects.base import ConnectionInfo, ObjectSpec, ObjectStatus, TestObject
from ptest_tui.objects.registry import ObjectRegistry
from ptest_tui.objects.sqlite import SqliteObject
from ptest_tui.plugins.hookspecs import hookimpl
from ptest_tui.session import Session
from tests.conftest import write_workspace


class MarkerFile(TestObject):
    """A plugin kind: "running" means a marker file exists."""

    kind = "marker"
    description = "a file"
    settings_doc = {"text": "what to write"}
    runtimes = ("file",)

    def start(self, cancel: CancelToken, fresh: bool = False) -> ConnectionInfo:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "marker").write_text(str(self.setting("text", "")))
        return self.connection()

    def stop(self) -> None:
        (self.folder / "marker").unlink(missing_ok=True)

    def status(self) -> ObjectStatus:
        exists = (self.folder / "marker").exists()
        return ObjectStatus(exists, exists, "marker" if exists else "stopped")

    def connection(self) -> ConnectionInfo:
        return ConnectionInfo(extra={"path": str(self.folder / "marker")})


class Plugin:
    @hookimpl
    def ptest_register_objects(self) -> list[type[TestObject]]:
        return [MarkerFile]


def test_registry_refuses_duplicates_and_non_objects() -> None:
    registry = ObjectRegistry()
    registry.register(SqliteObject)
    registry.register(SqliteObject)  # the same class twice is fine

    class Other(SqliteObject):
        pass

    with pytest.raises(PluginError, match="two plugins"):
        registry.register(Other)
    with pytest.raises(PluginError, match="not a TestObject"):
        registry.register(dict)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="ptest_register_objects returned"):
        registry.register_all(["sqlite"])


def test_settings_are_checked_with_suggestions() -> None:
    registry = ObjectRegistry()
    registry.register(SqliteObject)
    registry.check_settings(ObjectSpec("db", "sqlite", {"schema": "s.sql", "port": "auto"}), "x")
    with pytest.raises(UsageError, match="unknown setting 'shema'") as info:
        registry.check_settings(ObjectSpec("db", "sqlite", {"shema": "s.sql"}), "x")
    assert "schema" in info.value.hint
    with pytest.raises(UsageError, match="cannot use runtime 'docker'"):
        registry.check_settings(ObjectSpec("db", "sqlite", {"runtime": "docker"}), "x")
    with pytest.raises(UsageError, match="unknown object kind 'sqlit'") as info:
        registry.get("sqlit")
    assert info.value.hint == "did you mean 'sqlite'?"


def test_a_plugin_kind_is_a_peer_of_the_builtins(workspace: Path) -> None:
    session = Session.open(workspace=workspace, environ={})
    try:
        session.plugins.register(Plugin(), name="marker-plugin")
        assert "marker" in session.objects.registry.kinds()
        assert {"sqlite", "postgres", "web", "service"} <= set(session.objects.registry.kinds())
        session.objects.add("m", "marker", {"text": "hi"})
        info = session.objects.start("m")
        assert Path(info.extra["path"]).read_text() == "hi"
        assert session.objects.view("m").state == "running"
        session.objects.stop("m")
        assert session.objects.view("m").state == "stopped"
    finally:
        session.close()


def test_a_plugin_whose_hook_raises_is_skipped(workspace: Path, caplog: Any) -> None:
    class Broken:
        @hookimpl
        def ptest_register_objects(self) -> list[type[TestObject]]:
            raise RuntimeError("boom")

    session = Session.open(workspace=workspace, environ={})
    try:
        session.plugins.register(Broken(), name="broken")
        assert "sqlite" in session.objects.registry.kinds()
        assert "broken failed to register objects: boom" in caplog.text
    finally:
        session.close()


def test_declared_objects_in_the_config(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", """
        [objects]
        port_range = "30000-30100"

        [objects.db]
        kind = "postgres"
        init = ["schema.sql"]
        durable = true
        """)
    config = load_config(root, {}, ())
    assert config.objects.ports == (30000, 30100)
    assert config.declared_objects == {
        "db": {"kind": "postgres", "init": ["schema.sql"], "durable": True}
    }
    assert config.to_dict()["objects"]["db"]["kind"] == "postgres"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[objects.db]\nuser = 'x'\n", "objects.db: missing kind"),
        ("[objects.'bad name']\nkind = 'sqlite'\n", "objects.bad name"),
        ("[objects.db]\nkind = 'sqlite'\nnested = {a = 1}\n", "objects.db.nested: expected"),
        ("[objects]\nport_rage = '1-2'\n", "unknown key objects.port_rage"),
    ],
)
def test_bad_object_tables_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    root = write_workspace(tmp_path / "ws", toml)
    with pytest.raises(ConfigError) as info:
        load_config(root, {}, ())
    assert message in info.value.message
