"""The topic layout: what the configuration and the registry imply, next to what the cluster holds.

A tree: prefix → global / each instance → one topic per event, with partitions, message count and current
rate; planned topics that do not exist are marked missing, existing ones nothing plans are marked unplanned.
``Enter`` on a topic opens a stream pane on it. In demo mode the chaos line sits under the tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import consumer
from tui.layout import Layout, topic_plan
from tui.screens.base import ConsoleScreen
from tui.widgets.chaos_panel import ChaosControls, ChaosPanel
from tui.widgets.layout_tree import LayoutTree, TopicRow, layout_rows

REFRESH_S = 2.0
"""How often topics, counts and rates are read again."""


class TopicCounts:
    """Topics under a prefix with their partitions and record counts (end minus beginning offsets).

    Reads metadata and offsets only, never records; one admin client and one group-less consumer, kept
    between refreshes and re-made after an error.
    """

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self._admin: Admin | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def read(self, prefix: str) -> tuple[dict[str, int], dict[str, int]]:
        """``({topic: partitions}, {topic: records})`` for the topics under ``prefix``."""
        try:
            if self._admin is None:
                self._admin = await Admin(self.options).start()
            topics = {n: p for n, p in (await self._admin.topics()).items() if n.startswith(prefix + ".")}
            counts = await self._counts(topics)
        except BaseException:
            await self.close()
            raise
        return topics, counts

    async def _counts(self, topics: dict[str, int]) -> dict[str, int]:
        if not topics:
            return {}
        client = self._consumer
        if client is None:
            client = consumer(self.options)
            await asyncio.wait_for(client.start(), timeout=max(self.options.connect_timeout_s, 1.0) * 3)
            self._consumer = client
        partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        begin = await client.beginning_offsets(partitions)
        end = await client.end_offsets(partitions)
        counts: dict[str, int] = dict.fromkeys(topics, 0)
        for tp in partitions:
            counts[tp.topic] += max(int(end.get(tp, 0)) - int(begin.get(tp, 0)), 0)
        return counts

    async def close(self) -> None:
        """Close the clients."""
        admin, self._admin = self._admin, None
        client, self._consumer = self._consumer, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()


class RateMeter:
    """Records per second per topic, from two successive counts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, dict[str, int]] | None = None

    def update(self, counts: dict[str, int]) -> dict[str, float]:
        """Rates since the previous update (a count that went down, e.g. a restarted broker, reads 0)."""
        now = self._clock()
        previous, self._last = self._last, (now, dict(counts))
        if previous is None or now <= previous[0]:
            return {}
        elapsed = now - previous[0]
        return {t: max(c - previous[1].get(t, c), 0) / elapsed for t, c in counts.items()}


class LayoutScreen(ConsoleScreen):
    """The topic layout tree; ``Enter`` opens a stream pane on a topic, ``r`` refreshes now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="layout-refresh"),
        Binding("m", "missing", "Next missing", id="layout-missing"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="layout-screen")
        self._rates = RateMeter()
        self._wake = asyncio.Event()
        self._error: str | None = None

    @property
    def demo(self) -> ChaosControls | None:
        """The demo's chaos controls when the console runs in demo mode."""
        demo = getattr(self.app, "demo", None)
        return demo if demo is not None and hasattr(demo, "toggle_link") else None

    def compose_body(self) -> ComposeResult:
        yield Static(id="layout-summary", markup=False)
        yield LayoutTree(self.services.settings.topic_prefix, id="layout-tree")
        demo = self.demo
        if demo is not None:
            yield ChaosPanel(demo, id="chaos-panel")

    def on_mount(self) -> None:
        self.query_one(LayoutTree).focus()
        self._show([], None)
        if getattr(self.app, "connect", True) or self.demo is not None:
            self._refresh_loop()

    def layouts(self) -> Sequence[Layout]:
        """The layouts planned: per-instance always, global when ``KAFKA_GLOBAL_ENABLED``."""
        settings = self.services.settings
        return (Layout.GLOBAL, Layout.INSTANCE) if settings.global_enabled else (Layout.INSTANCE,)

    def rows(
        self,
        existing: dict[str, int],
        counts: dict[str, int] | None = None,
        rates: dict[str, float] | None = None,
    ) -> list[TopicRow]:
        """The rows for what the cluster holds now (pure: the plan comes from the services' state)."""
        services = self.services
        plan = topic_plan(services.settings, services.registry.all(), self.layouts())
        return layout_rows(plan, existing, services.settings.topic_prefix, counts, rates)

    @work(group="layout", exclusive=True, exit_on_error=False, name="layout-refresh")
    async def _refresh_loop(self) -> None:
        reader = TopicCounts(self.services.options)
        prefix = self.services.settings.topic_prefix
        try:
            while True:
                try:
                    existing, counts = await reader.read(prefix)
                    rates = self._rates.update(counts)
                    self._error = None
                    self._show(self.rows(existing, counts, rates), existing)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._error = f"cannot read the cluster: {exc.__class__.__name__}: {exc}".rstrip(": ")
                    self._show(self.rows({}), None)
                self._wake.clear()
                # Refresh period, or at once when asked (r): not a wait for a condition to hold.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=REFRESH_S)
        finally:
            await reader.close()

    def _show(self, rows: list[TopicRow], existing: dict[str, int] | None) -> None:
        tree = self.query_one(LayoutTree)
        if existing is None and tree.rows and self._error:
            # Cluster unreachable: keep the last numbers, say why above them.
            self._summary(tree.rows)
            return
        tree.show(rows, self.services.registry.all())
        self._summary(rows)

    def _summary(self, rows: list[TopicRow]) -> None:
        settings = self.services.settings
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
    modes = getattr(app, "MODES", {})
    if "streams" not in modes:
        screen.notify(f"Streams are not part of this build; read it with: evokafka tail {row.topic}")
        return
    from tui.screens.streams import StreamsScreen
    from tui.views import PaneSpec, Selection

    await app.switch_mode("streams")
    streams = app.screen
    if not isinstance(streams, StreamsScreen):
        screen.notify(f"Open a pane on {row.topic} from the streams area (n)")
        return
    await streams.add_pane(PaneSpec(row.topic, Selection(topics=(row.topic,)), start="-50"))
