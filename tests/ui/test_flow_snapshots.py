"""Snapshots of the event-flow screens (explain, trace, the instance x event matrix) at 80x24 and 120x40.

The data is fixed (an explanation, a timeline, matrix counts built here; the frozen console of
``tests.ui.conftest``): a snapshot changes only when the rendering does. Behaviour is in ``test_flow_ui.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import FROZEN_NOW, frozen_app
from tui import catalog
from tui.console.screens.explain import ExplainScreen
from tui.console.screens.matrix import MatrixScreen
from tui.console.screens.trace import TraceScreen
from tui.event_matrix import EventMatrix
from tui.explanation import ClusterFacts, Explanation, GroupBehind, LastRecord, TopicFacts
from tui.flow import FlowStep, TraceQuery, timeline
from tui.records import Record
from tui.topology import Layout

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
NOW_MS = int(FROZEN_NOW * 1000)

SnapCompare = Callable[..., bool]


def an_explanation() -> Explanation:
    """messages.upsert of acme-sales: published to both layouts, found on one, a consumer group behind."""
    last = LastRecord(2, 18_231, NOW_MS - 42_000)
    return Explanation(
        "acme-sales",
        "messages.upsert",
        "published",
        ("KAFKA_ENABLED is true", "acme-sales is enabled and lists MESSAGES_UPSERT"),
        (
            TopicFacts(Layout.INSTANCE, "evolution.acme-sales.messages.upsert", "acme-sales", True,
                       "acme-sales is enabled and lists MESSAGES_UPSERT", True, 4, last, 4,
                       (GroupBehind("evolution-consumers", 2, 5_927, 18_232),)),
            TopicFacts(Layout.GLOBAL, "evolution.global.messages.upsert", "acme-sales-messages.upsert", True,
                       "KAFKA_GLOBAL_ENABLED and KAFKA_EVENTS_MESSAGES_UPSERT are true", False),
        ),
        ClusterFacts(("kafka-1:9092", "kafka-2:9092"), True),
        NOW_MS,
        publisher="connected",
    )


def a_timeline() -> Any:
    """A message sent, acknowledged, read and edited; delivery never reported (a gap)."""
    query = TraceQuery(message_id="3EB0C431C26A1916B0A1", instance="acme-sales", since_ms=NOW_MS - 86_400_000)
    topic = "evolution.acme-sales."

    def step(offset_s: float, event: str, offset: int, status: str | None = None, text: str | None = None) -> FlowStep:
        return FlowStep(NOW_MS - 60_000 + int(offset_s * 1000), event, "acme-sales", Layout.INSTANCE, topic + event,
                        1, offset, "3EB0C431C26A1916B0A1", "5511912345678@s.whatsapp.net", True, status, text)

    steps = [
        step(0, "send.message", 311, text="Your order #4411 has shipped"),
        step(0.2, "messages.upsert", 9_120, "PENDING", "Your order #4411 has shipped"),
        step(1.4, "messages.update", 20_877, "SERVER_ACK"),
        step(35.0, "messages.update", 20_901, "READ"),
        step(41.5, "messages.edited", 77, text="Your order #4411 has shipped (tracking BR123)"),
    ]
    return timeline(query, steps, topics=[s.topic for s in steps], scanned=1_204)


def a_matrix() -> EventMatrix:
    """Sixty instances with traffic of different ages on a few events, and one on the global topics."""
    matrix = EventMatrix("evolution")
    records: list[Record] = []
    events = ["messages.upsert", "messages.update", "connection.update", "presence.update", "send.message"]
    for i in range(60):
        name = f"store-{i:03d}"
        for j, event in enumerate(events):
            if (i + j) % 3 == 0:
                continue
            age_ms = ((i * 7 + j * 13) % 50) * 8_000 + (i % 4) * 1000
            records += [Record(f"evolution.{name}.{event}", 0, n, NOW_MS - age_ms - n * 400, 0, name.encode(), b"{}")
                        for n in range(1 + (i + j) % 5)]
    records.append(Record("evolution.global.messages.upsert", 0, 1, NOW_MS - 3_000, 0,
                          b"store-001-messages.upsert", b"{}"))
    matrix.add(records)
    return matrix


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", SIZES)
def test_explain(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_explain(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(ExplainScreen("acme-sales", catalog.lookup("messages.upsert"), an_explanation()))
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_explain)


@pytest.mark.parametrize("size", SIZES)
def test_trace(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_trace(pilot: Pilot[Any]) -> None:
        result = a_timeline()
        await pilot.app.push_screen(TraceScreen(result.query, result))
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_trace)


@pytest.mark.parametrize("size", SIZES)
def test_matrix(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_matrix(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(MatrixScreen(a_matrix()))
        await pilot.pause()
        await pilot.press("down", "down", "down", *["right"] * 13)  # scrolled right to the Message columns
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_matrix)
