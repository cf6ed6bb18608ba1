"""Reading the traffic, driven with Pilot inside the real console on the real broker: rows that name people and
groups, ``/`` in a pane / the layout / the doctor, the filter dialog's one-key picks, ``z`` and ``+``/``-``, the
grid that turns into tabs, ``:`` jump, ``y`` copy and ``n``/``p`` in the record detail.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, SelectionList, Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, stop
from tests.ui.test_streams_ui import open_streams, pane_texts, send_event
from tui import catalog
from tui.console.screens.doctor import DoctorScreen
from tui.console.screens.layout import LayoutScreen
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.screens.subscription_dialog import SubscriptionDialog
from tui.console.widgets.find_bar import FindBar
from tui.console.widgets.layout_tree import LayoutTree
from tui.console.widgets.stream_pane import StreamPane
from tui.kafka.registry import InstanceRegistry
from tui.selection import PaneSpec, Selection
from tui.topology import Layout

pytestmark = pytest.mark.broker

SOPHIE = "5511987654321@s.whatsapp.net"
DIEGO = "5521912345678@s.whatsapp.net"
FAMILY = "120363025555555555@g.us"


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


async def chat(producer: AIOKafkaProducer, prefix: str, instance: str) -> None:
    """A group named by groups.upsert, then messages in the group and in a chat, both ways, and a receipt."""
    async def send(event: str, data: Any) -> None:
        await send_event(producer, prefix, Layout.INSTANCE, instance, event, data)

    await send("groups.upsert", [{"id": FAMILY, "subject": "Família Souza", "participants": []}])
    await send("contacts.upsert", [{"remoteJid": SOPHIE, "pushName": "Sophie Turner"}])
    await send("messages.upsert", {"key": {"remoteJid": FAMILY, "participant": DIEGO, "fromMe": False, "id": "D1"},
                                   "pushName": "Diego Alves", "message": {"conversation": "Bom dia, família!"}})
    await send("messages.upsert", {"key": {"remoteJid": SOPHIE, "fromMe": False, "id": "S1"},
                                   "message": {"conversation": "Oi, tudo bem? Queria saber do meu pedido"}})
    await send("messages.upsert", {"key": {"remoteJid": SOPHIE, "fromMe": True, "id": "A1"},
                                   "message": {"conversation": "Shipping update: it left today"}})
    await send("messages.update", {"keyId": "A1", "remoteJid": SOPHIE, "fromMe": True, "status": "READ"})


async def pane_on(pilot: Pilot[None], screen: StreamsScreen, prefix: str, instance: str) -> StreamPane:
    events = ("groups.upsert", "contacts.upsert", "messages.upsert", "messages.update")
    pane = await screen.add_pane(PaneSpec("chat", Selection(instances=(instance,), events=events), "earliest"))
    await async_wait_until(lambda: pane.state == "reading", timeout=20)
    return pane


async def test_rows_name_people_and_groups_and_slash_narrows_the_pane(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    app = console.app
    async with app.run_test(size=(80, 24), message_hook=console.hook) as pilot:
        screen = await open_streams(pilot, tmp_path)
        pane = await pane_on(pilot, screen, prefix, "talk")
        await chat(producer, prefix, "talk")
        await async_wait_until(lambda: len(pane.buffer) == 6, timeout=20)
        await async_wait_until(lambda: any("Sophie Turner: Oi" in line for line in pane_texts(pane)), timeout=5)
        lines = pane_texts(pane)
        joined = "\n".join(lines)
        # Who and what first; the group by its subject; my message; a status as ticks; 20+ characters of text.
        # A long "who" gives way to the text: the group's subject is cut, never the message.
        assert any("Diego Alves @ Família Sou" in line and "…: Bom dia, família!" in line for line in lines), joined
        assert "Sophie Turner: Oi, tudo bem? Queria sab" in joined
        assert "▸ me: Shipping update" in joined and "✓✓ read by Sophie Turner" in joined
        assert "talk · msg.upsert" in joined or "talk · messages.upsert" in joined
        assert "120363" not in joined

        # / narrows as the operator types; Esc clears (the field first, then the table's own Esc does too).
        await pilot.press("slash")
        assert isinstance(screen.focused, FindBar)
        await pilot.press(*"sophie")
        assert pane.table.row_count == 4  # contacts.upsert, her message, mine to her, the read receipt
        assert all("sophie" in row.look.text().casefold() for row in pane.table.rows())
        await pilot.press("enter")
        assert screen.focused is pane.table and pane.table.row_count == 4  # kept, focus back on the rows
        await pilot.press("escape")
        assert pane.table.row_count == 6 and not pane.table.query_text
        await pilot.press("slash", *"zzz-nothing")
        assert pane.table.row_count == 0
        await pilot.press("escape")
        assert pane.table.row_count == 6
        # Narrowed, new records are tested as they arrive (at frames, not at ingest).
        await pilot.press("slash", *"pedido")
        await send_event(producer, prefix, Layout.INSTANCE, "talk", "messages.upsert",
                         {"key": {"remoteJid": SOPHIE, "id": "S2"}, "message": {"conversation": "e o pedido?"}})
        await async_wait_until(lambda: pane.table.row_count == 2, timeout=20)
        await pilot.press("escape")
        # Typed fast, as a terminal delivers it: the letters right after / are the field's, not the table's.
        for key, character in (("slash", "/"), ("t", "t"), ("u", "u"), ("d", "d")):
            app.post_message(events.Key(key, character))
        await async_wait_until(lambda: pane.table.query_text == "tud")
        assert pane.table.row_count == 1


async def test_copy_jump_detail_walk_and_scroll(
    console: Console, producer: AIOKafkaProducer, prefix: str, tmp_path: Path
) -> None:
    app = console.app
    async with app.run_test(size=(80, 24), message_hook=console.hook) as pilot:
        screen = await open_streams(pilot, tmp_path)
        pane = await pane_on(pilot, screen, prefix, "walk")
        await chat(producer, prefix, "walk")
        await async_wait_until(lambda: len(pane.buffer) == 6, timeout=20)
        # One more record once the six are in: the jump target below (read in a batch with the others, in any
        # order across topics) is then never the newest row, where the cursor would follow again.
        await send_event(producer, prefix, Layout.INSTANCE, "walk", "messages.update",
                         {"keyId": "S1", "remoteJid": SOPHIE, "fromMe": False, "status": "READ"})
        await async_wait_until(lambda: len(pane.buffer) == 7, timeout=20)
        table = pane.table
        # y: the row as JSON, secrets masked; Y: its key.
        await pilot.press("up")
        await pilot.press("y")
        copied = json.loads(app.clipboard)
        assert copied["value"]["apikey"] == "********" and copied["key"] == "walk"
        assert copied["offset"] == table.selected().record.offset  # type: ignore[union-attr]
        await pilot.press("Y")
        assert app.clipboard == "walk"
        # : jumps to a partition/offset of the pane (offset 2 exists only in the messages.upsert topic).
        target = next(row for row in table.rows() if row.record.offset == 2)
        await pilot.press("colon")
        await async_wait_until(lambda: len(app.screen.query("#prompt-input")) == 1)
        app.screen.query_one("#prompt-input", Input).value = f"{target.record.partition}/{target.record.offset}"
        await pilot.press("enter")
        await async_wait_until(lambda: table.selected() is target)
        assert not table.follow
        await pilot.press("colon")
        await async_wait_until(lambda: len(app.screen.query("#prompt-input")) == 1)
        app.screen.query_one("#prompt-input", Input).value = "9/99999"
        await pilot.press("enter")
        await async_wait_until(lambda: any("not in this pane's buffer" in n for n in console.notes))
        # Enter opens the detail; n/p walk the pane's rows (the cursor follows), within bounds.
        await pilot.press("enter")
        await async_wait_until(lambda: isinstance(app.screen, RecordDetailScreen) and app.screen.ready)
        detail = app.screen
        assert isinstance(detail, RecordDetailScreen) and detail.record is target.record
        await pilot.press("n")
        await async_wait_until(lambda: detail.ready)
        start = table.index_of(target)
        assert start is not None
        assert detail.record is table.row_at(start + 1).record and table.cursor == start + 1  # type: ignore[union-attr]
        for _ in range(start + 1):
            await pilot.press("p")
        await async_wait_until(lambda: detail.ready and table.cursor == 0)
        assert detail.record is table.row_at(0).record  # type: ignore[union-attr]
        await pilot.press("p")
        await async_wait_until(lambda: any("no previous record" in n for n in console.notes))
        await pilot.press("escape")
        await async_wait_until(lambda: app.screen is screen)
        # → scrolls the summary, W shows the wide columns.
        await pilot.press("right")
        assert table.shift > 0
        pane.draw_frame()
        assert "summary \u203a" in str(pane.query_one(".stream-pane--header", Static).render())
        await pilot.press("left", "W")
        assert table.shift == 0 and table.wide
        pane.draw_frame()
        await pilot.pause()
        assert "p/offset" in str(pane.query_one(".stream-pane--header", Static).render())


async def test_zoom_resize_and_a_grid_that_turns_into_tabs(console: Console, tmp_path: Path) -> None:
    async with console.app.run_test(size=(80, 30)) as pilot:
        screen = await open_streams(pilot, tmp_path)
        a = await screen.add_pane(PaneSpec("a", Selection(global_events=("call",))))
        b = await screen.add_pane(PaneSpec("b", Selection(global_events=("qrcode.updated",))))
        await pilot.press("a")
        await pilot.pause()
        assert screen.arrangement == "grid" and a.display and b.display
        assert a.table.size.height >= 4 and b.table.size.height >= 4
        # + makes the active pane taller; - gives the height back.
        before = b.size.height
        await pilot.press("plus")
        await pilot.pause()
        assert b.size.height > before and a.table.size.height >= 4
        await pilot.press("minus")
        await pilot.pause()
        assert b.size.height == before
        # z: the active pane takes the whole body; again: the grid is back.
        await pilot.press("z")
        await pilot.pause()
        assert screen.zoomed and b.display and not a.display and not screen.query_one("#pane-tabs").display
        assert b.size.height > before + 5
        await pilot.press("z")
        await pilot.pause()
        assert not screen.zoomed and a.display and b.display
        # A third pane would leave under 4 rows each at 80x30: tabs instead, and the grid again when one closes.
        c = await screen.add_pane(PaneSpec("c", Selection(global_events=("call",))))
        await pilot.pause()
        assert screen.arrangement == "grid" and not screen.grid_fits
        assert c.display and not a.display and not b.display
        assert c.table.size.height >= 4
        await pilot.press("w")
        await pilot.pause()
        assert a.display and b.display and screen.grid_fits


async def test_dialog_focus_labels_and_one_key_picks(console: Console, writer: InstanceRegistry, tmp_path: Path) -> None:
    await writer.set_request("pick-me", True, ["CALL"])
    app = console.app
    async with app.run_test(size=(80, 24)) as pilot:
        await console.ready()
        screen = await open_streams(pilot, tmp_path)
        await pilot.press("n")
        await async_wait_until(lambda: isinstance(app.screen, SubscriptionDialog))
        dialog = app.screen
        assert isinstance(dialog, SubscriptionDialog)
        await pilot.pause()
        assert dialog.focused is dialog.query_one("#f-title", Input)
        labels = [str(label.render()) for label in dialog.query(".field-name")]
        assert {"title", "start", "key", "free text", "JSONPath"} <= set(labels)
        events = dialog.query_one("#pick-events", SelectionList)
        await pilot.press("ctrl+a")
        assert len(events.selected) == len(catalog.EVENTS)
        await pilot.press("ctrl+a")
        assert events.selected == []
        instances = dialog.query_one("#pick-instances", SelectionList)
        await async_wait_until(lambda: instances.option_count > 0)
        index = next(i for i in range(instances.option_count) if instances.get_option_at_index(i).value == "pick-me")
        instances.focus()
        instances.highlighted = index
        await pilot.press("ctrl+t")
        assert instances.selected == ["pick-me"] and len(events.selected) == len(catalog.EVENTS)
        await pilot.press("ctrl+f")
        assert dialog.focused is dialog.query_one("#f-key", Input)
        await pilot.press("ctrl+s")
        await async_wait_until(lambda: len(screen.panes) == 1)
        spec = screen.panes[0].spec
        assert spec.selection.instances == ("pick-me",) and len(spec.selection.events) == len(catalog.EVENTS)
        assert spec.title == "pick-me · all events"


async def test_slash_narrows_the_layout_and_the_doctor(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("north", True, ["CALL"])
    await writer.set_request("south", True, ["CALL", "MESSAGES_UPSERT"])
    console = make_console(global_enabled="false")
    try:
        async with console.app.run_test(size=(80, 24), message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("l")
            await async_wait_until(lambda: isinstance(console.app.screen, LayoutScreen))
            screen = console.app.screen
            assert isinstance(screen, LayoutScreen)
            tree = screen.query_one(LayoutTree)
            await async_wait_until(lambda: {r.group for r in tree.rows} >= {"north", "south"}, timeout=20)
            await pilot.press("slash", *"south")
            assert {r.group for r in tree.rows} == {"south"} and len(tree.rows) == 2
            await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", *"call")
            assert {r.topic.rsplit(".", 1)[-1] for r in tree.rows} == {"call"}
            await pilot.press("escape")
            await async_wait_until(lambda: {r.group for r in tree.rows} >= {"north", "south"}, timeout=10)
            assert screen.focused is tree

            await pilot.press("d")
            await async_wait_until(lambda: isinstance(console.app.screen, DoctorScreen))
            doctor = console.app.screen
            summary = doctor.query_one("#doctor-summary", Static)
            await async_wait_until(lambda: "running" not in str(summary.render()), timeout=60)
            table: DataTable[object] = doctor.query_one("#doctor-table", DataTable)
            everything = table.row_count
            await pilot.press("slash", *"warn")
            assert 0 < table.row_count < everything
            assert all(str(table.get_row_at(i)[0]) == "WARN" for i in range(table.row_count))
            await pilot.press("escape")
            assert table.row_count == everything
    finally:
        await stop(console)
