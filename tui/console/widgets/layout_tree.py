"""The topic layout as a tree: prefix → global / each instance → one topic per event.

Each topic shows its partitions, message count and current rate; planned topics that do not exist are marked
missing, existing ones that nothing plans are marked unplanned. Selecting a topic posts
:class:`LayoutTree.TopicOpened`.

:func:`tui.topic_rows.layout_rows` (pure) joins the plan with what the cluster holds; :class:`LayoutTree`
shows the rows and updates their labels in place, so the cursor stays where it is while the numbers move.
A branch gets its topic nodes when it is first expanded: at a thousand instances the tree holds a thousand
branches, not 31,000 nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui import catalog
from tui.instance_settings import InstanceSettings
from tui.topic_rows import TopicRow
from tui.topology import GLOBAL, Layout

EVENT_WIDTH = max(len(e.wire) for e in catalog.EVENTS)


def format_rate(rate: float | None) -> str:
    """``12.3/s``, ``0/s``, or empty when unknown."""
    if rate is None:
        return ""
    if rate >= 100:
        return f"{rate:,.0f}/s"
    return f"{rate:.1f}/s" if rate else "0/s"


def instance_note(settings: InstanceSettings | None) -> str:
    """What an instance branch says about its registry entry."""
    if settings is None:
        return "not in the registry"
    if not settings.enabled:
        return "disabled"
    if settings.all_events:
        return "all events"
    return f"{len(settings.events)} of {len(catalog.EVENTS)} events"


@dataclass(frozen=True, slots=True)
class _Branch:
    name: str


class LayoutTree(Tree[TopicRow | _Branch | None]):
    """The layout tree; ``Enter`` on a topic opens it (:class:`TopicOpened`)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "layout-tree--missing",
        "layout-tree--unplanned",
        "layout-tree--muted",
        "layout-tree--rate",
    }
    DEFAULT_CSS = """
    LayoutTree > .layout-tree--missing { color: $warning; text-style: bold; }
    LayoutTree > .layout-tree--unplanned { color: $text-muted; text-style: italic; }
    LayoutTree > .layout-tree--muted { color: $text-muted; }
    LayoutTree > .layout-tree--rate { color: $success; }
    """

    @dataclass
    class TopicOpened(Message):
        """The operator asked to open a stream pane on ``row.topic``."""

        row: TopicRow

    def __init__(self, prefix: str, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(prefix, None, name=name, id=id)
        self.prefix = prefix
        self.show_root = True
        self.guide_depth = 2
        self._rows: dict[str, TopicRow] = {}
        self._leaves: dict[str, TreeNode[TopicRow | _Branch | None]] = {}
        self._branches: dict[str, TreeNode[TopicRow | _Branch | None]] = {}
        self._notes: dict[str, str] = {}
        self._shown_topics = False
        self._styles: dict[str, Style] = {}
        """Component styles looked up once per :meth:`show` (a lookup per label cost seconds at 6,000 topics)."""

    @property
    def rows(self) -> list[TopicRow]:
        """The rows shown, in tree order."""
        return list(self._rows.values())

    def show(self, rows: list[TopicRow], instances: Mapping[str, InstanceSettings]) -> None:
        """Show ``rows``; instances of the registry without topics still get a branch (with their note)."""
        self._styles.clear()
        groups: dict[str, list[TopicRow]] = {}
        if any(r.layout is Layout.GLOBAL for r in rows):
            groups[GLOBAL] = []
        for name in sorted(set(instances) | {r.group for r in rows if r.layout is Layout.INSTANCE}):
            groups[name] = []
        for row in rows:
            groups[row.group].append(row)
        notes = {g: ("global layout" if g == GLOBAL else instance_note(instances.get(g))) for g in groups}
        structure = [(g, [r.topic for r in members]) for g, members in groups.items()]
        shown: dict[str, list[str]] = {}
        for topic, row in self._rows.items():
            shown.setdefault(row.group, []).append(topic)
        current = [(g, shown.get(g, [])) for g in self._branches]
        self._rows = {r.topic: r for members in groups.values() for r in members}
        self._notes = notes
        if structure != current:
            self._rebuild(groups)
        else:
            for group, members in groups.items():
                self._branches[group].set_label(self._branch_label(group, members))
                for row in members:
                    node = self._leaves.get(row.topic)
                    if node is not None:  # None: its branch was never expanded (made from _rows when it is)
                        node.data = row
                        node.set_label(self._leaf_label(row))

    def leaf(self, topic: str) -> TreeNode[TopicRow | _Branch | None] | None:
        """The node of ``topic`` (its branch's nodes made if they were not yet), or None when not shown."""
        row = self._rows.get(topic)
        if row is None:
            return None
        branch = self._branches.get(row.group)
        if branch is not None:
            self._populate(branch)
        return self._leaves.get(topic)

    def _populate(self, branch: TreeNode[TopicRow | _Branch | None]) -> None:
        data = branch.data
        if not isinstance(data, _Branch) or branch.children:
            return
        for row in self._rows.values():
            if row.group == data.name:
                self._leaves[row.topic] = branch.add_leaf(self._leaf_label(row), row)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[TopicRow | _Branch | None]) -> None:
        self._populate(event.node)

    def _rebuild(self, groups: Mapping[str, list[TopicRow]]) -> None:
        cursor = self.cursor_node.data if self.cursor_node is not None else None
        expanded = {g for g, node in self._branches.items() if node.is_expanded}
        # Until topics were shown once, open the global branch and the first instance: a first look.
        first_build = not self._shown_topics
        self._shown_topics = self._shown_topics or any(groups.values())
        self.clear()
        self.root.set_label(Text(self.prefix, style="bold"))
        self._branches.clear()
        self._leaves.clear()
        for group, members in groups.items():
            branch = self.root.add(self._branch_label(group, members), _Branch(group), allow_expand=bool(members))
            self._branches[group] = branch
            # Global and the first instance open on first sight; later, what the operator opened stays open.
            if (first_build and (group == GLOBAL or len(self._branches) <= 2)) or group in expanded:
                self._populate(branch)
                branch.expand()
        self.root.expand()
        target: TreeNode[TopicRow | _Branch | None] | None = None
        if isinstance(cursor, TopicRow):
            target = self._leaves.get(cursor.topic)
        elif isinstance(cursor, _Branch):
            target = self._branches.get(cursor.name)
        if target is not None:
            self.move_cursor(target)

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            try:
                style = self._styles[component] = self.get_component_rich_style(component)
            except Exception:  # not mounted yet (no styles): plain text
                return Style()
        return style

    def _branch_label(self, group: str, members: list[TopicRow]) -> Text:
        label = Text(group, style="bold")
        note = self._notes.get(group, "")
        missing = sum(1 for r in members if r.missing)
        label.append(f"  {note}", style=self._style("layout-tree--muted"))
        if members:
            label.append(f" · {len(members)} topics", style=self._style("layout-tree--muted"))
        if missing:
            label.append(f" · {missing} missing", style=self._style("layout-tree--missing"))
        return label

    def _leaf_label(self, row: TopicRow) -> Text:
        label = Text(row.event.wire.ljust(EVENT_WIDTH))
        if row.missing:
            label.append("  missing", style=self._style("layout-tree--missing"))
            return label
        parts = f"{row.partitions}p" if row.partitions is not None else "?p"
        count = f"{row.messages:,}" if row.messages is not None else "…"
        label.append(f" {parts:>4} {count:>8} ")
        label.append(f"{format_rate(row.rate):>8}", style=self._style("layout-tree--rate"))
        if row.unplanned:
            label.append("  unplanned", style=self._style("layout-tree--unplanned"))
        return label

    def on_tree_node_selected(self, event: Tree.NodeSelected[TopicRow | _Branch | None]) -> None:
        data = event.node.data
        if isinstance(data, TopicRow):
            event.stop()
            self.post_message(self.TopicOpened(data))

    def move_to_next_missing(self) -> bool:
        """Move the cursor to the next missing topic after it (wrapping); False when none is missing."""
        order = list(self._rows)
        current = self.cursor_node.data if self.cursor_node is not None else None
        start = order.index(current.topic) if isinstance(current, TopicRow) and current.topic in order else -1
        for topic in order[start + 1 :] + order[: start + 1]:
            if self._rows[topic].missing:
                leaf = self.leaf(topic)
                if leaf is None:
                    continue
                if leaf.parent is not None:
                    leaf.parent.expand()
                self.move_cursor(leaf)
                return True
        return False
