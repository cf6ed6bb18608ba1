"""The console in demo mode, driven with Pilot: chaos keys, the producer widget, the layout screen.

The demo runs its own embedded broker behind the link proxy (chaos needs it), with short delays so the
reconnect schedule shows within a test's time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from confluent_kafka.admin import AdminClient
from textual.pilot import Pilot

from tests.conftest import async_wait_until
from tests.foreign import read_all
from tui.config import load_app_settings, load_settings
from tui.console.screens.layout import LayoutScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.widgets.chaos_panel import ChaosPanel
from tui.console.widgets.layout_tree import LayoutTree
from tui.console.widgets.producer_status import ProducerStatus
from tui.demo.console import DEMO_WORKERS, DemoApp
from tui.demo.home import DemoHomeScreen
from tui.demo.runner import DemoConfig, DemoRunner
from tui.status import PublisherState

pytestmark = pytest.mark.broker

SIZE = (80, 24)


@pytest.fixture
async def demo(prefix: str) -> AsyncIterator[DemoRunner]:
    settings = load_settings(
        None,
        environ={},
        topic_prefix=prefix,
        auto_create_topics="true",
        reconnect_initial_delay_ms="200",
        connection_timeout="1000",
        request_timeout="1500",
    )
    runner = DemoRunner(settings, DemoConfig(rate=40, instances=3, seed=1), registry_topic=f"reg_{prefix}")
    try:
        yield runner
    finally:
        await asyncio.wait_for(runner.stop(timeout=5.0), timeout=30.0)


def _app(runner: DemoRunner, prefix: str) -> DemoApp:
    return DemoApp.build(runner, load_app_settings(None, environ={}, registry_topic=f"reg_{prefix}"),
                         cursor_blink=False)


def _widget_states(app: DemoApp) -> tuple[list[PublisherState], Callable[[PublisherState], bool]]:
    """The producer widget's states as seen, and a predicate "the widget shows ``state`` now" that records them."""
    seen: list[PublisherState] = []

    def saw(state: PublisherState) -> bool:
        status = app.screen.query_one(ProducerStatus).status
        current = status.state if status is not None else None
        if current is not None and (not seen or seen[-1] is not current):
            seen.append(current)
        return current is state

    return seen, saw


async def _cut_and_restore(app: DemoApp, demo: DemoRunner, pilot: Pilot[None]) -> list[PublisherState]:
    """F7 (cut), wait for RECONNECTING, F7 (restore), wait for CONNECTED; the widget's states on the way."""
    seen, saw = _widget_states(app)
    await async_wait_until(lambda: demo.stats.acknowledged > 20, timeout=30)
    await async_wait_until(lambda: saw(PublisherState.CONNECTED), timeout=10)
    await pilot.press("f7")
    assert demo.chaos.link_cut
    await async_wait_until(lambda: saw(PublisherState.RECONNECTING), timeout=30)
    await pilot.press("f7")
    assert not demo.chaos.link_cut
    await async_wait_until(lambda: saw(PublisherState.CONNECTED), timeout=30)
    return seen


async def test_f7_cut_shows_reconnecting_with_attempt_and_backoff_then_connected(
    demo: DemoRunner, prefix: str
) -> None:
    app = _app(demo, prefix)
    async with app.run_test(size=SIZE) as pilot:
        seen, saw = _widget_states(app)
        await async_wait_until(lambda: demo.stats.acknowledged > 20, timeout=30)
        await async_wait_until(lambda: saw(PublisherState.CONNECTED), timeout=10)
        await pilot.press("f7")
        assert demo.chaos.link_cut
        await async_wait_until(lambda: saw(PublisherState.RECONNECTING), timeout=30)
        widget = app.screen.query_one(ProducerStatus)
        # The first reconnecting status comes before its first try is scheduled ("attempt 0"): wait for the one
        # that says when the next try is.
        await async_wait_until(lambda: "next try in" in str(widget.render()), timeout=30)
        text = str(widget.render())
        assert "attempt" in text and "next try in" in text and "backoff" in text
        await pilot.press("f7")
        assert not demo.chaos.link_cut
        await async_wait_until(lambda: saw(PublisherState.CONNECTED), timeout=30)
        assert seen[0] is PublisherState.CONNECTED and PublisherState.RECONNECTING in seen
        assert seen[-1] is PublisherState.CONNECTED
        # Traffic goes on after the recovery.
        after = demo.publisher.status.acknowledged
        await async_wait_until(lambda: demo.publisher.status.acknowledged > after + 20, timeout=30)
        await app.action_quit()


async def test_after_a_cut_every_acknowledged_record_is_read_and_duplicates_stay_within_retries(
    demo: DemoRunner, prefix: str
) -> None:
    app = _app(demo, prefix)
    acked: list[tuple[str, int | None, int | None]] = []
    demo.subscribe(lambda d: acked.extend((x.topic, x.partition, x.offset) for x in d.deliveries if x.error is None))
    async with app.run_test(size=SIZE) as pilot:
        await _cut_and_restore(app, demo, pilot)
        # Stop the traffic, let every record settle, then count what a foreign consumer reads.
        app.workers.cancel_group(app, DEMO_WORKERS)
        await asyncio.wait_for(demo.publisher.flush(), timeout=30)
        status = demo.publisher.status
        assert status.sent == status.acknowledged + status.failed
        widget = app.screen.query_one(ProducerStatus)
        await async_wait_until(lambda: (s := widget.status) is not None and s.acknowledged == status.acknowledged)
        # The foreign client blocks: it runs in a thread, so the link proxy (on this event loop) keeps pumping.
        names = await asyncio.to_thread(
            lambda: AdminClient({"bootstrap.servers": demo.bootstrap}).list_topics(timeout=10).topics
        )
        topics = sorted(t for t in names if t.startswith(prefix + "."))
        # Asking for more than acknowledged: the read ends at its bound with everything the topics hold.
        # (Offsets cannot count them: Tansu's watermarks undercount batches.)
        records = await asyncio.to_thread(read_all, demo.bootstrap, topics, status.acknowledged + 50, 6.0)
        await async_wait_until(lambda: len(acked) == status.acknowledged)
        read = {(r.topic, r.partition, r.offset) for r in records}
        # Every acknowledged record is there, at the offset its acknowledgement named: nothing lost.
        assert set(acked) <= read and len(set(acked)) == status.acknowledged
        # The broker refuses idempotence (README: "The embedded broker's quirks"), so a record written just before
        # the cut whose acknowledgement the cut swallowed may be there too: at most one per retried or failed record.
        extra = len(records) - status.acknowledged
        assert 0 <= extra <= status.retried + status.failed, (extra, status)
        await app.action_quit()


async def test_quitting_the_demo_console_stops_its_broker(demo: DemoRunner, prefix: str) -> None:
    app = _app(demo, prefix)
    async with app.run_test(size=SIZE):
        await async_wait_until(lambda: demo.stats.acknowledged > 5, timeout=30)
        assert demo.broker is not None
        await app.action_quit()
    assert demo.broker is None


async def test_demo_opens_both_layouts_and_the_layout_screen_marks_missing_topics(
    demo: DemoRunner, prefix: str
) -> None:
    app = _app(demo, prefix)
    async with app.run_test(size=SIZE) as pilot:
        await async_wait_until(lambda: demo.stats.acknowledged > 20, timeout=30)
        # The demo lands on a home that explains it, the second terminal's exact command included.
        assert isinstance(app.screen, DemoHomeScreen)
        assert demo.env_file is not None and demo.env_file.is_file()
        await async_wait_until(lambda: str(demo.env_file) in str(app.screen.query_one("#demo-guide").render()))
        await pilot.press("s")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen))
        streams = app.screen
        assert isinstance(streams, StreamsScreen)
        await async_wait_until(lambda: len(streams.panes) == 2)
        assert [p.spec.title for p in streams.panes] == ["Global layout", "Per-instance layout"]
        assert streams.arrangement == "grid"

        await pilot.press("l")
        await async_wait_until(lambda: isinstance(app.screen, LayoutScreen))
        screen = app.screen
        tree = screen.query_one(LayoutTree)
        # The first instance enables every event, default-off ones too: those topics are planned but missing.
        await async_wait_until(
            lambda: any(r.partitions and r.messages and r.rate is not None for r in tree.rows), timeout=20
        )
        rows = {r.topic: r for r in tree.rows}
        first = demo.instances[0].name
        assert rows[f"{prefix}.{first}.typebot.start"].missing
        assert f"{prefix}.global.typebot.start" not in rows  # KAFKA_EVENTS_TYPEBOT_START=false
        assert not any(r.instance == "legacy-bot" for r in rows.values())  # not among 3 instances anyway
        assert "missing" in str(screen.query_one("#layout-summary").render())
        assert "link up" in str(screen.query_one(ChaosPanel).render())

        # Enter on an existing topic opens a stream pane on it.
        live = next(r for r in tree.rows if r.messages and r.instance == first)
        node = tree.leaf(live.topic)
        assert node is not None
        if node.parent is not None:
            node.parent.expand()
        await pilot.pause()
        tree.move_cursor(node)
        await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and len(app.screen.panes) == 3)
        assert isinstance(app.screen, StreamsScreen)
        assert app.screen.panes[-1].spec.selection.topics == (live.topic,)
        await app.action_quit()
