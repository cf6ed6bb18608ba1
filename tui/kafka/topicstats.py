"""Topic statistics for the layout view: partitions, message counts and rates of the topics under a prefix.

Two halves. The pure half (no I/O) joins the topic plan with what the cluster holds (:func:`layout_rows`,
:class:`TopicRow`) and turns successive counts into rates (:class:`RateMeter`, clock injectable). The I/O half,
:class:`TopicStatsReader`, reads partitions from metadata and counts from beginning/end offsets — never records —
with one admin client and one group-less consumer kept between reads.

Never imports Textual: the layout screen runs :meth:`TopicStatsReader.read` in a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui import catalog
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import consumer
from tui.topology import GLOBAL, Layout, PlannedTopic, parse_topic

Clock = Callable[[], float]
"""Seconds from a monotonic clock (``time.monotonic``); tests pass their own."""

# -- pure: the rows of the layout view -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicRow:
    """One topic of the layout: planned, existing, or both."""

    topic: str
    layout: Layout
    instance: str | None
    event: catalog.Event
    planned: bool
    partitions: int | None
    """Partitions in the cluster; None when the topic does not exist."""
    planned_partitions: int | None = None
    messages: int | None = None
    """Records held (end minus beginning offsets, summed over partitions); None when unknown."""
    rate: float | None = None
    """Records per second over the last refresh; None until two counts were seen."""

    @property
    def missing(self) -> bool:
        """Planned, but not in the cluster."""
        return self.planned and self.partitions is None

    @property
    def unplanned(self) -> bool:
        """In the cluster, but nothing in the configuration or the registry asks for it."""
        return not self.planned and self.partitions is not None

    @property
    def group(self) -> str:
        """The branch the topic hangs under: ``global`` or the instance name."""
        return GLOBAL if self.layout is Layout.GLOBAL else str(self.instance)


def layout_rows(
    plan: Iterable[PlannedTopic],
    existing: Mapping[str, int],
    prefix: str,
    counts: Mapping[str, int] | None = None,
    rates: Mapping[str, float] | None = None,
) -> list[TopicRow]:
    """The plan joined with the cluster's topics (``{name: partitions}``) under ``prefix``, sorted by group
    (global first) and event order; existing event topics the plan does not name are added as unplanned.
    Topics under the prefix that are not event topics (``P.something``) are left out."""
    counts = counts or {}
    rates = rates or {}
    rows: dict[str, TopicRow] = {}
    for planned in plan:
        rows[planned.topic] = TopicRow(
            planned.topic,
            planned.layout,
            planned.instance,
            planned.event,
            True,
            existing.get(planned.topic),
            planned.partitions,
            counts.get(planned.topic),
            rates.get(planned.topic),
        )
    for name, partitions in existing.items():
        if name in rows:
            continue
        ref = parse_topic(name, prefix)
        if ref is None:
            continue
        rows[name] = TopicRow(
            name, ref.layout, ref.instance, ref.event, False, partitions, None, counts.get(name), rates.get(name)
        )
    order = {e.name: i for i, e in enumerate(catalog.EVENTS)}
    return sorted(
        rows.values(),
        key=lambda r: (r.layout is not Layout.GLOBAL, r.instance or "", order[r.event.name], r.topic),
    )


class RateMeter:
    """Records per second per topic, from two successive counts."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, dict[str, int]] | None = None

    def update(self, counts: Mapping[str, int]) -> dict[str, float]:
        """Rates since the previous update. Empty on the first one (nothing to compare with) and when the
        clock did not move; a topic new since then, or whose count went down (a restarted, empty broker),
        reads 0."""
        now = self._clock()
        previous, self._last = self._last, (now, dict(counts))
        if previous is None or now <= previous[0]:
            return {}
        elapsed = now - previous[0]
        return {t: max(c - previous[1].get(t, c), 0) / elapsed for t, c in counts.items()}

    def reset(self) -> None:
        """Forget the last count (the next update starts over)."""
        self._last = None


# -- I/O: reading the cluster ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicStats:
    """The topics under a prefix at one moment: what :class:`TopicStatsReader` read."""

    partitions: Mapping[str, int] = field(default_factory=dict)
    """``{topic: partitions}`` for every topic under the prefix."""
    messages: Mapping[str, int] = field(default_factory=dict)
    """``{topic: records held}`` (end minus beginning offsets, summed over partitions)."""
    rates: Mapping[str, float] = field(default_factory=dict)
    """``{topic: records per second}`` since the previous read (empty after the first read)."""

    @property
    def total_rate(self) -> float:
        """Records per second over every topic."""
        return sum(self.rates.values())


class TopicStatsReader:
    """Reads :class:`TopicStats` for the topics under ``prefix``; keep it open to get rates between reads.

    The clients are made on the first read, kept between reads, and made again after an error (a read that
    fails closes them and raises; the next read reconnects).
    """

    def __init__(self, options: ConnectionOptions, prefix: str, *, clock: Clock = time.monotonic) -> None:
        self.options = options
        self.prefix = prefix
        self.rates = RateMeter(clock)
        self._admin: Admin | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def read(self) -> TopicStats:
        """Partitions, counts and rates now. Raises what the cluster raised (after closing the clients)."""
        try:
            if self._admin is None:
                self._admin = await Admin(self.options).start()
            topics = {n: p for n, p in (await self._admin.topics()).items() if n.startswith(self.prefix + ".")}
            counts = await self._counts(topics)
        except BaseException:
            await self.close()
            raise
        return TopicStats(topics, counts, self.rates.update(counts))

    async def _counts(self, topics: Mapping[str, int]) -> dict[str, int]:
        if not topics:
            return {}
        client = self._consumer
        if client is None:
            client = consumer(self.options)
            try:
                await asyncio.wait_for(client.start(), timeout=max(self.options.connect_timeout_s, 1.0) * 3)
            except BaseException:
                with contextlib.suppress(Exception):
                    await client.stop()
                raise
            self._consumer = client
        partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        begin: dict[TopicPartition, int] = await client.beginning_offsets(partitions)
        end: dict[TopicPartition, int] = await client.end_offsets(partitions)
        counts: dict[str, int] = dict.fromkeys(topics, 0)
        for tp in partitions:
            counts[tp.topic] += max(int(end.get(tp, 0)) - int(begin.get(tp, 0)), 0)
        return counts

    async def close(self) -> None:
        """Close the clients (the next :meth:`read` makes new ones)."""
        admin, self._admin = self._admin, None
        client, self._consumer = self._consumer, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()

    async def __aenter__(self) -> TopicStatsReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
