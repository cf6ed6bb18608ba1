"""Topic statistics for the layout view: partitions, message counts and rates of the topics under a prefix.

:class:`TopicStatsReader` reads partitions from metadata and counts from beginning/end offsets — never records —
with one admin client and one group-less consumer kept between reads; the rows and rates it feeds are the pure
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

from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import consumer
from tui.topic_rows import Clock, RateMeter, TopicStats


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
        # Both asked at once: at thousands of partitions each is a broker round trip of a few hundred ms.
        begin: dict[TopicPartition, int]
        end: dict[TopicPartition, int]
        begin, end = await asyncio.gather(client.beginning_offsets(partitions), client.end_offsets(partitions))
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
