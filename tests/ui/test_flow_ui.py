"""Event-flow debugging in the real console on the real broker: explain (from instance detail, a pane's row and
the palette), trace (``t`` on a row), the matrix (its counts, Enter on a cell opens a pane on exactly that instance
and event), replay from the palette (dry run, one confirmation, refused read-only) and re-send from a row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, stop
from tests.ui.test_streams_ui import open_streams, send_event
from tui import catalog
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.explain import ExplainScreen
from tui.console.screens.flow_actions import ask_explain, ask_replay, ask_trace
from tui.console.screens.groups import GroupsScreen
from tui.console.screens.instance_detail import InstanceDetailScreen
from tui.console.screens.matrix import MatrixScreen
from tui.console.screens.prompt_dialog import PromptDialog
from tui.console.screens.replay_dialog import ReplayDialog
from tui.console.screens.streams import StreamsScreen
from tui.console.screens.trace import TraceScreen
from tui.console.widgets.event_matrix_grid import EventMatrixGrid
from tui.console.widgets.event_toggles import EventToggles
from tui.console.widgets.stream_pane import StreamPane
from tui.kafka.registry import InstanceRegistry
from tui.replay_plan import RESENT_HEADER
from tui.selection import PaneSpec, Selection
from tui.topology import Layout, topic_name

pytestmark = pytest.mark.broker

MESSAGE_ID = "3EB0FLOWUI0001"
CHAT = "5511988887777@s.whatsapp.net"


@pytest.fixture
async def console(make_console: Callable[..., Console]) -> AsyncIterator[Console]:
    made = make_console()
    yield made
    await stop(made)


@pytest.fixture
async def producer(console: Console) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**console.session.options.client_kwargs(), linger_ms=5)
    await client.start()
    yield client
    await client.stop()


async def a_message_life(producer: AIOKafkaProducer, prefix: str, instance: str) -> None:
    """A message sent, acknowledged by the server, delivered, then read."""
    key = {"remoteJid": CHAT, "fromMe": True, "id": MESSAGE_ID}
    await send_event(producer, prefix, Layout.INSTANCE, instance, "messages.upsert",
                     {"key": key, "message": {"conversation": "where is my order?"}, "status": "PENDING"})
    for status in ("SERVER_ACK", "DELIVERY_ACK", "READ"):
        await send_event(producer, prefix, Layout.INSTANCE, instance, "messages.update",
                         {"keyId": MESSAGE_ID, "remoteJid": CHAT, "fromMe": True, "status": status})


async def pane_with_rows(pilot: Pilot[None], tmp_path: Path, instance: str, event: str, rows: int) -> StreamPane:
    screen = await open_streams(pilot, tmp_path)
    pane = await screen.add_pane(
        PaneSpec(f"{instance}/{event}", Selection(instances=(instance,), events=(event,)), "earliest")
    )
    await async_wait_until(lambda: pane.table.row_count >= rows, timeout=20)
    pane.table.move_to(0)
    pane.table.focus()
    await pilot.pause()
    return pane


def body_text(screen: ExplainScreen | TraceScreen) -> str:
    result = screen.result
    assert result is not None
    return "\n".join(result.lines()) if isinstance(screen, ExplainScreen) else str(result.to_json())


async def test_explain_from_instance_detail_names_topic_and_last_offset(
    console: Console, producer: AIOKafkaProducer, writer: InstanceRegistry, prefix: str
) -> None:
    await writer.set_request("acme", True, [])
    await send_event(producer, prefix, Layout.INSTANCE, "acme", "messages.upsert", {"key": {"id": "X1"}})
    app = console.app
    async with app.run_test(size=(120, 40), message_hook=console.hook) as pilot:
        await console.ready()
        await async_wait_until(lambda: console.session.registry_entry("acme") is not None)
        await app.push_screen(InstanceDetailScreen("acme"))
        await pilot.pause()
        toggles = app.screen.query_one(EventToggles)
        while toggles.event is None or toggles.event.wire != "messages.upsert":
            await pilot.press("down")
        await pilot.press("x")
        await async_wait_until(lambda: isinstance(app.screen, ExplainScreen) and app.screen.checks >= 1, timeout=20)
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        assert screen.result is not None and screen.result.verdict == "published"
        text = body_text(screen)
        topic = topic_name(prefix, Layout.INSTANCE, "acme", catalog.lookup("messages.upsert"))
        assert f"published to {topic}" in text and "offset 0" in text
        assert "evokafka's publisher: connected" in text


async def test_explain_from_palette_says_groups_update_is_never_published(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("acme", True, [])
    console = make_console(global_enabled="true", enabled="true")
    app = console.app
    async with app.run_test(size=(100, 30)) as pilot:
        await console.ready()
        await async_wait_until(lambda: console.session.registry_entry("acme") is not None)
        ask_explain(app)
        for answer in ("acme", "groups.update"):
            await async_wait_until(lambda: isinstance(app.screen, PromptDialog))
            app.screen.query_one(Input).value = answer
            await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, ExplainScreen) and app.screen.checks >= 1, timeout=20)
        assert isinstance(app.screen, ExplainScreen)
        assert "never published by Evolution API" in body_text(app.screen), body_text(app.screen)
    await stop(console)


async def test_row_keys_trace_explain_and_resend(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    await a_message_life(producer, prefix, "acme")
    app = console.app
    async with app.run_test(size=(120, 40), message_hook=console.hook) as pilot:
        await console.ready()
        pane = await pane_with_rows(pilot, tmp_path, "acme", "messages.update", 3)
        original = pane.table.row_at(0)
        assert original is not None
        # t: the message's whole life, in order, without gaps (upsert, acknowledged, read).
        await pilot.press("t")
        await async_wait_until(lambda: isinstance(app.screen, TraceScreen) and app.screen.reads >= 1, timeout=20)
        trace = app.screen
        assert isinstance(trace, TraceScreen) and trace.result is not None
        assert [s.label for s in trace.result.steps] == [
            "messages.upsert", "messages.update SERVER_ACK", "messages.update DELIVERY_ACK", "messages.update READ"
        ]
        assert trace.result.gaps == ()
        await pilot.press("escape")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen))
        # E: explain the row's instance and event.
        await pilot.press("E")
        await async_wait_until(lambda: isinstance(app.screen, ExplainScreen) and app.screen.checks >= 1, timeout=20)
        explain = app.screen
        assert isinstance(explain, ExplainScreen)
        assert (explain.instance, explain.event.wire) == ("acme", "messages.update")
        await pilot.press("escape")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen))
        # R, y: the row again on its topic, marked re-sent; the pane (from earliest) receives the copy.
        await pilot.press("R")
        await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await async_wait_until(lambda: pane.table.row_count >= 4, timeout=20)
        copy = pane.table.row_at(pane.table.row_count - 1)
        assert copy is not None and copy.record.value == original.record.value
        first = original.record
        assert dict(copy.record.headers).get(RESENT_HEADER) == f"{first.topic}:{first.partition}:{first.offset}".encode()
        assert any("re-sent to" in note for note in console.notes)


async def test_trace_flags_an_upsert_never_acknowledged(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    await send_event(producer, prefix, Layout.INSTANCE, "solo", "messages.upsert",
                     {"key": {"remoteJid": CHAT, "fromMe": True, "id": "3EB0LONELY"}, "message": {"conversation": "?"}})
    app = console.app
    async with app.run_test(size=(100, 30)) as pilot:
        await console.ready()
        await pane_with_rows(pilot, tmp_path, "solo", "messages.upsert", 1)
        await pilot.press("t")
        await async_wait_until(lambda: isinstance(app.screen, TraceScreen) and app.screen.reads >= 1, timeout=20)
        assert isinstance(app.screen, TraceScreen) and app.screen.result is not None
        assert [g.kind.value for g in app.screen.result.gaps] == ["never-acknowledged"]


async def test_matrix_counts_and_enter_opens_a_pane_on_that_cell(
    console: Console, producer: AIOKafkaProducer, prefix: str
) -> None:
    for instance in ("m-alpha", "m-beta"):
        await send_event(producer, prefix, Layout.INSTANCE, instance, "connection.update", {"state": "open"})
    await send_event(producer, prefix, Layout.GLOBAL, "m-gamma", "messages.upsert", {"key": {"id": "G1"}})
    app = console.app
    async with app.run_test(size=(80, 24)) as pilot:
        await console.ready()
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, MatrixScreen)
        matrix = screen.matrix
        await async_wait_until(
            lambda: matrix.cell(Layout.INSTANCE, "m-beta", "connection.update") is not None
            and matrix.cell(Layout.GLOBAL, "m-gamma", "messages.upsert") is not None,
            timeout=20,
        )
        grid = screen.query_one(EventMatrixGrid)
        # Put the cursor on m-beta / connection.update with the keys.
        while grid.current[0] != "m-beta":
            await pilot.press("down")
        while grid.current[1].wire != "connection.update":
            await pilot.press("right")
        await pilot.pause()
        assert grid.col_offset > 0 or grid.cursor_col < 6  # scrolled to keep the cursor visible at 80 columns
        await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and bool(app.screen.panes), timeout=10)
        streams = app.screen
        assert isinstance(streams, StreamsScreen)
        pane = streams.panes[-1]
        assert pane.spec.selection == Selection(instances=("m-beta",), events=("connection.update",))
        await async_wait_until(lambda: pane.table.row_count == 1, timeout=20)
        # Global layout: the cell is attributed by key and its pane keeps only that key.
        await pilot.press("m")
        assert isinstance(app.screen, MatrixScreen)
        await pilot.press("v")
        assert grid.current[0] == "m-gamma"
        while grid.current[1].wire != "messages.upsert":
            await pilot.press("right")
        await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and len(app.screen.panes) == 2)
        pane = streams.panes[-1]
        assert pane.spec.filter.key == "m-gamma-messages.upsert"
        await async_wait_until(lambda: pane.table.row_count == 1, timeout=20)


async def _commit_end(console: Console, topic: str, group: str) -> dict[TopicPartition, int]:
    """Commit ``group`` at the end of every partition of ``topic`` without joining it (no member stays listed),
    as a consumer that read everything and left; returns the offsets."""
    client = AIOKafkaConsumer(**console.session.options.client_kwargs(), group_id=group, enable_auto_commit=False)
    await client.start()
    try:
        assert topic in await client.topics()  # fetches the metadata
        parts = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic) or ())]
        client.assign(parts)
        ends = await client.end_offsets(parts)
        await client.commit(ends)
        return ends
    finally:
        await client.stop()


async def _committed(console: Console, tp: TopicPartition, group: str) -> int | None:
    client = AIOKafkaConsumer(**console.session.options.client_kwargs(), group_id=group, enable_auto_commit=False)
    await client.start()
    try:
        return await client.committed(tp)
    finally:
        await client.stop()


async def _answer_replay(app: Any, pilot: Pilot[None], answers: list[str]) -> None:
    for answer in answers:
        await async_wait_until(lambda: isinstance(app.screen, PromptDialog), timeout=10)
        app.screen.query_one(Input).value = answer
        await pilot.press("enter")


async def test_replay_from_palette_dry_run_then_one_confirmation(
    console: Console, producer: AIOKafkaProducer, prefix: str
) -> None:
    for n in range(5):
        await send_event(producer, prefix, Layout.INSTANCE, "rp", "messages.upsert", {"key": {"id": f"R{n}"}})
    topic = topic_name(prefix, Layout.INSTANCE, "rp", catalog.lookup("messages.upsert"))
    group = f"grp-{prefix}"
    ends = await _commit_end(console, topic, group)
    [home] = [tp for tp, end in ends.items() if end == 5]
    app = console.app
    async with app.run_test(size=(100, 30), message_hook=console.hook) as pilot:
        await console.ready()
        ask_replay(app)
        await _answer_replay(app, pilot, [group, topic, "-2"])
        await async_wait_until(lambda: isinstance(app.screen, ReplayDialog), timeout=20)
        dialog = app.screen
        assert isinstance(dialog, ReplayDialog)
        assert dialog.plan.again == 2 and dialog.refusal is None
        await pilot.press("y")
        await async_wait_until(lambda: any("moved" in n for n in console.notes), timeout=20)
    # Its consumers will read the last two records again.
    assert await _committed(console, home, group) == 3


async def test_replay_is_refused_read_only(
    make_console: Callable[..., Console], producer: AIOKafkaProducer, prefix: str
) -> None:
    await send_event(producer, prefix, Layout.INSTANCE, "ro", "messages.upsert", {"key": {"id": "RO"}})
    topic = topic_name(prefix, Layout.INSTANCE, "ro", catalog.lookup("messages.upsert"))
    group = f"grp-ro-{prefix}"
    read_only = make_console(read_only=True)
    await _commit_end(read_only, topic, group)
    try:
        app = read_only.app
        async with app.run_test(size=(100, 30), message_hook=read_only.hook) as pilot:
            ask_replay(app)
            await _answer_replay(app, pilot, [group, topic, "-1"])
            await async_wait_until(lambda: isinstance(app.screen, ReplayDialog), timeout=20)
            dialog = app.screen
            assert isinstance(dialog, ReplayDialog)
            assert dialog.refusal is not None and "read-only" in dialog.refusal
            await pilot.press("y")
            assert isinstance(app.screen, ReplayDialog)  # nothing was dismissed: no reset
            await pilot.press("escape")
            await async_wait_until(lambda: any("nothing reset" in n for n in read_only.notes))
    finally:
        await stop(read_only)


async def test_replay_from_the_consumer_groups_screen(
    console: Console, producer: AIOKafkaProducer, prefix: str
) -> None:
    for n in range(3):
        await send_event(producer, prefix, Layout.INSTANCE, "gs", "messages.upsert", {"key": {"id": f"G{n}"}})
    topic = topic_name(prefix, Layout.INSTANCE, "gs", catalog.lookup("messages.upsert"))
    group = f"grp-gs-{prefix}"
    await _commit_end(console, topic, group)
    app = console.app
    async with app.run_test(size=(100, 30), message_hook=console.hook) as pilot:
        await console.ready()
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        await async_wait_until(lambda: screen.groups is not None and any(g.group == group for g in screen.groups),
                               timeout=20)
        table = screen.query_one(DataTable)
        while screen.current != group:
            await pilot.press("down")
        await pilot.press("R")
        await _answer_replay(app, pilot, [topic, "-1"])  # the group is the one under the cursor: not asked
        await async_wait_until(lambda: isinstance(app.screen, ReplayDialog), timeout=20)
        dialog = app.screen
        assert isinstance(dialog, ReplayDialog)
        assert dialog.plan.group == group and dialog.plan.again == 1
        await pilot.press("escape")
        await async_wait_until(lambda: any("nothing reset" in n for n in console.notes))
        assert table.row_count >= 1


async def test_trace_from_palette_asks_message_and_instance(
    console: Console, producer: AIOKafkaProducer, prefix: str
) -> None:
    await a_message_life(producer, prefix, "pal")
    app = console.app
    async with app.run_test(size=(100, 30)) as pilot:
        await console.ready()
        ask_trace(app)
        for answer in (MESSAGE_ID, "pal"):
            await async_wait_until(lambda: isinstance(app.screen, PromptDialog))
            app.screen.query_one(Input).value = answer
            await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, TraceScreen) and app.screen.reads >= 1, timeout=20)
        assert isinstance(app.screen, TraceScreen) and app.screen.result is not None
        assert len(app.screen.result.steps) == 4 and app.screen.result.gaps == ()


async def test_resend_is_refused_read_only(
    make_console: Callable[..., Console], producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    await send_event(producer, prefix, Layout.INSTANCE, "rs", "connection.update", {"state": "open"})
    read_only = make_console(read_only=True)
    try:
        app = read_only.app
        async with app.run_test(size=(100, 30), message_hook=read_only.hook) as pilot:
            pane = await pane_with_rows(pilot, tmp_path, "rs", "connection.update", 1)
            await pilot.press("R")
            await async_wait_until(lambda: any("re-send refused" in n for n in read_only.notes))
            assert isinstance(app.screen, StreamsScreen) and pane.table.row_count == 1
    finally:
        await stop(read_only)
