"""Registers the built-in object kinds through the same hook third-party plugins use."""

from __future__ import annotations

from ptest_tui.objects.base import TestObject
from ptest_tui.plugins.hookspecs import hookimpl


@hookimpl
def ptest_register_objects() -> list[type[TestObject]]:
    """sqlite, postgres, mysql, mariadb, redis, web and service."""
    from ptest_tui.objects.command import ServiceObject, WebObject
    from ptest_tui.objects.mysql import MariadbObject, MysqlObject
    from ptest_tui.objects.postgres import PostgresObject
    from ptest_tui.objects.redis import RedisObject
    from ptest_tui.objects.sqlite import SqliteObject

    return [
        SqliteObject, PostgresObject, MysqlObject, MariadbObject, RedisObject, WebObject,
        ServiceObject,
    ]
