"""Consumer groups: every group of the cluster with its state, members and total lag; Enter opens its lag panel.

The list is read in a worker when the screen opens and every :data:`REFRESH_S` seconds (``r`` reads it now).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.console.screens.base import ConsoleScreen
from tui.console.screens.flow_actions import ask_replay
from tui.console.widgets.stream_lag import LagPanel
from tui.failures import reason
from tui.group_lag import GroupSummary
from tui.summaries import one_line

REFRESH_S = 5.0
"""Seconds between two reads of the group list."""
ANY_TOPIC = r".+"
"""The lag panel of a chosen group covers every topic it committed on (internal ``__`` topics left out)."""


def lag_cell(summary: GroupSummary) -> Text:
    """The total lag, red when behind; ``?`` when it could not be read (the summary line says why)."""
    if summary.lag is None:
        return Text("?", style="dim")
    return Text(f"{summary.lag:,}", style="bold red" if summary.lag else "")


class GroupsScreen(ConsoleScreen):
    """The cluster's consumer groups; Enter opens one's lag per partition."""

    SCREEN_NAME = "Consumer groups"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_group", "Lag of group", id="groups-open"),
        Binding("r", "reload", "Reload", id="groups-reload"),
        Binding("R", "replay", "Replay", id="groups-replay"),
        Binding("escape", "app.open_area('home')", "Back", id="groups-back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[GroupSummary] | None = None
        """The groups at the last read (None: not read yet)."""
        self.error: str | None = None

    def compose_body(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True, id="groups-table")
        table.add_column("group", key="group")
        table.add_column("state", key="state")
        table.add_column("members", key="members")
        table.add_column("lag", key="lag")
        table.add_column("partitions", key="partitions")
        yield table
        yield Static(id="groups-summary")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        if self.session.connect:
            self._summary("reading the cluster's groups…")
            self._load()
            self.set_interval(REFRESH_S, self._load)
        else:
            self._summary("not connected")

    def _summary(self, text: str) -> None:
        self.query_one("#groups-summary", Static).update(Text(text))

    def show(self, groups: Iterable[GroupSummary]) -> None:
        """Draw ``groups`` (keeping the cursor on the same group when it is still listed)."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        current = self.current
        self.groups = list(groups)
        table.clear()
        for g in self.groups:
            table.add_row(
                one_line(g.group, 60), g.state, str(g.members), lag_cell(g), str(g.partitions), key=g.group
            )
        if current is not None and current in table.rows:
            table.move_cursor(row=table.get_row_index(current))
        behind = sum(1 for g in self.groups if g.lag)
        unread = [g for g in self.groups if g.lag is None]
        why = f" · lag unknown for {len(unread)} ({unread[0].group}: {unread[0].error})" if unread else ""
        self._summary(
            f"{len(self.groups)} groups · {behind} behind · Enter: lag per partition{why}"
            if self.groups else "no consumer groups in the cluster"
        )

    def action_replay(self) -> None:
        """Move the group under the cursor back: the dry run first, then one confirmation (not read-only)."""
        if self.current is not None:
            ask_replay(self.app, group=self.current)

    @property
    def current(self) -> str | None:
        """The group under the cursor (None: the list is empty)."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits outside a table that just shrank
            return None

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_group()

    def action_open_group(self) -> None:
        """Open the lag panel of the group under the cursor."""
        group = self.current
        if group is not None:
            self.app.push_screen(GroupLagScreen(group))

    def action_reload(self) -> None:
        """Read the group list again now."""
        self._load()

    @work(group="groups", exclusive=True, exit_on_error=False, name="groups")
    async def _load(self) -> None:
        try:
            groups = await self.session.group_overview()
        except Exception as exc:
            self.error = one_line(reason(exc), 200)
            self._summary(f"cannot read the groups: {self.error}")
            return
        self.error = None
        self.show(groups)


class GroupLagScreen(ConsoleScreen):
    """One group's lag per topic and partition, live (the streams area's lag panel, on its own)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="group-lag-back")]

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group

    @property
    def screen_name(self) -> str:
        return f"Lag · {one_line(self.group, 30)}"

    def compose_body(self) -> ComposeResult:
        yield LagPanel(self.session, self.group, ANY_TOPIC, id="group-lag")
