"""The event publisher's connection: an admin client and a producer, idempotent when the broker allows it.

``acks=all``, one request in flight per broker connection, idempotence *requested*; a broker that refuses it
(Tansu does, for aiokafka) gets a producer without it, and the publisher's status says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from tui.failures import reason
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

log = logging.getLogger("tui.kafka.publish.publisher")

class ProducerLink(Protocol):
    """What the outbox needs of the publisher's connection."""

    def sending_producer(self) -> AIOKafkaProducer | None:
        """The producer while connected and not lost; None while nothing may be handed over."""

    def current_producer(self) -> AIOKafkaProducer | None:
        """The producer of the current connection, whatever its state."""

    def current_admin(self) -> Admin | None:
        """The admin client of the current connection."""

    def refusal(self) -> str | None:
        """Why a record handed over now cannot be queued (the publisher has failed), or None."""

    def lose(self, error: str) -> None:
        """Records ran out of attempts: count the connection as lost, with ``error``."""

    def changed(self) -> None:
        """Counters moved: tell observers (at a bounded rate)."""


LINGER_MS = 5
MAX_BATCH_BYTES = 256 * 1024


async def open_connection(
    options: ConnectionOptions, *, read_only: bool, try_idempotence: bool
) -> tuple[Admin, AIOKafkaProducer, bool]:
    """A started admin client and producer, and whether the producer is idempotent.

    Raises when the cluster cannot be reached (nothing is left open).
    """
    from aiokafka.errors import KafkaConnectionError, NodeNotReadyError

    timeout = max(options.connect_timeout_s, 1.0)
    admin = Admin(options, read_only=read_only)
    await admin.start()
    producer: AIOKafkaProducer | None = None
    idempotent = False
    try:
        if try_idempotence:
            try:
                producer = await _started_producer(options, idempotent=True, timeout=timeout)
                idempotent = True
            except Exception as exc:
                if isinstance(exc, KafkaConnectionError | NodeNotReadyError | OSError):
                    raise
                # The cluster answered (the admin connected) but would not give a producer id.
                log.warning(
                    "publisher: the broker refused idempotence (%s); carrying on with acks=all and "
                    "one request in flight",
                    reason(exc),
                )
        if producer is None:
            producer = await _started_producer(options, idempotent=False, timeout=timeout)
    except BaseException:
        await admin.close()
        raise
    return admin, producer, idempotent


async def _started_producer(options: ConnectionOptions, *, idempotent: bool, timeout: float) -> AIOKafkaProducer:
    producer = options.producer(
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=LINGER_MS,
        max_batch_size=MAX_BATCH_BYTES,
    )
    try:
        await asyncio.wait_for(producer.start(), timeout=timeout)
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), timeout=timeout)
        raise
    return producer


async def close_producer(producer: AIOKafkaProducer, *, bound: float) -> None:
    """Stop ``producer``, letting it flush for at most ``bound`` seconds; then close it hard.

    Hard means its sender stops for good: a batch it still held must not reach the cluster later, behind the
    records sent again on the next connection.
    """
    try:
        await asyncio.wait_for(producer.stop(), timeout=bound)
        return
    except Exception as exc:
        log.warning("publisher: closing the producer: %s", reason(exc))
    sender = getattr(producer, "_sender", None)
    with contextlib.suppress(Exception, asyncio.CancelledError):
        if sender is not None:
            await asyncio.wait_for(sender.close(), timeout=bound)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.client.close(), timeout=bound)
