"""The instance x event matrix: per (layout, instance, event) how many records came, how fast, and when the last.

What the console's matrix screen draws: instances as rows, events (grouped by category) as columns, one
:class:`Cell` per pair that has seen a record. Records are attributed from their topic (a per-instance topic names
both) or, on a global topic, from the key ``<instance>-<event>``. Only cells that saw a record are stored, so a
thousand instances cost what their traffic costs, not instances x events.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from tui import catalog
from tui.records import Record
from tui.topology import Layout, parse_topic

RATE_WINDOW_MS = 30_000
"""The rate is the records of the last one or two windows of this length, per second."""


class Recency(StrEnum):
    """How recent a cell's last record is: the colour it is drawn in."""

    NOW = "now"
    """Within :data:`FRESH_S`."""
    RECENT = "recent"
    """Within :data:`RECENT_S`."""
    STALE = "stale"
    NEVER = "never"


FRESH_S = 10.0
RECENT_S = 300.0


@dataclass(slots=True)
class Cell:
    """One instance and event in one layout: records counted, the newest time, and a windowed rate."""

    count: int = 0
    last_ms: int = 0
    window_start: int = 0
    window_count: int = 0
    previous_count: int = 0

    def add(self, at_ms: int) -> None:
        """Count one record stamped ``at_ms``."""
        if self.count == 0:
            self.window_start = at_ms - at_ms % RATE_WINDOW_MS
        elif at_ms >= self.window_start + RATE_WINDOW_MS:
            # The previous window counts only when it directly precedes the new one.
            steps = (at_ms - self.window_start) // RATE_WINDOW_MS
            self.previous_count = self.window_count if steps == 1 else 0
            self.window_start += steps * RATE_WINDOW_MS
            self.window_count = 0
        self.count += 1
        self.last_ms = max(self.last_ms, at_ms)
        self.window_count += 1

    def rate(self, now_ms: int) -> float:
        """Records per second over the current and previous windows as of ``now_ms`` (0 when idle)."""
        if self.count == 0:
            return 0.0
        age = now_ms - self.window_start
        if age >= 2 * RATE_WINDOW_MS:
            return 0.0
        if age >= RATE_WINDOW_MS:
            return self.window_count / (RATE_WINDOW_MS / 1000)
        span = max(age, 1000) + (RATE_WINDOW_MS if self.previous_count else 0)
        return (self.window_count + self.previous_count) / (span / 1000)

    def recency(self, now_ms: int) -> Recency:
        """How recent the last record is."""
        if self.count == 0:
            return Recency.NEVER
        age = (now_ms - self.last_ms) / 1000
        if age <= FRESH_S:
            return Recency.NOW
        return Recency.RECENT if age <= RECENT_S else Recency.STALE

    def text(self, now_ms: int) -> str:
        """``2.4/s 3s`` — the rate and the time since the last record, short enough for a cell."""
        if self.count == 0:
            return "·"
        rate = self.rate(now_ms)
        if rate == 0:
            shown = "0/s"
        elif rate < 0.05:
            shown = "<.1/s"
        else:
            shown = f"{rate:.1f}/s" if rate < 10 else f"{rate:.0f}/s"
        return f"{shown} {age_text((now_ms - self.last_ms) / 1000)}"


def age_text(seconds: float) -> str:
    """``3s``, ``12m``, ``5h``, ``2d``: at most four characters."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def columns() -> list[catalog.Event]:
    """The matrix's columns: every event, grouped by category in catalog order."""
    return [event for events in catalog.by_category().values() for event in events]


@dataclass
class EventMatrix:
    """Cells per layout, instance and event, fed record by record (:meth:`add`)."""

    prefix: str
    cells: dict[tuple[Layout, str, str], Cell] = field(default_factory=dict)
    instances: dict[Layout, set[str]] = field(default_factory=lambda: {Layout.INSTANCE: set(), Layout.GLOBAL: set()})
    ignored: int = 0
    """Records that name no instance and event (foreign topics, global keys of another shape)."""
    _sorted: dict[Layout, list[str]] = field(default_factory=dict, repr=False)

    def place(self, record: Record) -> tuple[Layout, str, str] | None:
        """The (layout, instance, event wire name) a record counts for, or None."""
        ref = parse_topic(record.topic, self.prefix)
        if ref is None:
            return None
        if ref.layout is Layout.INSTANCE:
            return (Layout.INSTANCE, ref.instance or "", ref.event.wire) if ref.instance else None
        key = record.key_text or ""
        tail = "-" + ref.event.wire
        if not key.endswith(tail) or len(key) == len(tail):
            return None
        return Layout.GLOBAL, key[: -len(tail)], ref.event.wire

    def add(self, records: Iterable[Record]) -> None:
        """Count a batch of records (by the broker's timestamp)."""
        for record in records:
            where = self.place(record)
            if where is None:
                self.ignored += 1
                continue
            cell = self.cells.get(where)
            if cell is None:
                cell = self.cells[where] = Cell()
                layout, instance, _ = where
                if instance not in self.instances[layout]:
                    self.instances[layout].add(instance)
                    self._sorted.pop(layout, None)
            cell.add(record.timestamp)

    def seed(self, layout: Layout, names: Iterable[str]) -> None:
        """Show rows for instances known from elsewhere (the registry) before any record of theirs arrives."""
        new = set(names) - self.instances[layout]
        if new:
            self.instances[layout] |= new
            self._sorted.pop(layout, None)

    def rows(self, layout: Layout) -> list[str]:
        """The instances of ``layout``, sorted."""
        found = self._sorted.get(layout)
        if found is None:
            found = self._sorted[layout] = sorted(self.instances[layout])
        return found

    def cell(self, layout: Layout, instance: str, event: str) -> Cell | None:
        """The cell of one instance and event, or None when it saw nothing."""
        return self.cells.get((layout, instance, event))

    def total(self, layout: Layout) -> int:
        """Records counted in ``layout``."""
        return sum(c.count for (lay, _, _), c in self.cells.items() if lay is layout)
