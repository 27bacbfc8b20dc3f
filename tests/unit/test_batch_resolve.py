"""Plans checked against a real workspace: references, implicit nodes, automatic needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ptest_tui.batch import BatchPlan, load_plan, resolve
from ptest_tui.errors import ConfigError
from ptest_tui.session import Session
from tests.support.batch_plans import write_plan, write_workspace


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session.open(workspace=write_workspace(tmp_path / "ws"), environ={})
    yield s
    s.close()


def resolved(session: Session, text: str) -> BatchPlan:
    return resolve(session, load_plan(write_plan(session.workspace.root, text), {}))


def refused(session: Session, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        resolved(session, text)
    assert "\n" not in caught.value.one_line()
    return caught.value


def test_run_steps_need_their_env_nodes_and_declared_envs_become_implicit(
    session: Session,
) -> None:
    plan = resolved(session, """
        [envs.extra]
        isolation = "basic"

        [[steps]]
        id = "tests"
        kind = "run"
        suites = ["smoke", "broken/bad"]
        envs = ["unit", "extra"]

        [[steps]]
        kind = "report"
        run = "tests"
    """)
    ids = [s.id for s in plan.steps]
    assert ids == ["env:extra", "env:unit", "tests", "report-1"]
    tests = plan.step("tests")
    assert set(tests.needs) == {"env:unit", "env:extra"}
    assert tests.settings["envs"] == ("unit", "extra")
    assert tests.settings["run_envs"] == ("unit", "extra")
    assert plan.step("env:unit").implicit and not plan.step("env:extra").implicit
    assert plan.step("report-1").needs == ("tests",)
    assert plan.levels() == [["env:extra", "env:unit"], ["tests"], ["report-1"]]
    assert plan.resolved and resolve(session, plan) is plan


def test_a_created_env_needs_no_node(session: Session) -> None:
    session.create_env("unit")
    plan = resolved(session, '[[steps]]\nid = "t"\nkind = "run"\nsuites = ["smoke"]\n')
    assert [s.id for s in plan.steps] == ["t"] and plan.step("t").needs == ()


def test_cleanup_steps_wait_for_every_step_using_what_they_remove(session: Session) -> None:
    plan = resolved(session, """
        [[steps]]
        id = "a"
        kind = "exec"
        env = "unit"
        command = "true"

        [[steps]]
        id = "b"
        kind = "exec"
        env = "other"
        command = "true"

        [[steps]]
        id = "gone"
        kind = "cleanup"
        envs = ["unit"]
    """)
    assert set(plan.step("gone").needs) == {"env:unit", "a"}
    assert plan.step("b").needs == ("env:other",)


@pytest.mark.parametrize(("text", "message", "hint"), [
    ('[[steps]]\nkind = "exec"\nenv = "unti"\ncommand = "true"\n',
     "steps[0] (exec-0): no environment named 'unti'", "did you mean 'unit'?"),
    ('[[steps]]\nkind = "exec"\nenv = "zzz"\ncommand = "true"\n',
     "no environment named 'zzz'", "[envs.zzz]"),
    ('[[steps]]\nkind = "run"\nsuites = ["smok"]\n',
     "steps[0] (run-0): no suite or case named 'smok'", "did you mean 'smoke'"),
    ("[objects.db]\n", "objects.db: no object named 'db' in the workspace", 'kind = "..."'),
    ('[objects.db]\npath = "x.db"\n', "objects.db: settings without kind", ""),
    ('[objects.db]\nkind = "sqlit"\n', "objects.db: unknown object kind 'sqlit'",
     "did you mean 'sqlite'?"),
    ('[objects.db]\nkind = "sqlite"\nschma = "s.sql"\n', "unknown setting 'schma'",
     "did you mean 'schema'?"),
    ('[[steps]]\nkind = "cleanup"\nobjects = ["db"]\n',
     "steps[0] (cleanup-0): no object named 'db'", ""),
    ('[envs.x]\nisolation = "podman"\n', "envs.x: unknown isolation level 'podman'", ""),
    ('[[steps]]\nkind = "migrate"\nenv = "unit"\nto = "dockr"\n',
     "steps[0] (migrate-0).to: unknown isolation level 'dockr'", "did you mean 'docker'?"),
    ('[[steps]]\nid = "t"\nkind = "run"\nreport = ["xml"]\n',
     "steps[0] (t).report: unknown report format 'xml'", ""),
    ('[[steps]]\nid = "e"\nkind = "exec"\nenv = "unit"\ncommand = "true"\n'
     '[[steps]]\nkind = "report"\nrun = "e"\n',
     "step 'e' is a exec step, not a run step", ""),
    ('[[steps]]\nid = "tests"\nkind = "run"\n[[steps]]\nkind = "report"\nrun = "test"\n',
     "no run step or run 'test'", "did you mean 'tests'?"),
    ('[[steps]]\nid = "a"\nkind = "run"\nneeds = ["b"]\n'
     '[[steps]]\nid = "b"\nkind = "run"\nneeds = ["a"]\n',
     "the steps' needs form a cycle: a -> b -> a", "remove one of these needs"),
    ('[[steps]]\nid = "a"\nkind = "run"\nneeds = ["env:nope"]\n',
     "needs unknown step 'env:nope'", ""),
    ('[[steps]]\nkind = "install"\nenv = "unit"\nrequirements = ["missing.txt"]\n',
     "requirements: no file", "relative to the plan file"),
])
def test_bad_references_are_one_line_with_a_suggestion(
    session: Session, text: str, message: str, hint: str
) -> None:
    error = refused(session, text)
    assert error.message.startswith(str(session.workspace.root / "plan.toml") + ": ")
    assert message in error.message
    assert hint in error.hint


def test_a_suite_without_envs_needs_envs_in_the_step(session: Session) -> None:
    (session.workspace.root / "ptest.toml").write_text(
        '[suites.loose]\n[[suites.loose.cases]]\nname = "x"\nkind = "command"\n'
        'command = "true"\n'
    )
    with (Session.open(workspace=session.workspace.root, environ={}) as fresh,
          pytest.raises(ConfigError, match="suite loose names no environments")):
        resolved(fresh, '[[steps]]\nkind = "run"\n')


def test_a_bad_case_setting_in_ptest_toml_is_found_before_anything_runs(
    session: Session,
) -> None:
    (session.workspace.root / "ptest.toml").write_text(
        '[envs.unit]\nisolation = "basic"\n[suites.s]\nenvs = ["unit"]\n'
        '[[suites.s.cases]]\nname = "x"\nkind = "command"\ncomand = "true"\n'
    )
    with Session.open(workspace=session.workspace.root, environ={}) as fresh:
        with pytest.raises(ConfigError, match="comand"):
            resolved(fresh, '[[steps]]\nkind = "run"\n')
        assert fresh.store.list_envs() == []
