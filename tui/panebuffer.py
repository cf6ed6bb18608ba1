"""The bounded buffer behind a stream pane, with the counters the pane shows.

Records arrive in batches at any rate; the buffer keeps the newest ``capacity`` of those that matched the
pane's filters, and, given a byte budget, no more of them than fit in ``max_bytes`` (5,000 records of 1 MB would
otherwise be 5 GB): the oldest fall out first, whichever bound they meet. Nothing leaves silently: every matched record is either still in the buffer or counted in
``dropped``. The pane renders at a bounded frame rate: each frame calls :meth:`PaneBuffer.frame`, which counts
the records that reached the screen (``displayed``) and those that fell out before any frame showed them.

Counters (``matched == len(buffer) + dropped`` always holds):

- ``received``: records read for the pane's subscription;
- ``matched``: records that passed the filters and entered the buffer;
- ``displayed``: matched records shown by at least one frame;
- ``dropped``: records that fell out of the buffer (``dropped_unseen`` of them were never shown), by count or by
  bytes; a record larger than the whole budget is counted dropped at once.

Rates (received/s, displayed/s) come from a sliding window over an injectable clock, so tests are exact.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class PaneCounters:
    """A snapshot of a pane's counters and rates."""

    received: int
    matched: int
    displayed: int
    dropped: int
    dropped_unseen: int
    buffered: int
    capacity: int
    buffered_bytes: int
    """Bytes the buffered records weigh (0 without a byte budget)."""
    max_bytes: int | None
    """The byte budget, or None."""
    received_rate: float
    """Records received per second over the rate window."""
    displayed_rate: float
    """Records displayed per second over the rate window."""

    def describe(self) -> str:
        """One status line: rates, totals and drops."""
        line = (
            f"{self.received_rate:,.0f} rx/s  {self.displayed_rate:,.0f} shown/s  "
            f"rx {self.received:,}  match {self.matched:,}  shown {self.displayed:,}  "
            f"buf {self.buffered:,}/{self.capacity:,}"
        )
        if self.max_bytes is not None and self.buffered_bytes * 2 > self.max_bytes:
            line += f" {self.buffered_bytes / 2**20:,.0f}/{self.max_bytes / 2**20:,.0f} MiB"
        if self.dropped:
            line += f"  dropped {self.dropped:,}"
            if self.dropped_unseen:
                line += f" ({self.dropped_unseen:,} unseen)"
        return line


class PaneBuffer(Generic[T]):
    """The newest ``capacity`` matched records of a pane, and its counters."""

    def __init__(
        self,
        capacity: int,
        *,
        clock: Clock = time.monotonic,
        rate_window: float = 2.0,
        max_bytes: int | None = None,
        size: Callable[[T], int] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("a pane buffer holds at least one record")
        if max_bytes is not None and size is None:
            raise ValueError("a byte budget needs the size of a record")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("a byte budget is at least one byte")
        self.capacity = capacity
        self.max_bytes = max_bytes
        """At most this many bytes of records (as ``size`` weighs them) are held, or None: only ``capacity``."""
        self._size = size if max_bytes is not None else None
        self._sizes: deque[int] = deque()
        """The size of each buffered record, oldest first (kept only with a byte budget)."""
        self.bytes = 0
        """What the buffered records weigh (0 without a byte budget)."""
        self._clock = clock
        self._window = rate_window
        self._items: deque[T] = deque(maxlen=capacity)
        self.received = 0
        self.matched = 0
        self.displayed = 0
        self.dropped = 0
        self.dropped_unseen = 0
        self._unseen = 0
        """Records in the buffer that no frame has shown yet (always the newest ones)."""
        self.version = 0
        """Bumped whenever the contents change: a frame renders only when it moved."""
        self._samples: deque[tuple[float, int, int]] = deque([(clock(), 0, 0)])

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __getitem__(self, index: int) -> T:
        return self._items[index]

    @property
    def pending(self) -> int:
        """Matched records in the buffer that no frame has shown yet."""
        return self._unseen

    def add(self, received: int, matched: Iterable[T]) -> int:
        """Count ``received`` records read, keep the ``matched`` ones; returns how many fell out."""
        self.received += received
        batch = matched if isinstance(matched, list) else list(matched)
        count = len(batch)
        fell = 0
        if count:
            before = len(self._items)
            # The buffer is a deque(maxlen=capacity): extend drops the oldest in C; the counts are arithmetic.
            self._items.extend(batch)
            fell = before + count - len(self._items)
            if self._size is not None:
                fell += self._fit(batch)
            self.matched += count
            self._unseen += count
            if self._unseen > len(self._items):
                # Records leave oldest first; those beyond what the buffer holds were never shown.
                lost = self._unseen - len(self._items)
                self._unseen -= lost
                self.dropped_unseen += lost
            self.dropped += fell
        if received or fell or self._unseen:
            self.version += 1
        return fell

    def _fit(self, batch: list[T]) -> int:
        """Weigh ``batch`` (already in the deque), let the oldest go beyond the budget; how many went by bytes."""
        assert self._size is not None and self.max_bytes is not None
        sizes = self._sizes
        weights = list(map(self._size, batch))
        sizes.extend(weights)
        self.bytes += sum(weights)
        while len(sizes) > len(self._items):  # those the count bound already let go
            self.bytes -= sizes.popleft()
        fell = 0
        while self.bytes > self.max_bytes and self._items:
            self._items.popleft()
            self.bytes -= sizes.popleft()
            fell += 1
        return fell

    def frame(self) -> int:
        """A frame showed the buffer as it is now: returns how many records it showed for the first time."""
        shown, self._unseen = self._unseen, 0
        self.displayed += shown
        self._sample()
        return shown

    def clear(self) -> int:
        """Empty the buffer (the operator asked); cleared records count as dropped. Returns how many."""
        gone = len(self._items)
        self.dropped += gone
        self.dropped_unseen += self._unseen
        self._unseen = 0
        self._items.clear()
        self._sizes.clear()
        self.bytes = 0
        self.version += 1
        return gone

    def newest(self, count: int) -> list[T]:
        """The newest ``count`` buffered records, oldest first (a copy; walks from the new end only)."""
        items = self._items
        count = min(count, len(items))
        if count <= 0:
            return []
        if count == len(items):
            return list(items)
        out = [items[-1 - n] for n in range(count)] if count < 64 else list(items)[-count:]
        if count < 64:
            out.reverse()
        return out

    @property
    def oldest_seq(self) -> int:
        """The sequence number of the oldest buffered record (records are numbered 0, 1, … as they match)."""
        return self.matched - len(self._items)

    def snapshot(self) -> list[T]:
        """The buffered records, oldest first (a copy)."""
        return list(self._items)

    def _sample(self) -> None:
        now = self._clock()
        self._samples.append((now, self.received, self.displayed))
        # Keep one sample older than the window so the rate spans the whole window.
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()

    def counters(self) -> PaneCounters:
        """The counters now, with the rates over the last window."""
        now = self._clock()
        rx_rate = shown_rate = 0.0
        first = self._samples[0]
        span = now - first[0]
        if span > 0:
            rx_rate = (self.received - first[1]) / span
            shown_rate = (self.displayed - first[2]) / span
        return PaneCounters(
            received=self.received,
            matched=self.matched,
            displayed=self.displayed,
            dropped=self.dropped,
            dropped_unseen=self.dropped_unseen,
            buffered=len(self._items),
            capacity=self.capacity,
            buffered_bytes=self.bytes,
            max_bytes=self.max_bytes,
            received_rate=rx_rate,
            displayed_rate=shown_rate,
        )
