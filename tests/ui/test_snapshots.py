"""Snapshots of the main screens at 80x24 and 120x40, with moving parts frozen.

The data is fixed (frozen registry entries, cluster view and producer status; the clock reads one moment;
cursors do not blink) so that a snapshot changes only when the rendering does. Behaviour against the real
broker is in ``test_console.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import FROZEN_NOW, frozen_app, producer_status
from tui.console.widgets.instance_list import InstanceList
from tui.console.widgets.json_editor import JsonEditor
from tui.status import PublisherState

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

SnapCompare = Callable[..., bool]


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", SIZES)
def test_shell(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES)
def test_instances(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), press=["i"], terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES)
def test_instance_detail(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        await pilot.press("i")
        await pilot.pause()
        table = pilot.app.screen.query_one(InstanceList)
        table.move_cursor(row=table.get_row_index("acme-support"))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("down", "down", "down", "down")  # CONNECTION_UPDATE: the route panel explains it
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_detail)


@pytest.mark.parametrize("size", SIZES)
def test_publish(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_publish(pilot: Pilot[Any]) -> None:
        await pilot.press("p")
        await pilot.pause()
        await pilot.press(*"upsert", "enter")
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_publish)


@pytest.mark.parametrize("size", SIZES)
def test_publish_invalid_json(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def break_body(pilot: Pilot[Any]) -> None:
        await pilot.press("p")
        await pilot.pause()
        editor = pilot.app.screen.query_one(JsonEditor)
        editor.insert("oops", (2, 4))
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=break_body)


PRODUCER_STATES = {
    "connected": producer_status(PublisherState.CONNECTED),
    "reconnecting": producer_status(
        PublisherState.RECONNECTING,
        attempt=3,
        delay_ms=20_000,
        next_try_at=FROZEN_NOW + 12.4,
        last_error="KafkaConnectionError: Unable to bootstrap from [('kafka-1', 9092)]",
    ),
    "failed": producer_status(
        PublisherState.FAILED,
        attempt=10,
        last_error="KafkaConnectionError: Unable to bootstrap from [('kafka-1', 9092)]",
    ),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", list(PRODUCER_STATES))
def test_producer_states(snap_compare: SnapCompare, size: tuple[int, int], state: str) -> None:
    # The failed state is shown read-only too, so the header's badge is in a snapshot.
    app = frozen_app(PRODUCER_STATES[state], read_only=state == "failed")
    assert snap_compare(app, terminal_size=size, run_before=_settle)
