"""Snapshots of rows that read like WhatsApp and of the streams screen's reading states, at 80x24 and 120x40.

The data is fixed (a short conversation in a group and in a chat, with the contacts and group events that name
the people); the app is frozen as in ``test_snapshots.py``. Behaviour against the real broker is in
``test_reading_ui.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import async_wait_until
from tests.ui.conftest import frozen_app
from tests.ui.test_layout_ui import FROZEN_STATS
from tui import catalog
from tui.console.screens.layout import LayoutScreen
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.screens.subscription_dialog import SubscriptionDialog
from tui.console.widgets.stream_pane import StreamPane
from tui.envelope import build
from tui.filters import FilterSpec
from tui.records import Record
from tui.selection import PaneSpec, Selection

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SnapCompare = Callable[..., bool]
BASE_MS = 1_709_550_600_000
SOPHIE = "5511987654321@s.whatsapp.net"
DIEGO = "5521912345678@s.whatsapp.net"
FAMILY = "120363025555555555@g.us"


def _record(offset: int, topic_instance: str | None, event: str, data: Any, *, partition: int = 0) -> Record:
    ev = catalog.lookup(event)
    millis = BASE_MS + offset * 1500
    env = build(ev, "acme-sales", data, apikey="secret-token", now=datetime.fromtimestamp(millis / 1000, UTC))
    topic = f"evolution.{topic_instance or 'global'}.{event}"
    key = "acme-sales" if topic_instance else f"acme-sales-{event}"
    return Record(topic, partition, offset, millis, 0, key.encode(), env.encode(), list(env.headers))


def conversation() -> list[Record]:
    """A group named by groups.upsert, a contact named by contacts.upsert, messages both ways and receipts."""
    mine = {"key": {"remoteJid": SOPHIE, "fromMe": True, "id": "3EB0A1"}, "pushName": "Acme Sales",
            "message": {"conversation": "Shipping update: your order left the warehouse today"}, "status": "PENDING"}
    events: list[tuple[str, Any]] = [
        ("contacts.upsert", [{"remoteJid": SOPHIE, "pushName": "Sophie Turner"}]),
        ("groups.upsert", [{"id": FAMILY, "subject": "Família Souza", "participants": []}]),
        ("messages.upsert", {"key": {"remoteJid": SOPHIE, "fromMe": False, "id": "3EB0S1"}, "pushName": "Sophie Turner",
                             "message": {"conversation": "Oi, tudo bem? Queria saber do meu pedido 4471"}}),
        ("send.message", mine),
        ("messages.upsert", mine),
        ("messages.update", {"keyId": "3EB0A1", "remoteJid": SOPHIE, "fromMe": True, "status": "DELIVERY_ACK"}),
        ("messages.update", {"keyId": "3EB0A1", "remoteJid": SOPHIE, "fromMe": True, "status": "READ"}),
        ("messages.upsert", {"key": {"remoteJid": FAMILY, "participant": DIEGO, "fromMe": False, "id": "3EB0D1"},
                             "pushName": "Diego Alves", "message": {"conversation": "Bom dia, família! Almoço domingo?"}}),
        ("presence.update", {"id": SOPHIE, "presences": {SOPHIE: {"lastKnownPresence": "composing"}}}),
        ("chats.update", [{"remoteJid": SOPHIE, "unreadMessages": 2}]),
        ("call", {"from": DIEGO, "status": "offer", "isVideo": True}),
        ("connection.update", {"instance": "acme-sales", "state": "open", "statusReason": 200}),
    ]
    return [_record(n, "acme-sales", event, data) for n, (event, data) in enumerate(events)]


async def _streams(pilot: Pilot[Any], *specs: PaneSpec) -> tuple[StreamsScreen, list[StreamPane]]:
    await pilot.press("s")
    screen = pilot.app.screen
    assert isinstance(screen, StreamsScreen)
    panes = []
    for spec in specs:
        pane = await screen.add_pane(spec, reading=False)
        pane.ingest(conversation())
        panes.append(pane)
    await pilot.pause()
    for pane in panes:
        pane.draw_frame()  # the first frame teaches names; the second draws with them
    await pilot.pause()
    for pane in panes:
        pane.draw_frame()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return screen, panes


SALES = PaneSpec("acme-sales", Selection(instances=("acme-sales",), events=("messages.upsert",)), "earliest")
GLOBAL = PaneSpec("global", Selection(global_events=("messages.upsert",)), "-10")
THIRD = PaneSpec("calls", Selection(global_events=("call",)), "latest")


@pytest.mark.parametrize("size", SIZES)
def test_rows_read_like_whatsapp(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _streams(pilot, SALES)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_pane_narrowed_as_you_type(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _streams(pilot, SALES)
        await pilot.press("slash", *"sophie")
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_wide_columns_and_scrolled_summary(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        _, (pane,) = await _streams(pilot, SALES)
        await pilot.press("W", "right")
        pane.draw_frame()
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_grid_of_three(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    # 80x24: three panes would leave under 4 rows each: shown as tabs. 120x40: a grid, the active pane taller.
    async def run(pilot: Pilot[Any]) -> None:
        screen, panes = await _streams(pilot, SALES, GLOBAL, THIRD)
        screen.set_arrangement("grid")
        await pilot.pause()
        await pilot.press("plus")
        for pane in panes:
            pane.draw_frame()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_zoomed_pane(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        screen, panes = await _streams(pilot, SALES, GLOBAL)
        screen.set_arrangement("grid")
        await pilot.pause()
        await pilot.press("z")
        await pilot.pause()
        for pane in panes:
            pane.draw_frame()
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_subscription_dialog(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("s", "n")
        await async_wait_until(lambda: isinstance(pilot.app.screen, SubscriptionDialog))
        await pilot.pause()
        await pilot.press("tab", "ctrl+t")  # focus the instance list; every event of acme-sales
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_hex_view(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        _, (pane,) = await _streams(pilot, SALES)
        pane.table.move_to(2)
        await pilot.press("enter")
        await async_wait_until(lambda: isinstance(pilot.app.screen, RecordDetailScreen) and pilot.app.screen.ready)
        await pilot.press("v", "v")  # json → text → hex
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_pane_paused_and_not_following(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    # The counters line says PAUSED and "not following" first, and the title puts the state before the rest.
    async def run(pilot: Pilot[Any]) -> None:
        _, (pane,) = await _streams(pilot, PaneSpec(
            "a pane with a long title", Selection(instances=("acme-sales",), events=("messages.upsert",)), "-500",
            FilterSpec(text="acme", events=("messages.upsert", "messages.update", "send.message"))))
        await pilot.press("space", "up", "up")
        pane.draw_frame()
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_layout_narrowed(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press("l")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, LayoutScreen)
        screen.show_stats(FROZEN_STATS)
        await pilot.press("slash", *"upsert")
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(frozen_app(), terminal_size=size, run_before=run)
