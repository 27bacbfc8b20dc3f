"""Imports a module of the suite's folder: found because that folder is on sys.path."""

from helperpkg import shout


def test_shout() -> None:
    assert shout("hi") == "HI!"
