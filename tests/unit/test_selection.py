"""The isolation manager's rules and their recorded reasons."""

from __future__ import annotations

import pytest

from ptest_tui.engines.selection import select_isolation
from ptest_tui.engines.spec import EnvSpec
from ptest_tui.errors import UsageError

CAPS = {
    "basic": frozenset(),
    "virtualenv": frozenset({"python", "packages"}),
    "docker": frozenset({"python", "packages", "limits", "image", "network"}),
}


def pick(**kwargs: object) -> tuple[str, str]:
    selection = select_isolation(EnvSpec(name="e", **kwargs), CAPS)  # type: ignore[arg-type]
    return selection.level, selection.reason


def test_nothing_needed_is_basic() -> None:
    level, reason = pick()
    assert level == "basic"
    assert "no Python" in reason


def test_python_selects_virtualenv() -> None:
    assert pick(python="3.11") == ("virtualenv", "needs a Python environment: python 3.11")


def test_packages_select_virtualenv() -> None:
    level, reason = pick(packages=("attrs",))
    assert level == "virtualenv"
    assert "1 package" in reason


def test_limits_checked_first_and_select_docker() -> None:
    level, reason = pick(memory=512 * 1024**2, python="3.11", packages=("attrs",))
    assert level == "docker"
    assert reason.startswith("resource limits need docker")
    assert "512m" in reason


def test_cpus_select_docker() -> None:
    assert pick(cpus=1.0)[0] == "docker"


def test_image_and_network_select_docker() -> None:
    assert pick(image="custom:1") == ("docker", "needs docker: image custom:1")
    assert pick(network="none")[0] == "docker"


def test_explicit_level_is_recorded() -> None:
    assert pick(isolation="virtualenv") == ("virtualenv", "requested isolation virtualenv")


def test_explicit_level_that_cannot_honour_limits() -> None:
    with pytest.raises(UsageError) as info:
        pick(isolation="basic", memory=64 * 1024**2)
    assert "cannot honour memory limit 64m" in info.value.message


def test_explicit_basic_cannot_have_python() -> None:
    with pytest.raises(UsageError):
        pick(isolation="basic", python="3.11")


def test_unknown_level() -> None:
    with pytest.raises(UsageError) as info:
        pick(isolation="vm")
    assert "unknown isolation level 'vm'" in info.value.message
    assert "docker" in info.value.hint
