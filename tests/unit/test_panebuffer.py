"""The pane buffer: bounded, counters that always add up, rates from an injected clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.panebuffer import PaneBuffer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_keeps_the_newest_and_counts_what_fell_out() -> None:
    buf: PaneBuffer[int] = PaneBuffer(3, clock=FakeClock())
    assert buf.add(5, [1, 2]) == 0
    assert buf.add(4, [3, 4, 5]) == 2
    assert buf.snapshot() == [3, 4, 5]
    c = buf.counters()
    assert (c.received, c.matched, c.buffered, c.dropped, c.dropped_unseen, c.displayed) == (9, 5, 3, 2, 2, 0)


def test_frames_count_displayed_once() -> None:
    buf: PaneBuffer[int] = PaneBuffer(10, clock=FakeClock())
    buf.add(3, [1, 2, 3])
    assert buf.pending == 3
    assert buf.frame() == 3
    assert buf.frame() == 0
    buf.add(1, [4])
    assert buf.frame() == 1
    assert buf.counters().displayed == 4


def test_seen_records_falling_out_are_not_unseen() -> None:
    buf: PaneBuffer[int] = PaneBuffer(2, clock=FakeClock())
    buf.add(2, [1, 2])
    buf.frame()
    buf.add(1, [3])  # 1 falls out, it had been shown
    assert (buf.dropped, buf.dropped_unseen) == (1, 0)
    buf.add(3, [4, 5, 6])  # 2, 3 and 4 fall out; 3 and 4 were never shown
    assert (buf.dropped, buf.dropped_unseen) == (4, 2)
    assert buf.frame() == 2


def test_clear_counts_as_dropped() -> None:
    buf: PaneBuffer[int] = PaneBuffer(5, clock=FakeClock())
    buf.add(3, [1, 2, 3])
    v = buf.version
    assert buf.clear() == 3 and len(buf) == 0 and buf.version > v
    assert buf.matched == len(buf) + buf.dropped


def test_rates_over_the_window() -> None:
    clock = FakeClock()
    buf: PaneBuffer[int] = PaneBuffer(1000, clock=clock, rate_window=2.0)
    for _ in range(10):  # 10 frames, 0.5 s apart, 100 records each
        clock.now += 0.5
        buf.add(100, range(50))
        buf.frame()
    c = buf.counters()
    assert c.received_rate == pytest.approx(200.0)
    assert c.displayed_rate == pytest.approx(100.0)
    assert "200 rx/s" in c.describe() and "100 shown/s" in c.describe()


def test_rates_fall_to_zero_when_idle() -> None:
    clock = FakeClock()
    buf: PaneBuffer[int] = PaneBuffer(10, clock=clock, rate_window=1.0)
    buf.add(10, [])
    clock.now += 1
    buf.frame()
    for _ in range(4):
        clock.now += 0.5
        buf.frame()
    assert buf.counters().received_rate == 0


def test_describe_mentions_drops() -> None:
    buf: PaneBuffer[int] = PaneBuffer(1, clock=FakeClock())
    buf.add(2, [1, 2])
    assert "dropped 1 (1 unseen)" in buf.counters().describe()


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PaneBuffer(0)


@given(
    capacity=st.integers(1, 20),
    steps=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.booleans(), st.booleans()), max_size=40),
)
def test_counters_always_add_up(capacity: int, steps: list[tuple[int, int, bool, bool]]) -> None:
    buf: PaneBuffer[int] = PaneBuffer(capacity, clock=FakeClock())
    for extra, count, frame, clear in steps:
        buf.add(count + extra, range(count))
        if frame:
            buf.frame()
        if clear:
            buf.clear()
        assert len(buf) <= capacity
        assert buf.matched == len(buf) + buf.dropped
        assert buf.displayed + buf.dropped_unseen + buf.pending == buf.matched
        assert buf.received >= buf.matched


def test_byte_budget_lets_the_oldest_go_and_counts_them() -> None:
    buf: PaneBuffer[bytes] = PaneBuffer(100, clock=FakeClock(), max_bytes=10, size=len)
    assert buf.add(3, [b"aaaa", b"bbbb", b"cc"]) == 0 and buf.bytes == 10
    assert buf.add(1, [b"ddd"]) == 1  # 13 bytes: the oldest goes
    assert buf.snapshot() == [b"bbbb", b"cc", b"ddd"] and buf.bytes == 9
    assert buf.add(1, [b"x" * 11]) == 4  # larger than the whole budget: nothing of it can stay
    assert len(buf) == 0 and buf.bytes == 0
    counters = buf.counters()
    assert counters.matched == len(buf) + counters.dropped == 5 and counters.dropped_unseen == 5


def test_count_and_bytes_bound_together() -> None:
    buf: PaneBuffer[bytes] = PaneBuffer(3, clock=FakeClock(), max_bytes=1000, size=len)
    buf.add(5, [b"a", b"b", b"c", b"d", b"e"])
    assert buf.snapshot() == [b"c", b"d", b"e"] and buf.bytes == 3 and buf.dropped == 2
    buf.add(1, [b"f" * 999])  # 1,002 bytes: the two oldest go, the budget is met exactly
    assert buf.snapshot() == [b"e", b"f" * 999] and buf.bytes == 1000 and buf.dropped == 4
    buf.clear()
    assert buf.bytes == 0 and buf.dropped == 6


def test_a_byte_budget_needs_a_size() -> None:
    with pytest.raises(ValueError, match="size"):
        PaneBuffer(10, max_bytes=100)
