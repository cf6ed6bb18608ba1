"""The streams screen, driven with Pilot inside the real console on the real broker.

Two panes with different filters get exactly their subsets; last-N and from-a-time starts; export equals the
pane; a flood of 50,000 records while the app keeps answering keys; hostile payloads; snapshots.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, frozen_app, stop
from tui import catalog
from tui.console.screens.base import ConsoleFooter
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.screens.subscription_dialog import SubscriptionDialog
from tui.console.widgets.stream_lag import LagPanel
from tui.console.widgets.stream_pane import StreamPane
from tui.envelope import build
from tui.filters import FilterSpec
from tui.records import Record, safe_json, to_json
from tui.saved_views import ViewStore
from tui.selection import PaneSpec, Selection
from tui.topology import Layout, message_key, topic_name

pytestmark = pytest.mark.broker


@pytest.fixture
async def console(make_console: Callable[..., Console], tmp_path: Path) -> AsyncIterator[Console]:
    made = make_console()
    yield made
    await stop(made)


@pytest.fixture
async def producer(console: Console) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(
        **console.session.options.client_kwargs(), linger_ms=5, max_request_size=8 * 1024 * 1024
    )
    await client.start()
    yield client
    await client.stop()


async def open_streams(pilot: Pilot[None], tmp_path: Path) -> StreamsScreen:
    await pilot.press("s")
    screen = pilot.app.screen
    assert isinstance(screen, StreamsScreen)
    screen.reading = True
    screen.views = ViewStore(tmp_path / "views.json")
    return screen


def pane_texts(pane: StreamPane) -> list[str]:
    table = pane.table
    return [table.render_line(y).text for y in range(table.size.height)]


def ids(rows: list[Any]) -> list[int]:
    return sorted(int(r.record.decoded.body["data"]["id"]) for r in rows)


async def send_event(
    producer: AIOKafkaProducer, prefix: str, layout: Layout, instance: str, event: str, data: dict[str, Any]
) -> None:
    ev = catalog.lookup(event)
    env = build(ev, instance, data, apikey="secret-token")
    await producer.send_and_wait(
        topic_name(prefix, layout, instance, ev), env.encode(), key=message_key(layout, instance, ev).encode(),
        headers=env.headers,
    )


async def test_two_panes_receive_exactly_their_subsets_and_export(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    app = console.app
    async with app.run_test(size=(100, 30), message_hook=console.hook) as pilot:
        screen = await open_streams(pilot, tmp_path)
        # Pane 1 through the dialog: the layout pick lists (instance alpha x two events) + an event filter.
        await pilot.press("n")
        await async_wait_until(lambda: isinstance(app.screen, SubscriptionDialog))
        dialog = app.screen
        assert isinstance(dialog, SubscriptionDialog)
        dialog.query_one("#f-title", Input).value = "alpha upserts"
        dialog.query_one("#f-instances", Input).value = "alpha"
        events = dialog.query_one("#pick-events", SelectionList)
        events.select("messages.upsert")
        events.select("connection.update")
        dialog.query_one("#f-start", Input).value = "earliest"
        dialog.query_one("#f-f-events", Input).value = "MESSAGES_UPSERT"
        dialog.query_one("#f-jsonpath", Input).value = "$..["
        await pilot.press("ctrl+s")
        error = dialog.query_one("#dialog-error", Static)
        assert "bad JSONPath" in str(error.render())
        dialog.query_one("#f-jsonpath", Input).value = ""
        await pilot.press("ctrl+s")
        await async_wait_until(lambda: len(screen.panes) == 1)
        # Pane 2: a global topic + a key filter; pane 3: every topic + a JSONPath on the body.
        await screen.add_pane(
            PaneSpec("global beta", Selection(global_events=("messages.upsert",)), "earliest",
                     FilterSpec(key="beta-messages.upsert"))
        )
        await screen.add_pane(
            PaneSpec("ann", Selection(pattern=rf"{prefix}\..*"), "earliest",
                     FilterSpec(jsonpath='$[?(@.data.pushName == "Ann")]'))
        )
        p1, p2, p3 = screen.panes
        await async_wait_until(lambda: all(p.state == "reading" for p in (p1, p2, p3)), timeout=20)

        mix = [
            (Layout.INSTANCE, "alpha", "messages.upsert", "Ann"),
            (Layout.INSTANCE, "alpha", "connection.update", "Ann"),
            (Layout.INSTANCE, "beta", "messages.upsert", "Bob"),
            (Layout.GLOBAL, "alpha", "messages.upsert", "Bob"),
            (Layout.GLOBAL, "beta", "messages.upsert", "Ann"),
            (Layout.GLOBAL, "beta", "call", "Ann"),
        ]
        expected: dict[str, list[int]] = {"p1": [], "p2": [], "p3": []}
        for n in range(36):
            layout, instance, event, name = mix[n % len(mix)]
            await send_event(producer, prefix, layout, instance, event, {"id": n, "pushName": name})
            if layout is Layout.INSTANCE and instance == "alpha" and event == "messages.upsert":
                expected["p1"].append(n)
            if layout is Layout.GLOBAL and instance == "beta" and event == "messages.upsert":
                expected["p2"].append(n)
            if name == "Ann":
                expected["p3"].append(n)
        await async_wait_until(lambda: p3.buffer.received == 36, timeout=20)
        await async_wait_until(lambda: p1.buffer.received == 12 and p2.buffer.received == 12, timeout=20)
        assert ids(p1.buffer.snapshot()) == expected["p1"]
        assert ids(p2.buffer.snapshot()) == expected["p2"]
        assert ids(p3.buffer.snapshot()) == expected["p3"]
        assert p3.subscription is not None and len(p3.subscription.topics) == 5

        # Export equals what the pane holds, in tail's shape, secrets masked.
        target = tmp_path / "p3.jsonl"
        exported = p3.export(target)
        lines = target.read_text(encoding="utf-8").splitlines()
        assert exported == len(lines) == len(expected["p3"])
        assert lines == [safe_json(to_json(r.record)) for r in p3.buffer.snapshot()]
        assert all(json.loads(line)["value"]["apikey"] == "********" for line in lines)
        # The export key path through the screen (x, then the file name).
        await pilot.press("x")
        await async_wait_until(lambda: app.screen.query("#prompt-input").results(Input) is not None
                               and len(app.screen.query("#prompt-input")) == 1)
        app.screen.query_one("#prompt-input", Input).value = str(tmp_path / "via-key.jsonl")
        await pilot.press("enter")
        await async_wait_until(lambda: (tmp_path / "via-key.jsonl").exists() and any(
            "exported" in n for n in console.notes))
        assert (tmp_path / "via-key.jsonl").read_text(encoding="utf-8").splitlines() == lines

        # Saved views: the three panes come back with their subscriptions and filters.
        screen.views.save(screen.current_view("triage"))
        await screen.open_view(screen.views.get("triage"))
        assert [p.spec for p in screen.panes] == [p1.spec, p2.spec, p3.spec]


async def test_last_n_and_from_timestamp(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    topic = f"{prefix}.timed"
    base = 1_700_000_000_000
    for i in range(10):
        await producer.send_and_wait(topic, str(i).encode(), partition=0, timestamp_ms=base + i * 1000)
    async with console.app.run_test(size=(100, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        last = await screen.add_pane(PaneSpec("last", Selection(topics=(topic,)), "-3"))
        since = await screen.add_pane(PaneSpec("since", Selection(topics=(topic,)), f"@{base + 5500}"))
        iso = await screen.add_pane(PaneSpec("iso", Selection(topics=(topic,)), "2023-11-14T22:13:27Z"))
        await async_wait_until(lambda: len(last.buffer) == 3 and len(since.buffer) == 4, timeout=20)
        await async_wait_until(lambda: len(iso.buffer) == 3, timeout=20)
        values = lambda pane: [int(r.record.value) for r in pane.buffer.snapshot()]  # noqa: E731
        # The topic was auto-created with several partitions, all records are in partition 0.
        assert values(last) == [7, 8, 9]
        assert values(since) == [6, 7, 8, 9]
        assert values(iso) == [7, 8, 9]  # 2023-11-14T22:13:27Z is base + 7000 ms


async def test_flood_keeps_the_app_answering(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    total = 50_000
    topic = f"{prefix}.flood"
    await producer.send_and_wait(topic, b"{}", partition=0)  # make the topic exist; not counted below
    async with console.app.run_test(size=(100, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        pane = await screen.add_pane(PaneSpec("flood", Selection(topics=(topic,)), "latest"))
        await async_wait_until(lambda: pane.state == "reading", timeout=20)
        value = orjson.dumps(
            {"event": "messages.upsert", "instance": "f", "data": {"message": {"conversation": "x" * 60}}}
        )

        async def flood() -> None:
            for start in range(0, total, 1000):
                futures = [await producer.send(topic, value, key=b"f") for _ in range(start, start + 1000)]
                await asyncio.gather(*futures)

        sending = asyncio.create_task(flood())
        try:
            await async_wait_until(lambda: pane.buffer.received > 0, timeout=30)
            await pilot.press("space")  # pause, while the flood goes on
            await async_wait_until(lambda: pane.parked, timeout=10)
            frozen = pane.buffer.received
            frames = pane.frames
            await async_wait_until(lambda: pane.frames >= frames + 5, timeout=10)
            assert pane.buffer.received == frozen
            assert "PAUSED" in str(pane.query_one(".stream-pane--counters", Static).render())
            await pilot.press("space")  # resume
            await asyncio.wait_for(sending, timeout=60)
            await async_wait_until(lambda: pane.buffer.received == total, timeout=60)
            await async_wait_until(lambda: pane.buffer.pending == 0, timeout=5)
        finally:
            sending.cancel()
        counters = pane.buffer.counters()
        assert counters.received == counters.matched == total
        assert counters.buffered + counters.dropped == total
        assert counters.buffered == pane.buffer.capacity
        assert counters.displayed + counters.dropped_unseen == total
        assert pane.frames < 10_000  # bounded frame rate, not a redraw per record



async def test_panes_on_one_topic_share_a_fetch_and_a_paused_one_loses_nothing(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    total = 6_000
    topic = f"{prefix}.shared"
    await producer.send_and_wait(topic, b"{}", partition=0)  # make the topic exist; not counted below
    async with console.app.run_test(size=(100, 40)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        panes = [await screen.add_pane(PaneSpec(f"p{n}", Selection(topics=(topic,)), "latest")) for n in range(3)]
        screen.set_arrangement("grid")
        await async_wait_until(lambda: all(p.state == "reading" for p in panes), timeout=20)
        readings = console.session._readings
        assert readings is not None and readings.hubs == 1  # one consumer of the topic for the three panes

        async def flood() -> None:
            for start in range(0, total, 500):
                futures = [await producer.send(topic, b'{"n": %d}' % n, key=b"k") for n in range(start, start + 500)]
                await asyncio.gather(*futures)

        sending = asyncio.create_task(flood())
        try:
            paused = panes[1]
            await async_wait_until(lambda: paused.buffer.received > 0, timeout=30)
            screen.activate(paused)
            await pilot.press("space")  # pause the middle pane while the flood goes on
            await async_wait_until(lambda: paused.parked, timeout=10)
            frozen = paused.buffer.received
            await async_wait_until(lambda: panes[0].buffer.received > frozen, timeout=30)
            assert paused.buffer.received == frozen
            await pilot.press("space")  # resume: it reads on from where it stopped
            await asyncio.wait_for(sending, timeout=60)
            await async_wait_until(lambda: all(p.buffer.received == total for p in panes), timeout=60)
        finally:
            sending.cancel()
        for pane in panes:
            rows = pane.buffer.snapshot()
            counters = pane.buffer.counters()
            assert counters.received == counters.matched == total
            assert counters.buffered + counters.dropped == total
            # The newest rows, each once, in order per partition.
            assert [int(r.record.value[6:-1]) for r in rows] == list(range(total - len(rows), total))

HOSTILE: list[tuple[str, bytes | None, bytes]] = [
    ("markup", b"k-markup", orjson.dumps({"event": "messages.upsert", "instance": "h", "data": {
        "pushName": "[bold red]boom[/]", "message": {"conversation": "[link=http://x]click[/link] [b]"}}})),
    ("ansi", b"k-\x1b[31mansi", b'{"event":"messages.upsert","instance":"h","data":{"message":{"conversation":'
     b'"\\u001b[2J\\u001b]0;owned\\u0007\\u001b]8;;http://evil\\u001b\\\\link"}}}'),
    ("raw-ansi", b"k-raw", b"\x1b[31mred\x1b]0;title\x07\r\x00\x08 plain text [bold]"),
    ("invalid-utf8", b"\xff\xfe", b"\xff\xfe\x00\xc3\x28 bytes"),
    ("deep", b"k-deep", b'{"event":"call","instance":"h","data":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("big", b"k-big", b'{"event":"messages.upsert","instance":"h","data":{"message":{"conversation":"'
     + b"y" * (5 * 1024 * 1024) + b'"}}}'),
]


async def test_hostile_payloads_render_literally(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    topic = f"{prefix}.hostile"
    for name, key, value in HOSTILE:
        await producer.send_and_wait(topic, value, key=key, partition=0, headers=[("name", name.encode()),
                                     ("evil", b"\x1b]52;c;AAAA\x07[red]x")])
    async with console.app.run_test(size=(120, 40)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        pane = await screen.add_pane(PaneSpec("hostile", Selection(topics=(topic,)), "earliest"))
        await async_wait_until(lambda: len(pane.buffer) == len(HOSTILE), timeout=30)
        await async_wait_until(lambda: pane.buffer.pending == 0, timeout=5)
        await pilot.pause()
        lines = pane_texts(pane)
        joined = "\n".join(lines)
        assert not any(c in joined for c in "\x1b\x07\x00\x08\r")
        assert "[bold red]boom[/]" in joined and "\\x1b" in joined
        rows = pane.buffer.snapshot()
        flagged = {r.record.key: r.decoded.flagged for r in rows}
        assert flagged[b"\xff\xfe"] and flagged[b"k-raw"] and flagged[b"k-deep"]
        assert lines[2].startswith("!") and lines[3].startswith("!")
        for index in range(len(HOSTILE)):
            pane.table.cursor = index
            pane.table.follow = False
            pane.table.action_choose()
            await async_wait_until(lambda: isinstance(console.app.screen, RecordDetailScreen))
            detail = console.app.screen
            assert isinstance(detail, RecordDetailScreen)
            await async_wait_until(lambda d=detail: d.ready, timeout=20)
            await pilot.pause()
            shown = str(detail.query_one("#record-value", Static).render()) + str(
                detail.query_one("#record-meta", Static).render()
            )
            assert not any(c in shown for c in "\x1b\x07\x00\x08\r"), HOSTILE[index][0]
            assert len(shown) < 200_000  # the 5 MB value is cut, not drawn whole
            await pilot.press("v")
            await pilot.press("escape")
            await async_wait_until(lambda: isinstance(console.app.screen, StreamsScreen))


async def test_lag_panel_and_arrangement(console: Console, tmp_path: Path) -> None:
    async with console.app.run_test(size=(80, 24)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        await screen.add_pane(PaneSpec("a", Selection(global_events=("call",))))
        await screen.add_pane(PaneSpec("b", Selection(global_events=("qrcode.updated",))))
        a, b = screen.panes
        assert not a.display and b.display
        await pilot.press("a")
        assert screen.arrangement == "grid" and a.display and b.display
        await pilot.press("[")
        assert screen.active_pane is a
        await pilot.press("g")
        panel = screen.query_one(LagPanel)
        await async_wait_until(lambda: panel.refreshes >= 1 or panel.error is not None, timeout=20)
        assert panel.error is None and panel.last is not None and panel.last.partitions == ()
        await pilot.press("w")
        assert screen.panes == [b]


async def test_pane_switch_acts_at_once_and_leaves_fields_alone(console: Console, tmp_path: Path) -> None:
    async with console.app.run_test(size=(100, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        a = await screen.add_pane(PaneSpec("a", Selection(topics=("t",))), reading=False)
        b = await screen.add_pane(PaneSpec("b", Selection(topics=("t",))), reading=False)
        screen.set_arrangement("grid")
        footer = screen.query_one(ConsoleFooter)
        # The newest pane takes the focus, and the footer lists its keys (each a message or two away).
        await async_wait_until(lambda: screen.focused is b.table and bool(footer.children), timeout=10)
        # The footer recomposes after a refresh: let a pending one land before its keys are taken.
        await pilot.pause()
        await pilot.pause()
        keys = list(footer.children)
        await pilot.press("]")
        # Active, bordered and focused by the key itself, not by the tab's message coming round later.
        assert screen.active_pane is a and a.has_class("-active") and not b.has_class("-active")
        assert screen.focused is a.table
        await pilot.pause()
        await pilot.pause()
        # The next table binds the same keys: the footer shows the same and is not rebuilt.
        assert list(footer.children) == keys
        await pilot.press("[")
        assert screen.active_pane is b and screen.focused is b.table
        await pilot.press("g")
        field = screen.query_one("#lag-group", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("]", "[")
        # Typing in a field, the brackets are text: the pane stays.
        assert field.value.endswith("][") and screen.active_pane is b


async def test_only_drawn_rows_are_decoded(console: Console, tmp_path: Path) -> None:
    records = [
        Record("evolution.acme-sales.messages.upsert", 0, n, 1_709_550_600_000 + n, 0, b"acme-sales",
               build(catalog.lookup("messages.upsert"), "acme-sales", {"message": {"conversation": f"#{n}"}}).encode(),
               [])
        for n in range(2000)
    ]
    async with console.app.run_test(size=(100, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        pane = await screen.add_pane(PaneSpec("lazy", Selection(topics=("t",))), reading=False)
        assert pane.ingest(records) == 2000
        rows = pane.buffer.snapshot()
        assert not any(row.drawn for row in rows)  # nothing decoded on the way in
        pane.draw_frame()
        # Following: the view goes to the newest rows (the table may paint its top once before it scrolls there).
        await async_wait_until(lambda: rows[-1].drawn, timeout=10)
        await pilot.pause()
        height = pane.table.size.height
        drawn = [n for n, row in enumerate(rows) if row.drawn]
        # Following: the newest screenful (plus, at most, the first screenful drawn before the pane scrolled).
        assert drawn[-height:] == list(range(2000 - height, 2000)) and len(drawn) <= 2 * height
        assert not any(rows[n].drawn for n in range(height, 2000 - height))
        assert "#1999" in pane_texts(pane)[-1]
        counters = pane.buffer.counters()
        assert counters.received == counters.matched == 2000 and counters.displayed == 2000


# -- snapshots --------------------------------------------------------------------------------------------

def _record(offset: int, value: bytes | None, *, key: bytes | None, topic: str, millis: int) -> Record:
    event = "messages.upsert"
    headers: list[tuple[str, bytes | None]] = [("event", event.encode()), ("instance", b"acme-sales")]
    return Record(topic, 0, offset, millis, 0, key, value, headers)


def _snapshot_records() -> list[Record]:
    base = 1_709_550_600_000
    out: list[Record] = []
    names = ["Ann", "Bob", "[bold red]Eve[/]"]
    for i in range(8):
        env = build(catalog.lookup("messages.upsert"), "acme-sales", {
            "key": {"remoteJid": f"55119{i:04d}@s.whatsapp.net", "fromMe": False, "id": f"3EB0{i}"},
            "message": {"conversation": f"hello #{i}"}, "pushName": names[i % 3]}, apikey="k",
            now=datetime.fromtimestamp((base + i * 1500) / 1000, UTC))
        out.append(_record(i, env.encode(), key=b"acme-sales", topic="evolution.acme-sales.messages.upsert",
                           millis=base + i * 1500))
    out.append(_record(8, b"\xff\x00\x1b[31m", key=b"acme-sales", topic="evolution.acme-sales.messages.upsert",
                       millis=base + 20_000))
    return out


async def _two_panes(pilot: Pilot[None]) -> None:
    await pilot.press("s")
    screen = pilot.app.screen
    assert isinstance(screen, StreamsScreen)
    first = await screen.add_pane(PaneSpec(
        "sales", Selection(instances=("acme-sales",), events=("messages.upsert",)), "earliest"), reading=False)
    second = await screen.add_pane(PaneSpec(
        "ann only", Selection(global_events=("messages.upsert",)), "-10",
        FilterSpec(jsonpath='$[?(@.data.pushName == "Ann")]')), reading=False)
    first.ingest(_snapshot_records())
    second.ingest(_snapshot_records())
    screen.set_arrangement("grid")
    await pilot.pause()
    first.draw_frame()
    second.draw_frame()
    await pilot.pause()


def test_snapshot_two_panes(snap_compare: Any) -> None:
    assert snap_compare(frozen_app(), terminal_size=(100, 30), run_before=_two_panes)


def test_snapshot_record_detail(snap_compare: Any) -> None:
    async def detail(pilot: Pilot[None]) -> None:
        await _two_panes(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, StreamsScreen)
        pane = screen.panes[0]
        pane.table.follow = False
        pane.table.cursor = 2
        pane.table.action_choose()
        await pilot.pause()
        await async_wait_until(lambda: isinstance(pilot.app.screen, RecordDetailScreen)
                               and pilot.app.screen.ready, timeout=10)
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=(100, 30), run_before=detail)


async def test_the_dialog_offers_instances_seen_only_in_topics(
    console: Console, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    prefix = console.session.settings.topic_prefix
    await send_event(producer, prefix, Layout.INSTANCE, "ghost.instance", "messages.upsert", {"id": 1})
    app = console.app
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        assert console.session.registry.get("ghost.instance") is None  # known only from its topic
        await pilot.press("n")
        await async_wait_until(lambda: isinstance(app.screen, SubscriptionDialog), timeout=10)
        picks = app.screen.query_one("#pick-instances", SelectionList)
        values = [picks.get_option_at_index(i).value for i in range(picks.option_count)]
        assert "ghost.instance" in values
        await pilot.press("escape")
        await async_wait_until(lambda: app.screen is screen)
