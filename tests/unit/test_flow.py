"""The domain of ``evokafka trace``: what a payload refers to, the order of a life, its gaps, the moments."""

from __future__ import annotations

import pytest

from tui import templates
from tui.flow import (
    FlowStep,
    GapKind,
    MomentError,
    TraceQuery,
    gaps,
    parse_moment,
    references,
    timeline,
)
from tui.topology import Layout

ID = "3EB0ABCDEF0123456789"


def _step(event: str, ts: int, status: str | None = None, from_me: bool | None = True,
          layout: Layout = Layout.INSTANCE) -> FlowStep:
    return FlowStep(ts, event, "acme", layout, f"evolution.acme.{event}", 0, ts, ID, templates.CONTACT, from_me,
                    status)


def test_references_read_evolution_shapes() -> None:
    key = templates.message_key(templates.CONTACT, True, ID)
    message = templates.message(key, "Acme", "hi", seconds=1, instance_id="i")
    assert [(r.message_id, r.chat, r.from_me, r.text) for r in references("messages.upsert", message)] == [
        (ID, templates.CONTACT, True, "hi")
    ]
    assert references("messages.set", {"messages": [message, message]})[1].message_id == ID
    receipt = templates.receipt(ID, templates.CONTACT, True, "READ", "i")
    assert [(r.message_id, r.status) for r in references("messages.update", [receipt])] == [(ID, "READ")]
    edit = templates.edit(key, "hi (edited)", millis=1000, instance_id="i")
    assert references("messages.edited", edit)[0].text == "hi (edited)"
    assert references("messages.delete", templates.deletion(templates.CONTACT, True, ID))[0].message_id == ID
    assert references("chats.delete", [templates.CONTACT])[0].chat == templates.CONTACT
    assert references("presence.update", templates.presence(templates.CONTACT, "composing"))[0].chat == templates.CONTACT
    # Foreign shapes never raise.
    assert references("messages.upsert", "text") == [] and references("messages.update", [1, None]) == []


def test_timeline_orders_by_time_then_by_the_life_and_layout() -> None:
    steps = [
        _step("messages.update", 5, "READ"),
        _step("messages.upsert", 1, "PENDING", layout=Layout.GLOBAL),
        _step("messages.update", 3, "DELIVERY_ACK"),
        _step("messages.update", 3, "SERVER_ACK"),
        _step("messages.upsert", 1, "PENDING"),
        _step("send.message", 1, "PENDING"),
    ]
    result = timeline(TraceQuery(ID), steps)
    assert [(s.label, s.layout) for s in result.steps] == [
        ("send.message", Layout.INSTANCE),
        ("messages.upsert", Layout.INSTANCE),
        ("messages.upsert", Layout.GLOBAL),
        ("messages.update SERVER_ACK", Layout.INSTANCE),
        ("messages.update DELIVERY_ACK", Layout.INSTANCE),
        ("messages.update READ", Layout.INSTANCE),
    ]
    assert result.gaps == () and result.found
    assert result.to_json()["steps"][0]["event"] == "send.message"


@pytest.mark.parametrize(
    ("life", "expected"),
    [
        ([_step("messages.update", 2, "READ")], [(GapKind.RECEIPT_WITHOUT_UPSERT, "READ without an upsert")]),
        ([_step("messages.upsert", 1, "PENDING")], [(GapKind.NEVER_ACKNOWLEDGED, "upsert never acknowledged")]),
        ([_step("messages.upsert", 1, from_me=False)], []),  # a contact's message gets no receipt of ours
        (
            [_step("messages.upsert", 1), _step("messages.update", 2, "READ")],
            [(GapKind.SKIPPED_RECEIPT, "READ without SERVER_ACK"), (GapKind.SKIPPED_RECEIPT, "READ without DELIVERY_ACK")],
        ),
        (
            [_step("messages.update", 1, "SERVER_ACK"), _step("messages.upsert", 2)],
            [(GapKind.RECEIPT_BEFORE_UPSERT, "SERVER_ACK before its upsert")],
        ),
        ([_step("messages.edited", 1)], [(GapKind.EDIT_WITHOUT_UPSERT, "edited without an upsert")]),
        ([_step("messages.delete", 1)], [(GapKind.DELETE_WITHOUT_UPSERT, "deleted without an upsert")]),
    ],
)
def test_gaps(life: list[FlowStep], expected: list[tuple[GapKind, str]]) -> None:
    assert [(g.kind, g.text.split(" (")[0]) for g in gaps(life)] == expected


def test_query_needs_one_target_and_moments_parse() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TraceQuery()
    with pytest.raises(ValueError, match="exactly one"):
        TraceQuery(ID, "x@s.whatsapp.net")
    assert TraceQuery(chat="x").events > TraceQuery(ID).events
    now = 1_700_000_000_000
    assert parse_moment("90s", now) == now - 90_000
    assert parse_moment("2h", now) == now - 7_200_000
    assert parse_moment("1d", now) == now - 86_400_000
    assert parse_moment("@5", now) == 5
    assert parse_moment("2024-03-04T11:10:00Z", now) == 1_709_550_600_000
    assert parse_moment("2024-03-04T11:10:00", now) == 1_709_550_600_000
    with pytest.raises(MomentError, match="bad time"):
        parse_moment("yesterday", now)


def test_a_burst_in_one_millisecond_keeps_the_lifes_order() -> None:
    # Published in the same millisecond: the receipts by their status, whichever event carries them.
    steps = [
        _step("messages.delete", 7),
        _step("messages.update", 7, "READ"),
        _step("send.message.update", 7, "DELIVERY_ACK"),
        _step("messages.edited", 7),
        _step("messages.update", 7, "DELIVERY_ACK"),
        _step("messages.update", 7, "SERVER_ACK"),
        _step("messages.upsert", 7, "PENDING"),
        _step("send.message", 7, "PENDING"),
    ]
    assert [s.label for s in timeline(TraceQuery(ID), steps).steps] == [
        "send.message",
        "messages.upsert",
        "messages.update SERVER_ACK",
        "messages.update DELIVERY_ACK",
        "send.message.update DELIVERY_ACK",
        "messages.update READ",
        "messages.edited",
        "messages.delete",
    ]
