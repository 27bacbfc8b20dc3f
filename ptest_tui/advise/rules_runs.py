"""Rules over the run history: the slowest cases and flaky ones."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from statistics import mean

from ptest_tui.advise.context import AdviseContext, ResultRow
from ptest_tui.advise.model import Advice, seconds
from ptest_tui.runs.model import ERROR, FAILED, PASSED, XPASSED

PASSING = frozenset({PASSED, XPASSED})
FAILING = frozenset({FAILED, ERROR})


def slowest_cases(ctx: AdviseContext) -> list[Advice]:
    """Configured cases that take a large share of the test time: split or parallelise.

    A case's time in one run is the sum of its results in one env (a pytest case's tests
    add up); its mean is over the (run, env) executions in the window. Its share is its
    time over every result's time in the window: the work, not the wall clock, since
    suites and envs run in parallel.
    """
    rows = ctx.results()
    total = sum(r.duration for r in rows)
    if not rows or total <= 0:
        return []
    runs = ctx.window_size()
    per_execution: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(
        lambda: defaultdict(float)
    )
    tests: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    kinds: dict[tuple[str, str], str] = {}
    envs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        key = (row.suite, row.configured)
        per_execution[key][(row.run_id, row.env)] += row.duration
        kinds[key] = row.kind
        envs[key].add(row.env)
        if row.parent:
            tests[key][row.case].append(row.duration)
    settings = ctx.settings
    found: list[tuple[float, Advice]] = []
    for key, executions in per_execution.items():
        times = list(executions.values())
        spent = sum(times)
        share = 100.0 * spent / total
        average = mean(times)
        if share < settings.slow_share or average < settings.slow_seconds:
            continue
        suite, case = key
        count = len({run for run, _env in executions})
        evidence = [
            f"mean {seconds(average)} over the last {count} run{'s' if count != 1 else ''}"
            f" (min {seconds(min(times))}, max {seconds(max(times))})",
            f"{share:.0f}% of the test time of the last {runs} runs"
            f" ({seconds(spent)} of {seconds(total)})",
        ]
        case_tests = tests.get(key, {})
        if len(case_tests) > 1:
            means = sorted(((mean(v), name) for name, v in case_tests.items()), reverse=True)
            top = ", ".join(f"{name} {seconds(value)}" for value, name in means[:3])
            evidence.append(f"{len(case_tests)} tests; the slowest (mean): {top}")
            how = "split it into several cases (they run in parallel) or run its tests in" \
                  " parallel (pytest -n with pytest-xdist)"
        else:
            how = "split it, or put it in its own suite so it runs in parallel with the rest"
        env_names = sorted(envs[key])
        found.append((average, Advice(
            kind="slow-case",
            target_kind="case",
            target=f"{suite}/{case}",
            message=f"{suite}/{case} ({kinds[key]}) takes {seconds(average)} per run, {share:.0f}%"
            f" of the test time: {how}",
            evidence=tuple(evidence),
            severity="medium" if share >= 30 else "low",
            env=env_names[0] if len(env_names) == 1 else "",
        )))
    found.sort(key=lambda item: item[0], reverse=True)
    return [advice for _average, advice in found[: settings.slowest]]


def _pattern(statuses: list[str]) -> str:
    """``P F P P F``: passes and failures, oldest first (other outcomes as ``-``)."""
    return " ".join("P" if s in PASSING else "F" if s in FAILING else "-" for s in statuses)


def flaky_cases(ctx: AdviseContext) -> list[Advice]:
    """Cases whose outcome flips between pass and fail across runs in the same env, or
    that passed only on a retry.

    One flip is a change (a regression or a fix); ``flaky_flips`` flips or more in the
    window, with no change of the case in between that we could see, is flakiness.
    """
    history: dict[tuple[str, str, str], list[ResultRow]] = defaultdict(list)
    for row in ctx.results():
        history[(row.suite, row.env, row.case)].append(row)
    found: list[tuple[int, Advice]] = []
    for (suite, env, case), rows in history.items():
        outcomes = [r.status for r in rows if r.status in PASSING | FAILING]
        flips = sum(
            1 for before, after in pairwise(outcomes)
            if (before in PASSING) != (after in PASSING)
        )
        retried = [r for r in rows if r.flaky]
        if flips < ctx.settings.flaky_flips and not retried:
            continue
        runs = len({r.run_id for r in rows})
        failures = sum(1 for s in outcomes if s in FAILING)
        evidence = []
        if flips:
            evidence.append(
                f"flipped pass/fail {flips} time{'s' if flips != 1 else ''} in {runs} runs"
                f" (oldest first: {_pattern([r.status for r in rows])})"
            )
        evidence.append(f"failed {failures} of {len(outcomes)} times")
        if retried:
            most = max(r.attempts for r in retried)
            evidence.append(
                f"passed only on a retry in {len(retried)} of {runs} runs (up to {most}"
                " attempts)"
            )
        last_failure = next((r.message for r in reversed(rows) if r.status in FAILING), "")
        if last_failure:
            evidence.append(f"last failure: {last_failure.splitlines()[0][:160]}")
        score = flips + len(retried)
        found.append((score, Advice(
            kind="flaky-case",
            target_kind="case",
            target=f"{suite}/{case}",
            message=f"{suite}/{case} is flaky in {env}: it passes and fails without a change;"
            " look for timing, ordering or shared-state dependencies (and retry it meanwhile)",
            evidence=tuple(evidence),
            severity="medium" if score >= 3 else "low",
            env=env,
        )))
    found.sort(key=lambda item: item[0], reverse=True)
    return [advice for _score, advice in found]
