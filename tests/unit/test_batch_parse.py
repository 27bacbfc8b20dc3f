"""Plan files on their own: variables, keys, values, ids and the graph (no workspace)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ptest_tui.batch.graph import dependents, find_cycle, order
from ptest_tui.batch.model import BatchPlan, PlanSettings, Step
from ptest_tui.batch.parse import load_plan
from ptest_tui.batch.variables import expand, expand_all
from ptest_tui.errors import ConfigError, UsageError


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the plan as given: "plan.toml"


def plan_file(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text))
    return Path(name)


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> BatchPlan:
    return load_plan(plan_file(tmp_path, text), environ or {})


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, environ)
    assert "\n" not in caught.value.one_line()
    return caught.value


# -- variables ------------------------------------------------------------------------------


def test_variables_take_the_environment_defaults_and_escapes() -> None:
    env = {"PY": "3.12", "EMPTY": ""}
    assert expand("py${PY}", env, "p", "k") == "py3.12"
    assert expand("${MISSING:-3.11}", env, "p", "k") == "3.11"
    assert expand("${EMPTY:-x}", env, "p", "k") == "x"  # :- also covers set-but-empty
    assert expand("${EMPTY}", env, "p", "k") == ""
    assert expand("$${PY} $PY", env, "p", "k") == "${PY} $PY"
    assert expand("${A:-a}-${PY}", env, "p", "k") == "a-3.12"
    data = expand_all({"x": ["${PY}", 3, {"y": "${PY}"}]}, env, "p")
    assert data == {"x": ["3.12", 3, {"y": "3.12"}]}


def test_an_unset_variable_names_itself_and_where_it_is_used() -> None:
    with pytest.raises(ConfigError) as caught:
        expand_all({"steps": [{"env": "${TARGET_ENV}"}]}, {}, "plan.toml")
    assert caught.value.message == "plan.toml: steps[0].env: ${TARGET_ENV} is not set"
    assert "${TARGET_ENV:-default}" in caught.value.hint
    with pytest.raises(ConfigError, match="bad variable reference"):
        expand("${1BAD}", {}, "plan.toml", "k")


def test_variables_fill_typed_values(tmp_path: Path) -> None:
    plan = load(tmp_path, """
        [plan]
        parallel = "${JOBS:-3}"
        fail_fast = "${FAST:-false}"
        [[steps]]
        kind = "exec"
        env = "${ENV:-unit}"
        command = "echo ${WHO}"
        timeout = "${T:-2.5}"
    """, {"WHO": "me", "FAST": "true"})
    assert plan.settings.parallel == 3 and plan.settings.fail_fast is True
    (step,) = plan.steps
    assert step.envs == ("unit",) and step.settings["command"] == ("echo", "me")
    assert step.settings["timeout"] == 2.5


# -- files and keys -------------------------------------------------------------------------


def test_missing_file_and_invalid_toml_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"plan file nope\.toml not found"):
        load_plan("nope.toml", {})
    with pytest.raises(UsageError, match="is not a file"):
        load_plan(tmp_path, {})
    error = error_of(tmp_path, '[plan]\nname = "x"\n[[steps]\nkind = "run"\n')
    assert error.message.startswith("plan.toml: invalid TOML:")
    assert "line 3, column" in error.message


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("[plann]\n", "unknown key plann", "did you mean 'plan'?"),
    ('[plan]\nclean = "never"\n', "unknown key plan.clean", "did you mean 'cleanup'?"),
    ('[plan]\ncleanup = "sometimes"\n', "plan.cleanup: expected one of always, on-success,"
     " never, got 'sometimes'", ""),
    ('[envs.u]\nisolaton = "basic"\n', "unknown key envs.u.isolaton",
     "did you mean 'isolation'?"),
    ('[envs.u]\nmemory = "lots"\n', "envs.u.memory: invalid memory size", ""),
    ('[[steps]]\nkind = "run"\nneedz = ["a"]\n', "unknown key steps[0].needz",
     "did you mean 'needs'?"),
    ('[[steps]]\nkind = "runn"\n', "steps[0].kind: unknown step kind 'runn'",
     "did you mean 'run'?"),
    ('[[steps]]\nid = "x"\n', "steps[0]: missing kind", ""),
    ('[[steps]]\nkind = "run"\nparallel = 0\n', "steps[0].parallel: expected a whole number",
     ""),
    ('[[steps]]\nkind = "snapshot"\n', "a snapshot step needs an env", ""),
    ('[[steps]]\nkind = "install"\nenv = "u"\n', "needs something to install", ""),
    ('[[steps]]\nkind = "install"\nenv = "u"\nlock = "l"\npackages = ["a"]\n',
     "lock syncs the env exactly", ""),
    ('[[steps]]\nkind = "migrate"\nenv = "u"\n', "needs a target level", ""),
    ('[[steps]]\nkind = "report"\n', "needs the run to report", ""),
    ('[[steps]]\nkind = "run"\nwhen = "sometimes"\n', "when: expected success or always", ""),
    ('[[steps]]\nkind = "run"\nid = "a b"\n', "steps[0].id: invalid step name 'a b'", ""),
    ('[[steps]]\nkind = "run"\nid = "t"\n[[steps]]\nkind = "run"\nid = "t"\n',
     "steps[1] (t): a second step with id 't' (the first is steps[0] (t))", ""),
    ("[plan]\n", "the plan has nothing to do", ""),
    ('steps = "x"\n', "steps: expected [[steps]] tables", ""),
])
def test_bad_plans_name_the_key_and_the_nearest_valid_one(
    tmp_path: Path, text: str, message: str, hint: str
) -> None:
    error = error_of(tmp_path, text)
    assert message in error.message
    assert error.message.startswith("plan.toml: ")
    assert hint in error.hint


def test_a_full_plan_parses_into_nodes(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("alpha\n")
    plan = load(tmp_path, """
        [plan]
        name = "ci"
        cleanup = "on-success"
        report_dir = "out"
        timeout = 60

        [envs.unit]
        isolation = "virtualenv"
        packages = ["alpha"]
        recreate = true

        [objects.db]

        [[steps]]
        id = "tests"
        kind = "run"
        suites = ["api"]
        report = ["junit"]

        [[steps]]
        kind = "install"
        envs = ["unit"]
        requirements = ["reqs.txt"]
        needs = ["tests"]

        [[steps]]
        kind = "report"
        run = "tests"
    """)
    assert plan.settings.name == "ci" and plan.settings.cleanup == "on-success"
    assert plan.settings.report_dir == (tmp_path / "out").resolve()
    assert plan.settings.timeout == 60.0
    assert [s.id for s in plan.steps] == ["env:unit", "object:db", "tests", "install-1",
                                          "report-2"]
    env = plan.step("env:unit")
    assert env.settings["options"] == {"isolation": "virtualenv", "packages": ["alpha"]}
    assert env.settings["recreate"] is True
    install = plan.step("install-1")
    assert install.settings["requirements"] == ((tmp_path / "reqs.txt").resolve(),)
    assert install.needs == ("tests",) and install.when == "success"
    assert plan.step("report-2").when == "always"  # reports are wanted after failures too
    assert load(tmp_path, '[[steps]]\nkind = "run"\n').settings.name == "plan"


# -- the graph ------------------------------------------------------------------------------


def steps(**needs: tuple[str, ...]) -> list[Step]:
    return [Step(name, "run", needs=deps) for name, deps in needs.items()]


def test_order_puts_needs_first_and_keeps_the_rest_in_file_order() -> None:
    ordered = order(steps(c=("b",), a=(), b=("a",), d=()), "p.toml")
    assert [s.id for s in ordered] == ["a", "d", "b", "c"]
    plan = BatchPlan(Path("p.toml"), load_settings(), ordered, resolved=True)
    assert plan.levels() == [["a", "d"], ["b"], ["c"]]
    assert dependents(ordered, "a") == {"b", "c"}
    assert dependents(ordered, "d") == set()


def load_settings() -> PlanSettings:
    return PlanSettings("p")


def test_a_cycle_is_named() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": []}) is None
    with pytest.raises(ConfigError) as caught:
        order(steps(a=("b",), b=("c",), c=("b",)), "p.toml")
    assert caught.value.message == "p.toml: the steps' needs form a cycle: b -> c -> b"


def test_unknown_and_self_needs() -> None:
    with pytest.raises(ConfigError, match="needs unknown step 'tset'") as caught:
        order(steps(test=(), b=("tset",)), "p.toml")
    assert caught.value.hint == "did you mean 'test'?"
    with pytest.raises(ConfigError, match="the step needs itself"):
        order(steps(a=("a",)), "p.toml")
