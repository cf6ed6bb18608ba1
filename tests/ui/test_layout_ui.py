"""The topic layout screen: snapshots with frozen numbers, and Pilot on the real broker; the lag panel's group
choice on the real broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, frozen_app, stop
from tui.config import KafkaSettings, load_app_settings
from tui.console.screens.layout import READING_SHARE, REFRESH_S, LayoutScreen, refresh_wait
from tui.console.screens.streams import StreamsScreen
from tui.console.session import Session
from tui.console.session_app import SessionApp
from tui.console.widgets.layout_tree import LayoutTree
from tui.console.widgets.stream_lag import LagPanel
from tui.demo.broker import EmbeddedBroker
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.topic_rows import TopicStats

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SnapCompare = Callable[..., bool]

FROZEN_STATS = TopicStats(
    partitions={
        "evolution.global.messages.upsert": 4,
        "evolution.global.connection.update": 4,
        "evolution.global.qrcode.updated": 4,
        "evolution.acme-sales.messages.upsert": 4,
        "evolution.acme-sales.send.message": 1,
        "evolution.acme-support.messages.upsert": 4,
        "evolution.legacy.call": 1,
    },
    messages={
        "evolution.global.messages.upsert": 12_480,
        "evolution.global.connection.update": 37,
        "evolution.global.qrcode.updated": 0,
        "evolution.acme-sales.messages.upsert": 9_112,
        "evolution.acme-sales.send.message": 640,
        "evolution.acme-support.messages.upsert": 3_368,
        "evolution.legacy.call": 5,
    },
    rates={
        "evolution.global.messages.upsert": 42.5,
        "evolution.global.connection.update": 0.0,
        "evolution.acme-sales.messages.upsert": 31.0,
        "evolution.acme-support.messages.upsert": 11.5,
    },
)
"""Fixed numbers for the frozen console's prefix and registry entries (some planned topics left missing, one
unplanned instance)."""


@pytest.mark.parametrize("size", SIZES)
def test_layout_snapshot(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def show(pilot: Pilot[Any]) -> None:
        await pilot.press("l")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, LayoutScreen)
        screen.show_stats(FROZEN_STATS)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=show)


# -- on the real broker ---------------------------------------------------------------------------------


@pytest.mark.broker
def test_the_refresh_stretches_when_reading_the_cluster_takes_long() -> None:
    assert refresh_wait(0.1) == REFRESH_S  # a quick read: the usual period
    slow = 6.0  # the offsets of tens of thousands of partitions
    assert slow / (slow + refresh_wait(slow)) == pytest.approx(READING_SHARE)


async def test_layout_lists_planned_topics_marks_missing_and_opens_a_pane(
    make_console: Callable[..., Console], writer: InstanceRegistry, prefix: str
) -> None:
    await writer.set_request("shop", True, ["MESSAGES_UPSERT", "CALL"])
    console = make_console(global_enabled="false")
    existing = f"{prefix}.shop.messages.upsert"
    options = ConnectionOptions.from_settings(console.session.settings)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(existing, 2)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(existing, b"{}", key=b"shop")
    finally:
        await producer.stop()
    try:
        async with console.app.run_test(size=(80, 24), message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("l")
            await async_wait_until(lambda: isinstance(console.app.screen, LayoutScreen))
            screen = console.app.screen
            tree = screen.query_one(LayoutTree)
            await async_wait_until(
                lambda: any(r.topic == existing and r.messages == 5 for r in tree.rows), timeout=20
            )
            rows = {r.topic: r for r in tree.rows}
            assert set(rows) == {existing, f"{prefix}.shop.call"}
            assert rows[existing].partitions == 2 and not rows[existing].missing
            assert rows[f"{prefix}.shop.call"].missing
            summary = str(screen.query_one("#layout-summary", Static).render())
            assert "2 planned" in summary and "1 missing" in summary

            # Enter on a missing topic says so and stays; on the existing one it opens a stream pane.
            await pilot.press("m")
            assert tree.cursor_node is not None and tree.cursor_node.data == rows[f"{prefix}.shop.call"]
            await pilot.press("enter")
            await async_wait_until(lambda: any("does not exist yet" in n for n in console.notes))
            assert console.app.screen is screen
            leaf = next(n for n in tree.root.children[0].children if n.data == rows[existing])
            tree.move_cursor(leaf)
            await pilot.press("enter")
            await async_wait_until(
                lambda: isinstance(console.app.screen, StreamsScreen) and len(console.app.screen.panes) == 1
            )
            streams = console.app.screen
            assert isinstance(streams, StreamsScreen)
            assert streams.panes[0].spec.selection.topics == (existing,)
    finally:
        await stop(console)


class LagApp(SessionApp):
    """The lag panel alone, on the real broker (through a session, never started: only the lag is read)."""

    def __init__(self, session: Session, group: str, pattern: str) -> None:
        super().__init__(session)
        self.group, self.pattern = group, pattern

    def compose(self) -> ComposeResult:
        yield LagPanel(self.session, self.group, self.pattern, id="lag")


@pytest.mark.broker
async def test_lag_panel_follows_a_group_the_operator_chooses(
    broker: EmbeddedBroker, settings: KafkaSettings, prefix: str
) -> None:
    options = ConnectionOptions.from_settings(settings)
    topic = f"{prefix}.lagged"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, 1)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(6):
            await producer.send_and_wait(topic, b"x")
    finally:
        await producer.stop()
    chosen = f"{prefix}-reporting"
    committer = AIOKafkaConsumer(**options.client_kwargs(), group_id=chosen, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 2})
    finally:
        await committer.stop()

    session = Session.build(settings, load_app_settings(None, environ={}))
    app = LagApp(session, settings.consumer_group_id, rf"{prefix}\..*")
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(LagPanel)
        await async_wait_until(lambda: panel.refreshes >= 1, timeout=20)
        assert panel.last is not None and panel.last.partitions == ()  # the configured group: nothing committed
        # The cluster's groups are listed for picking.
        await async_wait_until(lambda: panel.groups is not None and chosen in panel.groups, timeout=20)
        # Typing another group's id follows it.
        field = panel.query_one("#lag-group", Input)
        field.focus()
        field.value = ""
        await pilot.press(*chosen, "enter")
        await async_wait_until(lambda: panel.group == chosen and panel.last is not None, timeout=20)
        assert panel.last is not None
        assert [(p.topic, p.committed, p.end, p.lag) for p in panel.last.partitions] == [(topic, 2, 6, 4)]
        assert "total 4" in str(panel.query_one("#lag-title", Static).render())
        # An empty id is refused; the panel keeps following the chosen group.
        field.value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert panel.group == chosen
