"""The runs tree of the Results pane: run -> env -> suite -> case, with status icons.

The tree is updated in place, never rebuilt: each refresh computes the wanted nodes of the
runs that changed and adds, relabels or removes only what differs, so the cursor, the
scroll position and what the user expanded or collapsed survive live updates. Labels are
Rich text, so the theme's colors are resolved here and everything is relabelled when the
theme changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from rich.text import Text, TextType
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ptest_tui.tui.style import theme_color
from ptest_tui.tui.widgets.list_filter import ListFilter
from ptest_tui.tui.widgets.results_labels import Labels, natural
from ptest_tui.tui.widgets.results_model import (
    ResultFilter,
    ResultsModel,
    RunState,
)
from ptest_tui.tui.widgets.vim_keys import VIM_UP_DOWN


class NodeRef(NamedTuple):
    """What a tree node stands for; ``kind`` is run, env, suite or case.

    A named tuple rather than a dataclass: it is hashed for every node on every sync.
    """

    kind: str
    run_id: str
    env: str = ""
    suite: str = ""
    case: str = ""


@dataclass(frozen=True)
class NodeSpec:
    """A wanted node: its label and, for branches, its wanted children (None: unchanged)."""

    ref: NodeRef
    label: Text
    children: tuple[NodeSpec, ...] | None = None
    branch: bool = False


Group = tuple[str, str]  # (env, suite)


class ResultsTree(Tree[NodeRef]):
    """The tree of runs, kept in step with a :class:`ResultsModel`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *VIM_UP_DOWN,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        self._batching = False  # set first: the base class already lays out lines
        self._batched = False
        super().__init__("runs", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.nodes: dict[NodeRef, TreeNode[NodeRef]] = {}
        self._labels: dict[NodeRef, Text] = {}
        self.labels = Labels(lambda variable: theme_color(self.app, variable))
        self.created: list[NodeRef] = []  # run nodes added by the last sync

    def theme_changed(self) -> None:
        """Forget resolved colors and labels; the next sync relabels everything."""
        self.labels.theme_changed()
        self._labels.clear()

    # -- wanted nodes -------------------------------------------------------------------

    @staticmethod
    def group_counts(
        run: RunState, where: ResultFilter, envs: set[str] | None = None
    ) -> tuple[dict[Group, dict[str, int]], dict[Group, int]]:
        """Shown outcomes per (env, suite), and running cases per (env, suite); one pass
        over the run (only ``envs``, if given)."""
        counts: dict[Group, dict[str, int]] = {}
        live: dict[Group, int] = {}
        check = where.active
        for row in run.results.values():
            if (envs is None or row.env in envs) and (not check or where.matches_row(row)):
                group = counts.setdefault((row.env, row.suite), {})
                group[row.shown] = group.get(row.shown, 0) + 1
        for item in run.running.values():
            if (envs is None or item.env in envs) and where.matches_running(item):
                live[(item.env, item.suite)] = live.get((item.env, item.suite), 0) + 1
        return counts, live

    @staticmethod
    def env_counts(env: str, counts: dict[Group, dict[str, int]]) -> dict[str, int]:
        """The counts of an env: the sum of its suites'."""
        total: dict[str, int] = {}
        for (group_env, _suite), group in counts.items():
            if group_env == env:
                for status, count in group.items():
                    total[status] = total.get(status, 0) + count
        return total

    def run_children(self, run: RunState, where: ResultFilter) -> tuple[NodeSpec, ...]:
        """The env, suite and case nodes of ``run``, sorted by name."""
        leaves: dict[Group, list[NodeSpec]] = {}
        for row in run.results.values():
            if where.matches_row(row):
                leaves.setdefault((row.env, row.suite), []).append(NodeSpec(
                    NodeRef("case", run.id, row.env, row.suite, row.case),
                    self.labels.case_label(row)))
        for item in run.running.values():
            # A running pytest case has the same name as none of its tests: both show.
            if item.key not in run.results and where.matches_running(item):
                leaves.setdefault((item.env, item.suite), []).append(NodeSpec(
                    NodeRef("case", run.id, item.env, item.suite, item.case),
                    self.labels.running_label(item)))
        counts, live = self.group_counts(run, where)
        envs = []
        for env in sorted({env for env, _suite in leaves}, key=natural):
            suites = []
            for suite in sorted((s for e, s in leaves if e == env), key=natural):
                cases = sorted(leaves[(env, suite)], key=lambda spec: natural(spec.ref.case))
                label = self.labels.group_label(suite, counts.get((env, suite), {}),
                                                live.get((env, suite), 0))
                suites.append(NodeSpec(NodeRef("suite", run.id, env, suite), label,
                                       tuple(cases), branch=True))
            running = sum(n for (e, _s), n in live.items() if e == env)
            label = self.labels.group_label(env, self.env_counts(env, counts), running)
            envs.append(NodeSpec(NodeRef("env", run.id, env), label, tuple(suites),
                                 branch=True))
        return tuple(envs)

    def run_shown(self, run: RunState, where: ResultFilter) -> bool:
        """Whether a run has anything the filter lets through."""
        if not where.active:
            return True
        return any(map(where.matches_row, run.results.values())) or any(
            map(where.matches_running, run.running.values()))

    # -- syncing ------------------------------------------------------------------------

    def _invalidate(self) -> None:
        # Every add and remove invalidates the whole line layout; during a sync that is
        # done once at the end instead of once per node.
        if self._batching:
            self._batched = True
            return
        super()._invalidate()

    def process_label(self, label: TextType) -> Text:
        """Labels made here are one-line Text already: used as they are, not copied."""
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def get_label_width(self, node: TreeNode[NodeRef]) -> int:
        """The label's width without rendering it (the layout asks for every line)."""
        label = node.label
        # len(Text) is stored, cell_len is measured; they differ only for wide characters,
        # which only makes the sideways scroll range a little short.
        width = len(label) if isinstance(label, Text) else len(str(label))
        return width + (len(self.ICON_NODE) if node.allow_expand else 0)

    def sync(self, model: ResultsModel, where: ResultFilter, everything: bool = False) -> None:
        """Bring the tree in line with ``model``: new runs in full, known runs only where
        their cases changed (``everything``: all of it, after a filter or theme change)."""
        self.created = []
        self._batching = True
        try:
            specs = []
            for run in model.ordered():
                if not self.run_shown(run, where):
                    continue
                ref = NodeRef("run", run.id)
                full = everything or ref not in self.nodes
                label = self._labels.get(ref)
                if full or label is None or run.id in model.dirty:
                    label = self.labels.run_label(run)
                children = None
                if full:
                    children = self.run_children(run, where)
                    run.touched.clear()
                specs.append(NodeSpec(ref, label, children, branch=True))
            self._sync_children(self.root, specs, expand=where.active)
            for run in model.runs.values():
                if run.touched and NodeRef("run", run.id) in self.nodes:
                    self._sync_touched(run, where)
                run.touched.clear()
        finally:
            self._batching = False
            if self._batched:
                self._batched = False
                self._invalidate()
        model.dirty.clear()
        model.order_changed = False

    def _sync_children(
        self, parent: TreeNode[NodeRef], specs: Sequence[NodeSpec], *, expand: bool
    ) -> None:
        wanted = {spec.ref for spec in specs}
        going = [child for child in parent.children if child.data not in wanted]
        for child in going:
            self._forget(child)
        if going and len(going) == len(parent.children):
            parent.remove_children()  # one step, not one list search per child
        else:
            for child in going:
                child.remove()
        for index, spec in enumerate(specs):
            node = self.nodes.get(spec.ref)
            if node is None:
                before = index if index < len(parent.children) else None
                if spec.branch:
                    # The newest run opens by itself; older ones stay folded until asked.
                    opened = expand or spec.ref.kind != "run" or index == 0
                    node = parent.add(spec.label, spec.ref, before=before, expand=opened)
                else:
                    node = parent.add(spec.label, spec.ref, before=before, allow_expand=False)
                self.nodes[spec.ref] = node
                if spec.ref.kind == "run":
                    self.created.append(spec.ref)
            elif self._labels.get(spec.ref) != spec.label:
                node.set_label(spec.label)
            if expand and spec.branch and not node.is_expanded:
                node.expand()  # a filter opens everything it lets through
            self._labels[spec.ref] = spec.label
            if spec.children is not None:
                self._sync_children(node, spec.children, expand=expand)

    def _sync_touched(self, run: RunState, where: ResultFilter) -> None:
        """Add, relabel or remove the touched cases of a shown run, then relabel the env
        and suite nodes above them (one pass over the run's results)."""
        groups = set()
        for env, suite, case in sorted(run.touched):
            groups.add((env, suite))
            self._sync_case(run, env, suite, case, where)
        envs = {env for env, _suite in groups}
        counts, live = self.group_counts(run, where, envs)
        for env in envs:
            running = sum(n for (e, _s), n in live.items() if e == env)
            label = self.labels.group_label(env, self.env_counts(env, counts), running)
            self._relabel(NodeRef("env", run.id, env), label)
        for group in groups:
            label = self.labels.group_label(group[1], counts.get(group, {}), live.get(group, 0))
            self._relabel(NodeRef("suite", run.id, *group), label)

    def _sync_case(self, run: RunState, env: str, suite: str, case: str,
                   where: ResultFilter) -> None:
        ref = NodeRef("case", run.id, env, suite, case)
        row = run.results.get((env, suite, case))
        item = run.running.get((env, suite, case))
        label = None
        if row is not None:
            label = self.labels.case_label(row) if where.matches_row(row) else None
        elif item is not None and where.matches_running(item):
            label = self.labels.running_label(item)
        node = self.nodes.get(ref)
        if label is None:
            if node is not None:
                self._drop(node)
            return
        if node is None:
            env_ref = NodeRef("env", run.id, env)
            self._branch(NodeRef("run", run.id), env_ref)
            parent = self._branch(env_ref, NodeRef("suite", run.id, env, suite))
            node = parent.add(label, ref, before=self._position(parent, case),
                              allow_expand=False)
            self.nodes[ref] = node
        elif self._labels.get(ref) != label:
            node.set_label(label)
        self._labels[ref] = label

    def _branch(self, parent_ref: NodeRef, ref: NodeRef) -> TreeNode[NodeRef]:
        """The env or suite node of ``ref``, made (unlabelled until relabelled) if missing."""
        node = self.nodes.get(ref)
        if node is None:
            parent = self.nodes[parent_ref]
            name = ref.suite if ref.kind == "suite" else ref.env
            node = parent.add(name, ref, before=self._position(parent, name), expand=True)
            self.nodes[ref] = node
        return node

    @staticmethod
    def _position(parent: TreeNode[NodeRef], name: str) -> int | None:
        """Where a child named ``name`` goes among its sorted siblings (None: last)."""
        def key(node: TreeNode[NodeRef]) -> tuple[tuple[int, str], ...]:
            ref = node.data
            if ref is None:
                return ()
            return natural({"case": ref.case, "suite": ref.suite}.get(ref.kind, ref.env))

        children = parent.children
        index = bisect.bisect_right(children, natural(name), key=key)
        return index if index < len(children) else None

    def _relabel(self, ref: NodeRef, label: Text) -> None:
        node = self.nodes.get(ref)
        if node is not None and self._labels.get(ref) != label:
            node.set_label(label)
            self._labels[ref] = label

    def _drop(self, node: TreeNode[NodeRef]) -> None:
        """Remove a node, and its env and suite when they are left empty."""
        parent = node.parent
        self._forget(node)
        node.remove()
        ref = parent.data if parent is not None else None
        if parent is not None and ref is not None and ref.kind in ("env", "suite") \
                and not parent.children:
            self._drop(parent)

    def _forget(self, node: TreeNode[NodeRef]) -> None:
        for child in node.children:
            self._forget(child)
        if node.data is not None:
            self.nodes.pop(node.data, None)
            self._labels.pop(node.data, None)

    # -- selection ----------------------------------------------------------------------

    @property
    def selected_ref(self) -> NodeRef | None:
        """What the cursor is on."""
        node = self.cursor_node
        return node.data if node is not None else None

    def select_ref(self, ref: NodeRef) -> bool:
        """Move the cursor to the node of ``ref`` (its ancestors opened); False if absent."""
        node = self.nodes.get(ref)
        if node is None:
            return False
        parent = node.parent
        while parent is not None and not parent.is_root:
            parent.expand()
            parent = parent.parent
        _ = self.last_line  # lay the lines out now, so the node knows its line
        self.move_cursor(node)
        return True

    def plain_lines(self) -> list[str]:
        """The shown lines as text with their depth as indentation (tests, copy)."""
        lines = []
        for line in range(self.last_line + 1):
            node = self.get_node_at_line(line)
            if node is None:
                continue
            depth = 0
            parent = node.parent
            while parent is not None and not parent.is_root:
                depth += 1
                parent = parent.parent
            label = node.label
            text = label.plain if isinstance(label, Text) else str(label)
            lines.append("  " * depth + text)
        return lines


class ResultsFilter(ListFilter):
    """The filter line: typing filters live; Enter or Down go back to the tree, Esc clears."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear filter", show=False),
        Binding("enter,down", "leave(False)", "Back to the tree", show=False),
    ]

    def target(self) -> Widget | None:
        """The results tree beside this line."""
        return self.parent.query_one(ResultsTree) if self.parent is not None else None
