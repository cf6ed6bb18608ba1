"""The topic layout: what the configuration and the registry imply, next to what the cluster holds.

A tree: prefix → global / each instance → one topic per event, with partitions, message count and current
rate; planned topics that do not exist are marked missing, existing ones nothing plans are marked unplanned.
``Enter`` on a topic opens a stream pane on it; ``/`` narrows the tree to the topics containing the text (topic,
instance or event). In demo mode the chaos line sits under the tree.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Input, Static

from tui.console.screens.base import ConsoleScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.widgets.chaos_panel import ChaosPanel
from tui.console.widgets.find_bar import FindBar
from tui.console.widgets.layout_tree import LayoutTree
from tui.failures import reason
from tui.selection import PaneSpec, Selection
from tui.topic_rows import TopicRow, TopicStats, layout_rows
from tui.topology import Layout, topic_plan

REFRESH_S = 2.0
"""How often topics, counts and rates are read again (at most: see :func:`refresh_wait`)."""
READING_SHARE = 0.25
"""The largest share of the time spent reading the cluster for this screen."""


def refresh_wait(read_s: float) -> float:
    """Seconds from the end of a read that took ``read_s`` to the next: :data:`REFRESH_S`, longer when reading
    takes long (the offsets of tens of thousands of partitions take the broker seconds, and decoding them is
    work on the console's own loop), so that reading stays within :data:`READING_SHARE` of the time."""
    return max(REFRESH_S, read_s * (1 - READING_SHARE) / READING_SHARE)


class LayoutScreen(ConsoleScreen):
    """The topic layout tree; ``Enter`` opens a stream pane on a topic, ``r`` refreshes now."""

    SCREEN_NAME = "Topic layout"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="layout-refresh"),
        Binding("m", "missing", "Next missing", id="layout-missing"),
        Binding("slash", "find", "Find", id="layout-find", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__(classes="layout-screen")
        self._wake = asyncio.Event()
        self._error: str | None = None
        self._stats: TopicStats | None = None
        self.narrowing = ""
        """The ``/`` text: only topics containing it are listed."""
        self.reading: bool | None = None
        """Whether the screen reads the cluster itself; None follows the app's ``connect`` (off for snapshots,
        which feed it with :meth:`show_stats`)."""

    def compose_body(self) -> ComposeResult:
        yield Static(id="layout-summary", markup=False)
        yield FindBar(id="layout-find")
        yield LayoutTree(self.session.settings.topic_prefix, id="layout-tree")
        if self.session.chaos is not None:
            yield ChaosPanel(self.session, id="chaos-panel")

    def on_mount(self) -> None:
        self.query_one(LayoutTree).focus()
        self.show_stats(None)
        reading = self.reading if self.reading is not None else self.session.connect
        if reading:
            self._refresh_loop()

    @property
    def stats(self) -> TopicStats | None:
        """What the cluster holds as shown now (counts empty until read), or None before the first read."""
        return self._stats

    def layouts(self) -> Sequence[Layout]:
        """The layouts planned: per-instance always, global when ``KAFKA_GLOBAL_ENABLED``."""
        settings = self.session.settings
        return (Layout.GLOBAL, Layout.INSTANCE) if settings.global_enabled else (Layout.INSTANCE,)

    def rows(self, stats: TopicStats | None) -> list[TopicRow]:
        """The rows for ``stats`` (None: nothing read yet, only the plan), planned from the session's state."""
        session = self.session
        plan = topic_plan(session.settings, session.registry_entries(), self.layouts())
        stats = stats or TopicStats()
        return layout_rows(plan, stats.partitions, session.settings.topic_prefix, stats.messages, stats.rates)

    def show_stats(self, stats: TopicStats | None, *, error: str | None = None) -> None:
        """Show what the cluster holds (``stats``), or that it cannot be read (``error``: the last numbers stay,
        with the reason above them). The refresh worker calls it; tests feed it a fixed snapshot."""
        self._error = error
        tree = self.query_one(LayoutTree)
        if stats is None and error is not None and tree.rows:
            self._summary(tree.rows)
            return
        self._stats = stats
        rows = self.rows(stats)
        entries = self.session.registry_entries()
        needle = self.narrowing.strip().casefold()
        if needle:
            rows = [r for r in rows if needle in f"{r.topic} {r.group} {r.event.wire}".casefold()]
            groups = {r.group for r in rows}
            entries = {name: value for name, value in entries.items() if name in groups}
        tree.show(rows, entries)
        self._summary(rows)

    def action_find(self) -> None:
        """Narrow the tree to the topics containing a text, as it is typed."""
        # A priority key (routed as soon as it arrives, so the letters typed right after it land in the field);
        # in a text field it stays a "/".
        if isinstance(self.screen.focused, Input):
            raise SkipAction()
        self.query_one(FindBar).open()

    @on(FindBar.Narrowed)
    def _narrowed(self, event: FindBar.Narrowed) -> None:
        self.narrowing = event.text
        self.show_stats(self._stats)

    @on(FindBar.Done)
    def _find_done(self) -> None:
        self.query_one(LayoutTree).focus()

    @work(group="layout", exclusive=True, exit_on_error=False, name="layout-refresh")
    async def _refresh_loop(self) -> None:
        session = self.session
        reader = session.topic_stats()
        try:
            loop = asyncio.get_running_loop()
            while True:
                began = loop.time()
                try:
                    topics = await reader.topics()
                    if self._stats is None:
                        # First sight: the topics (present, missing, unplanned) now, their counts once read (at
                        # thousands of partitions the offsets take the broker a second or more).
                        self.show_stats(topics)
                    stats = await reader.counts(topics)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.show_stats(None, error=f"cannot read the cluster: {reason(exc)}")
                else:
                    self.show_stats(stats)
                self._wake.clear()
                # Refresh period, or at once when asked (r): not a wait for a condition to hold.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=refresh_wait(loop.time() - began))
        finally:
            await asyncio.shield(reader.close())

    def _summary(self, rows: list[TopicRow]) -> None:
        settings = self.session.settings
        planned = sum(1 for r in rows if r.planned)
        missing = sum(1 for r in rows if r.missing)
        unplanned = sum(1 for r in rows if r.unplanned)
        rate = sum(r.rate or 0.0 for r in rows)
        parts = [
            Content.from_markup("[b]$prefix[/b]", prefix=settings.topic_prefix),
            Content(f"{planned} planned"),
            Content.from_markup("[$warning]$n missing[/]" if missing else "$n missing", n=str(missing)),
            Content(f"{unplanned} unplanned"),
            Content(f"global {'on' if settings.global_enabled else 'off'}"),
            Content(f"{rate:.1f} rec/s"),
        ]
        if self.narrowing.strip():
            parts.append(Content.from_markup("[$warning]/$t[/]", t=self.narrowing.strip()))
        line = Content(" · ").join(parts)
        if self._error:
            line = Content("\n").join([line, Content.from_markup("[$error]$e[/]", e=self._error)])
        self.query_one("#layout-summary", Static).update(line)

    def action_refresh(self) -> None:
        """Read topics and counts again now."""
        self._wake.set()

    def action_missing(self) -> None:
        """Move the cursor to the next missing topic."""
        tree = self.query_one(LayoutTree)
        rows = tree.rows
        if not any(r.missing for r in rows):
            self.notify("No planned topic is missing")
            return
        tree.move_to_next_missing()

    @on(LayoutTree.TopicOpened)
    async def _open(self, event: LayoutTree.TopicOpened) -> None:
        await open_stream(self, event.row)


async def open_stream(screen: ConsoleScreen, row: TopicRow) -> None:
    """Open a stream pane on ``row.topic`` in the streams area (or say why not)."""
    if row.missing:
        screen.notify(f"{row.topic} does not exist yet: nothing to read", severity="warning")
        return
    app = screen.app
    await app.switch_mode("streams")
    streams = app.screen
    if not isinstance(streams, StreamsScreen):
        screen.notify(f"Open a pane on {row.topic} from the streams area (n)")
        return
    await streams.add_pane(PaneSpec(row.topic, Selection(topics=(row.topic,)), start="-50"))
