"""A stream pane's row as drawn: the width goes to the summary, long names give way to the text, nothing is
decoded before it is drawn or searched. Pure functions: no app, no broker."""

from __future__ import annotations

from typing import Any

import pytest

from tui import catalog
from tui.address_book import AddressBook
from tui.console.widgets.stream_rows import (
    BatchRows,
    Columns,
    StreamRow,
    TopicNames,
    row_segments,
    short_event,
    where_parts,
)
from tui.envelope import build
from tui.panebuffer import PaneBuffer
from tui.records import HEADER_OVERHEAD, RECORD_OVERHEAD, Record
from tui.selection import parse_position

SOPHIE = "5511987654321@s.whatsapp.net"
GROUP = "120363025555555555@g.us"


def _row(event: str, data: Any, *, topic: str = "evolution.acme-sales.messages.upsert") -> StreamRow:
    env = build(catalog.lookup(event), "acme-sales", data)
    return StreamRow(Record(topic, 0, 7, 1_709_550_600_000, 0, b"acme-sales", env.encode(), list(env.headers)))


def _line(row: StreamRow, width: int, names: AddressBook | None = None) -> str:
    segments = row_segments(row, Columns.for_width(width), TopicNames("evolution"), width, names=names)
    return "".join(segment.text for segment in segments)[:width]


@pytest.mark.parametrize("width", [78, 100, 118, 158])
def test_the_summary_gets_the_width(width: int) -> None:
    columns = Columns.for_width(width)
    used = len(columns.header()) - len("summary")
    assert width - used >= 45  # an 80-column terminal's pane (78 inside its border) keeps 46 for the summary


def test_twenty_characters_of_text_survive_any_name() -> None:
    book = AddressBook()
    book.remember(GROUP, "A group with a very long subject indeed, longer than a row")
    text = "Oi, tudo bem? Queria saber do meu pedido"
    row = _row("messages.upsert", {"key": {"remoteJid": GROUP, "participant": SOPHIE},
                                   "pushName": "Sophie Turner-Montgomery", "message": {"conversation": text}})
    line = _line(row, 78, book)
    assert text[:20] in line and "Sophie Turner-Montgom…: " in line  # the name gives way, with an ellipsis


def test_where_collapses_to_instance_and_event() -> None:
    assert where_parts("acme-sales", "messages.upsert", 30) == ("acme-sales", " · ", "messages.upsert")
    assert where_parts("acme-sales", "messages.upsert", 23) == ("acme-sales", " · ", "msg.upsert")
    assert where_parts("acme-sales", "messages.upsert", 22) == ("acme-sales", "·", "msg.upsert")
    assert where_parts("globex_helpdesk", "messages.upsert", 22) == ("globex_hel…", "·", "msg.upsert")
    assert where_parts("a-very-long-instance-name", "group-participants.update", 22) == (
        "a-very-l…", "·", "participants")
    assert short_event("send.message.update") == "sent.update" and short_event("call") == "call"
    global_row = _row("call", {"from": SOPHIE, "status": "offer"}, topic="evolution.global.call")
    segments = row_segments(global_row, Columns.for_width(78), TopicNames("evolution"), 78)
    line = "".join(segment.text for segment in segments)
    assert "acme-sales · call" in line and "call offer from +5511987654321" in line
    instance = next(segment for segment in segments if segment.text == "acme-sales")
    assert instance.style is not None and instance.style.color is not None and instance.style.color.name == "magenta"


def test_rows_are_decoded_when_drawn_only_and_redrawn_when_names_arrive() -> None:
    book = AddressBook()
    row = _row("messages.upsert", {"key": {"remoteJid": SOPHIE}, "message": {"conversation": "Oi"}})
    assert not row.drawn
    assert "+5511987654321: Oi" in _line(row, 78, book)
    book.remember(SOPHIE, "Sophie Turner")
    assert "Sophie Turner: Oi" in _line(row, 78, book)


def test_panes_given_the_same_batch_share_its_rows() -> None:
    rows, names = BatchRows(), AddressBook()
    batch = [_row("MESSAGES_UPSERT", {"n": n}).record for n in range(3)]
    first = rows.rows(batch, names)
    assert [row.record for row in first] == batch
    assert rows.rows(batch, names) is first  # the next pane reading the same batch
    assert rows.rows(list(batch), names) is not first  # another batch (a pane reading on its own)
    assert rows.rows(batch, AddressBook()) is not first  # rows name people from their own book


def test_a_filtered_pane_makes_rows_for_its_matches_only_and_shares_them() -> None:
    names = AddressBook()
    batch = [_row("MESSAGES_UPSERT", {"n": n}).record for n in range(5)]
    rows = BatchRows()
    picked = rows.pick(batch, names, [1, 3])
    assert [row.record for row in picked] == [batch[1], batch[3]]
    assert rows.pick(batch, names, [3, 4])[0] is picked[1]  # a second filtered pane on the batch
    every = rows.rows(batch, names)  # then a pane without a filter: the rows made so far are its rows too
    assert [row.record for row in every] == batch
    assert every[1] is picked[0] and every[3] is picked[1]
    assert rows.pick(batch, names, [0, 3]) == [every[0], every[3]]
    assert rows.pick(list(batch), names, [3])[0] is not every[3]  # another batch
    # And the other way round: rows made for every record first are the ones picked.
    rows = BatchRows()
    every = rows.rows(batch, names)
    assert rows.pick(batch, names, [2]) == [every[2]]


def test_a_row_weighs_its_record_once() -> None:
    record = Record("t", 0, 1, 0, 0, b"key", b"v" * 1000, [("event", b"messages.upsert"), ("empty", None)])
    expected = RECORD_OVERHEAD + 3 + 1000 + 2 * HEADER_OVERHEAD + len("event") + len(b"messages.upsert") + len("empty")
    assert record.nbytes == expected
    assert Record("t", 0, 1, 0, 0, None, None, [("a", b"bc")]).nbytes == RECORD_OVERHEAD + HEADER_OVERHEAD + 3
    row = StreamRow(record)
    assert row.nbytes == expected
    record.value = b""  # never done to a record: shows that the row kept its weight
    assert row.nbytes == expected


def test_buffer_newest_and_sequence_numbers() -> None:
    buffer: PaneBuffer[int] = PaneBuffer(5)
    buffer.add(7, list(range(7)))
    assert buffer.oldest_seq == 2 and buffer.newest(2) == [5, 6] and buffer.newest(99) == [2, 3, 4, 5, 6]
    assert buffer.newest(0) == []
    buffer.clear()
    assert buffer.oldest_seq == 7 and buffer.newest(3) == []


def test_jump_positions() -> None:
    assert parse_position(" 2/1234 ") == (2, 1234)
    assert parse_position("99") == (None, 99)
    for bad in ("", "x", "1/", "-3", "2/-1", "a/b"):
        with pytest.raises(ValueError, match="not a partition/offset"):
            parse_position(bad)


async def test_narrowing_a_full_buffer_is_spread_over_frames() -> None:
    from tests.ui.conftest import still_panes
    from tests.ui.test_reading_snapshots import conversation
    from tui.console.widgets.stream_table import SCAN_PER_FRAME

    async with still_panes("p", size=(80, 24)) as (pilot, _screen, (pane,)):
        records = conversation() * 250  # 3,000 rows, none drawn yet
        pane.ingest(records)
        pane.draw_frame()
        table = pane.table
        pane.narrow("sophie")
        # The first frame tests the newest SCAN_PER_FRAME rows only; the rest follow, newest first.
        assert table.scanning and table.row_count < len(records) // 2
        assert sum(row.drawn for row in pane.buffer.snapshot()) <= 2 * SCAN_PER_FRAME + 40  # narrow, its frame
        frames = 0
        while table.scanning:
            pane.draw_frame()
            frames += 1
            assert frames < 20
        assert frames >= len(records) // SCAN_PER_FRAME - 1
        shown = table.rows()
        expected = [row for row in pane.buffer.snapshot() if "sophie" in row.look.text().casefold()]
        assert shown == expected and table.cursor == len(shown) - 1  # in order, still following
        await pilot.pause()
