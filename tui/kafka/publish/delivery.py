"""What the event publisher reports: its connection state and counters, and what became of each record.

:class:`PublisherStatus` is the snapshot observers get; :class:`PublishTicket` is what
:meth:`~tui.kafka.publish.publisher.EventPublisher.publish` returns at once, resolving to one :class:`Delivery` per
target when each record is acknowledged or finally failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from tui import topology

if TYPE_CHECKING:
    from tui.kafka.publish.outbox import OutboundRecord


class PublisherState(StrEnum):
    """Where the publisher's connection stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class PublisherStatus:
    """A snapshot of the publisher: connection state, reconnect schedule, counters, idempotence."""

    state: PublisherState
    attempt: int
    """Reconnect attempt n (0 when not reconnecting)."""
    max_attempts: int
    """N = ``KAFKA_RECONNECT_MAX_ATTEMPTS``."""
    delay_ms: int
    """The current backoff delay (0 when none)."""
    next_try_at: float | None
    """``time.time()`` of the next attempt, for a live countdown (None while trying or not reconnecting)."""
    last_error: str | None
    sent: int
    """Records handed over to the publisher."""
    acknowledged: int
    retried: int
    """Attempts after the first (a record sent three times counts two)."""
    failed: int
    """Records reported failed (with their error); never silently dropped."""
    idempotence: bool | None
    """None: not known yet; False: the broker refused it, carrying on with acks=all and one in flight."""

    @property
    def in_flight(self) -> int:
        """Records handed over and not settled yet."""
        return self.sent - self.acknowledged - self.failed

    def describe(self) -> str:
        """One loggable line."""
        if self.state is PublisherState.RECONNECTING:
            head = f"reconnecting: attempt {self.attempt}/{self.max_attempts}, delay {self.delay_ms} ms"
            if self.next_try_at is not None:
                head += f", next try in {max(0.0, self.next_try_at - time.time()):.1f}s"
            else:
                head += ", trying now"
        elif self.state is PublisherState.FAILED:
            head = f"failed after {self.max_attempts} reconnect attempts; retry to reconnect"
        else:
            head = self.state.value
        if self.last_error and self.state is not PublisherState.CONNECTED:
            head += f" (last error: {self.last_error})"
        idem = {
            None: "idempotence unknown",
            True: "idempotence on",
            False: "idempotence OFF (refused by the broker; acks=all, 1 request in flight)",
        }[self.idempotence]
        return (
            f"{head}; sent {self.sent}, acknowledged {self.acknowledged}, retried {self.retried}, "
            f"failed {self.failed}, in flight {self.in_flight}; {idem}"
        )


@dataclass(frozen=True)
class Delivery:
    """What became of one record: where it was written, or why it was not."""

    topic: str
    key: str
    partition: int | None
    offset: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Acknowledged by the broker."""
        return self.error is None


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


