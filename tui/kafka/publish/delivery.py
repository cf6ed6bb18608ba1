"""What the event publisher reports: its connection state and counters, and what became of each record.

:class:`PublisherStatus` is the snapshot observers get; :class:`PublishTicket` is what
:meth:`~tui.kafka.publish.publisher.EventPublisher.publish` returns at once, resolving to one :class:`Delivery` per
target when each record is acknowledged or finally failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui import topology
from tui.status import Delivery

if TYPE_CHECKING:
    from tui.kafka.publish.records import OutboundRecord


class PublishTicket:
    """Returned by :meth:`EventPublisher.publish` at once; the records are in flight."""

    # A caller may hold tens of thousands of tickets: each is one small object holding its records directly
    # (no list for the usual single target), which keeps the garbage collector's full passes rare.
    __slots__ = ("_first", "_rest", "route")

    def __init__(self, route: topology.Route, records: Sequence[OutboundRecord]) -> None:
        self.route = route
        """Where the event goes and why (no targets: nothing was sent)."""
        self._first: OutboundRecord | None = records[0] if records else None
        self._rest: tuple[OutboundRecord, ...] = tuple(records[1:]) if len(records) > 1 else ()

    @property
    def _records(self) -> tuple[OutboundRecord, ...]:
        return () if self._first is None else (self._first, *self._rest)

    @property
    def done(self) -> bool:
        """Whether every record has settled."""
        return all(r.settled for r in self._records)

    async def wait(self) -> list[Delivery]:
        """One :class:`Delivery` per target, after its acknowledgement or final failure."""
        for record in self._records:
            if not record.settled:
                # Made only for a record someone waits on, and one per wait: cancelling one waiter (its own
                # future) leaves the record and every other waiter alone.
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                if record.waiters is None:
                    record.waiters = [waiter]
                else:
                    record.waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if record.waiters is not None and waiter in record.waiters:
                        record.waiters.remove(waiter)
        return [r.delivery() for r in self._records]


