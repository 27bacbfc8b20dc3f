"""The step graph: unknown needs, cycles (named), a dependency order and dependents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ptest_tui.batch.keys import suggest
from ptest_tui.batch.model import Step
from ptest_tui.errors import ConfigError


def check_needs(steps: Sequence[Step], where: str) -> None:
    """Every need names a step of the plan, and no step needs itself."""
    ids = [s.id for s in steps]
    for step in steps:
        for need in step.needs:
            if need == step.id:
                raise ConfigError(f"{where}: {step.where or step.id}: the step needs itself",
                                  "remove its own id from needs")
            if need not in ids:
                raise ConfigError(
                    f"{where}: {step.where or step.id}: needs unknown step {need!r}",
                    suggest(need, ids),
                )


def find_cycle(needs: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]`` (a needs b needs ... a), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(needs, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in needs.get(node, ()):
            if colour.get(nxt, black) == grey:
                return [*stack[stack.index(nxt):], nxt]
            if colour.get(nxt) == white:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for node in needs:
        if colour[node] == white:
            found = visit(node)
            if found:
                return found
    return None


def order(steps: Sequence[Step], where: str) -> tuple[Step, ...]:
    """The steps with every need before the steps needing it (stable otherwise).

    Raises ConfigError naming the cycle when there is one.
    """
    check_needs(steps, where)
    needs = {s.id: s.needs for s in steps}
    cycle = find_cycle(needs)
    if cycle:
        raise ConfigError(
            f"{where}: the steps' needs form a cycle: {' -> '.join(cycle)}",
            "remove one of these needs (some are added for you: a step using an env or"
            " object needs its env:NAME or object:NAME node)",
        )
    done: set[str] = set()
    result: list[Step] = []
    remaining = list(steps)
    while remaining:  # no cycle, so each pass places at least one step
        ready = [s for s in remaining if all(n in done for n in s.needs)]
        for step in ready:
            done.add(step.id)
            result.append(step)
        remaining = [s for s in remaining if s.id not in done]
    return tuple(result)


def dependents(steps: Sequence[Step], step_id: str) -> set[str]:
    """Every step that needs ``step_id``, directly or through others."""
    found: set[str] = set()
    frontier = [step_id]
    while frontier:
        current = frontier.pop()
        for step in steps:
            if current in step.needs and step.id not in found:
                found.add(step.id)
                frontier.append(step.id)
    return found
