"""What happens when things break mid-way: engines down, repairs failing, stubborn leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptest_tui.errors import EngineUnavailableError, PtestError
from ptest_tui.session import Session


@pytest.mark.docker
def test_delete_with_daemon_down_changes_nothing(dsession: Session, workspace: Path) -> None:
    dsession.create_env("keep", isolation="docker")
    with Session.open(
        workspace=workspace, environ={}, overrides=["docker.host=tcp://127.0.0.1:1"]
    ) as down:
        with pytest.raises(EngineUnavailableError) as info:
            down.delete_env("keep")
        assert "doctor" in info.value.hint
        assert down.get_env("keep").status == "ready"
        # Cleanup skips the unreachable engine and reports nothing it could not check.
        assert down.cleanup(dry_run=True) == []
    assert dsession.env_status("keep").healthy


@pytest.mark.docker
def test_cleanup_reports_broken_env_it_cannot_remove_and_goes_on(
    dsession: Session, workspace: Path
) -> None:
    dsession.create_env("dock", isolation="docker")
    dsession.store.update_env("dock", status="broken", error="test breakage")
    orphan = workspace / ".ptest" / "envs" / "orphan"
    orphan.mkdir(parents=True)
    with Session.open(
        workspace=workspace, environ={}, overrides=["docker.host=tcp://127.0.0.1:1"]
    ) as down:
        items = {(i.kind, i.env): i for i in down.cleanup()}
    assert items[("env", "dock")].error  # could not be removed: the daemon is unreachable
    assert not items[("folder", "orphan")].error
    assert not orphan.exists()
    assert dsession.get_env("dock").status == "broken"
    removed = dsession.cleanup()
    assert ("env", "dock") in {(i.kind, i.env) for i in removed}
    assert dsession.store.find_env("dock") is None


def test_failed_repair_keeps_the_env_marked_broken(session: Session, tmp_path: Path) -> None:
    session.create_env("fragile", isolation="virtualenv")
    # The stored spec now asks for a wheel that has since disappeared: the rebuild fails.
    missing = tmp_path / "gone-1.0-py3-none-any.whl"
    record = session.get_env("fragile")
    spec = {**record.spec, "packages": [f"gone @ file://{missing}"]}
    session.store.update_env("fragile", status="broken", error="was damaged", spec=spec)
    with pytest.raises(PtestError) as info:
        session.repair_env("fragile")
    assert "installing packages" in info.value.message
    after = session.get_env("fragile")
    assert after.status == "broken"
    assert "installing packages" in after.error
    assert [t.new for t in session.store.transitions("fragile")][-2:] == ["creating", "broken"]
