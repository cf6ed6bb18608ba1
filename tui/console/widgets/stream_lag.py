"""The lag panel: a consumer group's committed offset, end offset and lag per topic and partition, live.

It opens on ``KAFKA_CONSUMER_GROUP_ID``; the operator may choose any other group: type its id in the group
field (Enter), or pick one of the cluster's groups from the list beside it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static

from tui.console.session import Session
from tui.console.session_app import console_app
from tui.failures import reason
from tui.group_lag import GroupLag
from tui.summaries import one_line

REFRESH_S = 2.0
"""Seconds between two looks at the group's offsets."""


class LagPanel(Vertical):
    """Lag of ``group`` on the topics matching ``pattern`` (default: the layout prefix's topics)."""

    DEFAULT_CSS = """
    LagPanel { height: 10; border-top: solid $primary; }
    LagPanel > #lag-choice { height: 1; }
    LagPanel > #lag-choice > #lag-group { width: 1fr; }
    LagPanel > #lag-choice > #lag-groups { width: 1fr; }
    LagPanel > DataTable { height: 1fr; }
    """

    @dataclass
    class GroupChosen(Message):
        """The panel now follows ``group``."""

        panel: LagPanel
        group: str

    def __init__(self, session: Session, group: str, pattern: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session = session
        self.group = group
        self.pattern = pattern
        self.last: GroupLag | None = None
        self.error: str | None = None
        self.refreshes = 0
        self.groups: list[str] | None = None
        """The cluster's consumer groups at the last look (None: not read yet, or the cluster did not say)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="lag-choice"):
            yield Input(self.group, placeholder="consumer group id, Enter", id="lag-group", compact=True)
            yield Select[str]([], prompt="groups in the cluster…", id="lag-groups", compact=True)
        yield Static(Text(f"lag of group {one_line(self.group, 80)}: connecting…"), id="lag-title", markup=False)
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("topic", "partition", "committed", "end", "lag")
        yield table

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = console_app(self).cursor_blink
        self._watch()
        self._load_groups()

    def choose_group(self, group: str) -> bool:
        """Follow ``group`` from now on (the table starts over); False, with the reason shown, for an empty id."""
        group = group.strip()
        if not group:
            self.notify("a consumer group id is needed", severity="warning")
            return False
        field = self.query_one("#lag-group", Input)
        if field.value != group:
            field.value = group
        if group == self.group and self.error is None:
            return True
        self.group, self.last, self.error, self.refreshes = group, None, None, 0
        self.query_one(DataTable).clear()
        self.query_one("#lag-title", Static).update(Text(f"lag of group {one_line(group, 80)}: connecting…"))
        self._watch()
        self.post_message(self.GroupChosen(self, group))
        return True

    @on(Input.Submitted, "#lag-group")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.choose_group(event.value)

    @on(Select.Changed, "#lag-groups")
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.group:
            self.choose_group(event.value)

    @work(group="lag-groups", exclusive=True, exit_on_error=False, name="lag-groups")
    async def _load_groups(self) -> None:
        try:
            groups = await self._session.consumer_groups()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The list is a convenience: typing an id still works, so say why it is empty and go on.
            self.query_one("#lag-groups", Select).prompt = one_line(f"no group list: {exc}", 60)
            return
        self.groups = groups
        picker: Select[str] = self.query_one("#lag-groups", Select)
        picker.set_options((one_line(g, 60), g) for g in groups)
        picker.prompt = f"{len(groups)} groups in the cluster…" if groups else "no groups in the cluster"

    @work(group="lag", exclusive=True, exit_on_error=False, name="lag")
    async def _watch(self) -> None:
        group = self.group
        try:
            monitor = self._session.lag_monitor(group)
            await monitor.start()
        except Exception as exc:
            self._show_error(reason(exc))
            return
        try:
            while True:
                try:
                    snapshot = await monitor.snapshot(pattern=self.pattern)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._show_error(reason(exc))
                else:
                    self.show(snapshot)
                # A refresh period, not a wait for a condition: the panel is a live view.
                await asyncio.sleep(REFRESH_S)
        finally:
            await asyncio.shield(monitor.stop())

    def _show_error(self, message: str) -> None:
        self.error = one_line(message, 200)
        self.query_one("#lag-title", Static).update(
            Text(f"lag of group {one_line(self.group, 80)}: {self.error}", style="red")
        )

    def show(self, lag: GroupLag) -> None:
        """Draw a snapshot (one of another group than the one followed now is dropped)."""
        if lag.group != self.group:
            return
        self.last, self.error = lag, None
        self.refreshes += 1
        title = f"lag of group {one_line(self.group, 80)}: total {lag.total:,} on {len(lag.partitions)} partitions"
        if not lag.partitions:
            title += " (no committed offsets on these topics)"
        self.query_one("#lag-title", Static).update(Text(title))
        table: DataTable[str | Text] = self.query_one(DataTable)
        table.clear()
        for row in lag.partitions:
            lag_value = row.lag
            shown = Text("-" if lag_value is None else f"{lag_value:,}", style="bold red" if lag_value else "")
            table.add_row(
                one_line(row.topic, 80),
                str(row.partition),
                "-" if row.committed is None else f"{row.committed:,}",
                f"{row.end:,}",
                shown,
            )
