"""Topic statistics for the layout view: partitions, message counts and rates of the topics under a prefix.

:class:`TopicStatsReader` reads partitions from metadata and counts from beginning/end offsets — never records —
with one group-less consumer kept between reads; the rows and rates it feeds are the pure
:mod:`tui.topic_rows`.

Never imports Textual: the console's session runs :meth:`TopicStatsReader.read` for the layout screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.kafka import metadata
from tui.kafka.options import ConnectionOptions, start_client
from tui.kafka.streams import consumer
from tui.topic_rows import Clock, RateMeter, TopicStats


class TopicStatsReader:
    """Reads :class:`TopicStats` for the topics under ``prefix``; keep it open to get rates between reads.

    One group-less consumer, made on the first read, kept between reads, and made again after an error (a read
    that fails closes it and raises; the next read reconnects). A read is two steps, :meth:`topics` (one
    metadata request) then :meth:`counts` (beginning and end offsets of every partition, the slow part at
    thousands of topics), so a view can show the topics before their counts.
    """

    def __init__(self, options: ConnectionOptions, prefix: str, *, clock: Clock = time.monotonic) -> None:
        self.options = options
        self.prefix = prefix
        self.rates = RateMeter(clock)
        self._consumer: AIOKafkaConsumer | None = None
        self._fresh = False
        """The consumer just connected: the topic list it was answered with is the cluster's now."""

    async def read(self) -> TopicStats:
        """Partitions, counts and rates now. Raises what the cluster raised (after closing the client)."""
        return await self.counts(await self.topics())

    async def topics(self) -> TopicStats:
        """The topics under the prefix with their partitions now; no counts (see :meth:`counts`)."""
        try:
            client = await self._client()
            fresh, self._fresh = self._fresh, False
            every = metadata.connect_answer(client) if fresh else None
            if every is None:
                every = {name: len(parts) for name, parts in (await metadata.cluster_partitions(client)).items()}
        except BaseException:
            await self.close()
            raise
        return TopicStats({n: p for n, p in every.items() if n.startswith(self.prefix + ".")})

    async def counts(self, topics: TopicStats) -> TopicStats:
        """``topics`` with the records each holds now, and the rates since the previous count."""
        try:
            counts = await self._counts(topics.partitions)
        except BaseException:
            await self.close()
            raise
        return TopicStats(topics.partitions, counts, self.rates.update(counts))

    async def _client(self) -> AIOKafkaConsumer:
        client = self._consumer
        if client is None:
            client = consumer(self.options)
            try:
                # ClusterUnreachableError (a ConnectionError) with the one line the screens show.
                await start_client(client, self.options)
            except BaseException:
                with contextlib.suppress(Exception):
                    await client.stop()
                raise
            self._consumer, self._fresh = client, True
        return client

    async def _counts(self, topics: Mapping[str, int]) -> dict[str, int]:
        if not topics:
            return {}
        client = await self._client()
        partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        # Both asked at once: at thousands of partitions each is a broker round trip of a few hundred ms.
        begin: dict[TopicPartition, int]
        end: dict[TopicPartition, int]
        begin, end = await asyncio.gather(client.beginning_offsets(partitions), client.end_offsets(partitions))
        counts: dict[str, int] = dict.fromkeys(topics, 0)
        for tp in partitions:
            counts[tp.topic] += max(int(end.get(tp, 0)) - int(begin.get(tp, 0)), 0)
        return counts

    async def close(self) -> None:
        """Close the client (the next read makes a new one)."""
        client, self._consumer = self._consumer, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()

    async def __aenter__(self) -> TopicStatsReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
