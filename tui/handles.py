"""What the console's session hands the screens to read from: a stream reader, a lag reader, a topic-stats
source, and the demo's chaos controls. Protocols only: the Kafka layer and the demo implement them, the session
(``tui.console.session``) makes them, the screens and widgets use them without knowing the Kafka layer.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Protocol

from tui.group_lag import GroupLag
from tui.listeners import Unsubscribe
from tui.records import Record
from tui.status import ChaosState, Delivery, ReaderStatus
from tui.topic_rows import TopicStats
from tui.topology import Route


class StreamReader(Protocol):
    """A live reading of a selection (``Session.follow``); the stream pane reads its batches."""

    missing: list[str]
    """Named topics that do not exist (yet)."""
    parked: asyncio.Event
    """Set while paused and not fetching."""

    def pause(self) -> None:
        """Stop fetching after the batch in hand."""

    def resume(self) -> None:
        """Fetch again from where reading stopped."""

    async def stop(self) -> None:
        """Disconnect for good (:meth:`follow` ends)."""

    def follow(
        self,
        on_status: Callable[[ReaderStatus], None] | None = None,
        *,
        initial_delay_ms: int = 500,
        max_delay_ms: int = ...,
    ) -> AsyncIterator[list[Record]]:
        """Batches for as long as the reading runs, reconnecting (reported through ``on_status``)."""
        ...


class LagReader(Protocol):
    """A group's lag, asked again and again (``Session.lag_monitor``)."""

    async def start(self) -> None:
        """Connect (bounded); raises when the cluster is unreachable."""

    async def stop(self) -> None:
        """Disconnect."""

    async def snapshot(self, topics: Iterable[str] | None = None, *, pattern: str | None = None) -> GroupLag:
        """The lag now on ``topics`` (default: every topic, or those matching ``pattern``)."""
        ...


class TopicStatsSource(Protocol):
    """Counts and rates of the topics under the prefix, read again and again (``Session.topic_stats``)."""

    async def read(self) -> TopicStats:
        """Partitions, counts and rates now."""
        ...

    async def topics(self) -> TopicStats:
        """The topics with their partitions now, without counts (the quick first step of :meth:`read`)."""
        ...

    async def counts(self, topics: TopicStats) -> TopicStats:
        """``topics`` with their counts and rates now (the second step of :meth:`read`)."""
        ...

    async def close(self) -> None:
        """Close the clients."""


class ChaosControls(Protocol):
    """The demo's chaos controls (the demo runner): the link between clients and broker, and the broker."""

    @property
    def chaos(self) -> ChaosState:
        """The state now."""
        ...

    def subscribe_chaos(self, listener: Callable[[ChaosState], None]) -> Unsubscribe:
        """Be told of every change; returns unsubscribe."""
        ...

    async def toggle_link(self) -> None:
        """Cut the link when up, restore it when cut."""

    async def toggle_broker(self) -> None:
        """Stop the broker when running, start it when stopped."""


class Sending(Protocol):
    """An event handed to the publisher (``Session.publish``): where it goes, and what became of each record."""

    @property
    def route(self) -> Route:
        """Where the event goes and why (no targets: nothing was sent)."""
        ...

    async def wait(self) -> list[Delivery]:
        """One delivery per target, after its acknowledgement or final failure."""
        ...
