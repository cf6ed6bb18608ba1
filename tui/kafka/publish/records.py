"""The event publisher's records on their way, their counters, and how a failed attempt is read.

:class:`OutboundRecord` is one record (queued, in flight, waiting for another attempt, or settled);
:class:`Lane` a route's target as the pump needs it; :class:`Counters` the publisher's record counters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui import topology
from tui.status import Delivery


class Lane:
    """A route's target with what the pump needs of it, made once per cached route (not per record)."""

    __slots__ = ("key", "name", "target")

    def __init__(self, target: topology.Target) -> None:
        self.target = target
        self.name = (target.topic, target.key)
        """Records of one lane (topic and key) go to one partition and are acknowledged in hand-over order."""
        self.key = target.key.encode()


class OutboundRecord:
    """One record on its way: queued, in flight, waiting for another attempt, or settled.

    The outcome is kept as plain fields; the :class:`~tui.kafka.publish.delivery.Delivery` is made only when a ticket
    is read.
    """

    __slots__ = (
        "attempts",
        "error",
        "headers",
        "key",
        "lane",
        "offset",
        "partition",
        "seq",
        "settled",
        "target",
        "uncertain",
        "value",
        "waiters",
    )

    def __init__(self, seq: int, lane: Lane, value: bytes, headers: tuple[tuple[str, bytes], ...]) -> None:
        self.seq = seq
        self.target = lane.target
        self.lane = lane.name
        self.key = lane.key
        self.value = value
        self.headers = headers
        self.attempts = 0
        self.uncertain = False
        """An attempt's outcome is unknown (it may have been written): sending it again may duplicate it."""
        self.settled = False
        self.partition: int | None = None
        self.offset: int | None = None
        self.error: str | None = None
        self.waiters: list[asyncio.Future[None]] | None = None

    def delivery(self) -> Delivery:
        """What became of the record, for its ticket."""
        return Delivery(self.target.topic, self.target.key, self.partition, self.offset, self.error)

    def wake_waiters(self) -> None:
        """Resolve everyone waiting on this record (it has settled)."""
        waiters, self.waiters = self.waiters, None
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


@dataclass(slots=True)
class Counters:
    """The publisher's record counters (see :class:`~tui.kafka.publish.delivery.PublisherStatus`)."""

    sent: int = 0
    acknowledged: int = 0
    retried: int = 0
    failed: int = 0
    resent: int = 0
    """Records acknowledged after an attempt whose outcome was unknown (no answer, a stall, a broken link): sent
    again by evokafka or by the Kafka client itself, each may be in the topic twice. Counted once each."""


def outcome_unknown(exc: BaseException) -> bool:
    """A failure of a batch that was sent: it may have been written (no answer, or the link broke)."""
    # Imported here (an error of a sent batch means aiokafka is loaded): importing the publisher does not.
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, ProducerClosed, RequestTimedOutError

    return isinstance(
        exc, KafkaTimeoutError | TimeoutError | OSError | ProducerClosed | KafkaConnectionError | RequestTimedOutError
    )


def retriable(exc: BaseException) -> bool:
    """A failure of the link (worth another attempt), not of the record itself."""
    from aiokafka.errors import KafkaTimeoutError, ProducerClosed

    if isinstance(exc, KafkaTimeoutError | TimeoutError | OSError | ProducerClosed):
        return True
    return bool(getattr(exc, "retriable", False))


MAX_REQUEST_BYTES = 1024 * 1024
"""aiokafka's ``max_request_size`` (its default): a record larger than this is refused before sending."""


def by_seq(record: OutboundRecord) -> int:
    """Hand-over order."""
    return record.seq


def too_large(record: OutboundRecord) -> str | None:
    """Why ``record`` cannot be sent (larger than a request may be), or None."""
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(record.key, record.value, list(record.headers))
    if size <= MAX_REQUEST_BYTES:
        return None
    return (
        f"MessageSizeTooLargeError: the record is {size} bytes when serialized, larger than the "
        f"{MAX_REQUEST_BYTES}-byte maximum request size"
    )
