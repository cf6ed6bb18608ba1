"""The instance x event matrix's counters: attribution by topic and key, rate, recency, rows."""

from __future__ import annotations

from tui.event_matrix import RATE_WINDOW_MS, Cell, EventMatrix, Recency, age_text, columns
from tui.records import Record
from tui.topology import Layout

NOW = 1_709_550_600_000


def rec(topic: str, at: int, key: bytes | None = b"k") -> Record:
    return Record(topic, 0, 0, at, 0, key, b"{}")


def test_records_are_placed_by_topic_and_global_key() -> None:
    matrix = EventMatrix("evolution")
    matrix.add([
        rec("evolution.acme.sales.messages.upsert", NOW),  # instance names may hold dots
        rec("evolution.global.messages.upsert", NOW, b"shop-messages.upsert"),
        rec("evolution.global.messages.upsert", NOW, b"messages.upsert"),  # no instance in the key
        rec("evolution.global.messages.upsert", NOW, b"shop-connection.update"),  # another event's key
        rec("other.acme.messages.upsert", NOW),
    ])
    assert matrix.rows(Layout.INSTANCE) == ["acme.sales"]
    assert matrix.rows(Layout.GLOBAL) == ["shop"]
    cell = matrix.cell(Layout.GLOBAL, "shop", "messages.upsert")
    assert cell is not None and cell.count == 1
    assert matrix.cell(Layout.INSTANCE, "shop", "messages.upsert") is None
    assert matrix.ignored == 3
    assert matrix.total(Layout.INSTANCE) == 1


def test_rate_and_recency_follow_the_clock() -> None:
    cell = Cell()
    assert cell.recency(NOW) is Recency.NEVER and cell.text(NOW) == "·"
    start = NOW - NOW % RATE_WINDOW_MS
    for n in range(30):
        cell.add(start + n * 1000)  # one a second
    now = start + 30_000
    assert 0.9 <= cell.rate(now) <= 1.1
    assert cell.recency(now) is Recency.NOW
    assert cell.recency(now + 60_000) is Recency.RECENT
    assert cell.recency(now + 3_600_000) is Recency.STALE
    assert cell.rate(now + 10 * RATE_WINDOW_MS) == 0.0
    assert cell.text(now).endswith(" 1s")


def test_thousand_instances_cost_only_their_cells() -> None:
    matrix = EventMatrix("evolution")
    matrix.add(rec(f"evolution.i{n:04d}.connection.update", NOW) for n in range(1000))
    matrix.seed(Layout.INSTANCE, ["zeta"])
    assert len(matrix.rows(Layout.INSTANCE)) == 1001 and matrix.rows(Layout.INSTANCE)[-1] == "zeta"
    assert len(matrix.cells) == 1000


def test_columns_are_every_event_grouped_by_category() -> None:
    cols = columns()
    assert len(cols) == len({c.wire for c in cols})
    seen: list[object] = []
    for event in cols:
        if not seen or seen[-1] != event.category:
            assert event.category not in seen  # each category in one block
            seen.append(event.category)


def test_age_text_fits_a_cell() -> None:
    assert [age_text(s) for s in (3, 125, 7200, 400_000)] == ["3s", "2m", "2h", "5d"]


def test_cell_text_is_short() -> None:
    cell = Cell()
    start = NOW - NOW % RATE_WINDOW_MS
    cell.add(start)
    assert cell.text(start + RATE_WINDOW_MS + 1000) == "<.1/s 31s"
    for n in range(600):
        cell.add(start + n)
    assert len(cell.text(start + 1000)) <= 9
