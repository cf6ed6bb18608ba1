"""Reading topics to their end (``evokafka tail``, the registry's tests): batches of records from a start, ending
once caught up when asked to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from tui.kafka.options import ConnectionOptions, start_client
from tui.kafka.streams import StreamError, assign, consumer, stop_client, to_records
from tui.records import Record
from tui.selection import StartPosition

BATCH_RECORDS = 500
"""Records per batch at most (``getmany``'s ``max_records``): a batch's objects (the client's records, ours, the
lines written) then fit in memory the process already holds. At 5,000 every batch took fresh pages: reading
100,000 envelopes to stdout cost ~135,000 minor page faults and ~0.4 s of system time against ~42,000 and ~0.13 s
at 500 (peak RSS 92 MB against 57 MB), for the same instructions per record from 250 to 5,000 (callgrind)."""
END_IDLE_MS = 1000
"""How long a reader stopping at the end must see no record, caught up with fresh end offsets, before it ends."""
END_STALL_MS = 15_000
"""How long a reader stopping at the end waits for records its end offsets promise but no fetch delivers."""


async def read(
    options: ConnectionOptions,
    topics: Sequence[str],
    start: StartPosition,
    *,
    stop_at_end: bool = False,
    batch_timeout_ms: int = 200,
    end_idle_ms: int = END_IDLE_MS,
    end_stall_ms: int = END_STALL_MS,
) -> AsyncIterator[list[Record]]:
    """Batches of records of ``topics`` from ``start``; with ``stop_at_end`` it ends once it has caught up.

    Caught up means: every partition's position is at or past an end offset asked *after* the last record
    arrived, and no record arrived for ``end_idle_ms``. End offsets alone cannot decide it: the test broker
    undercounts them after batched produce (a partition holding offsets up to 2499 answered 2346), so a reader
    stopping at the first answer loses records. Records written while reading are read too; a topic written
    without pause keeps the reader going. End offsets that promise records no fetch delivers (a broker that
    acknowledged writes it cannot serve) end the reading after ``end_stall_ms`` without a record.
    """
    client = consumer(options)
    await start_client(client, options, error=StreamError)
    try:
        partitions = await assign(client, topics, start, timeout=max(options.connect_timeout_s, 2.0))
        loop = asyncio.get_running_loop()
        last_record = loop.time()
        while True:
            batches = await client.getmany(timeout_ms=batch_timeout_ms, max_records=BATCH_RECORDS)
            if batches:
                records = to_records(batches)
                if records:
                    last_record = loop.time()
                    yield records
                    continue
            if not stop_at_end:
                continue
            quiet_ms = (loop.time() - last_record) * 1000
            if quiet_ms < end_idle_ms:
                continue
            ends = await client.end_offsets(partitions)
            behind = [tp for tp in partitions if await client.position(tp) < ends[tp]]
            if not behind or quiet_ms >= end_stall_ms:
                return
    finally:
        await stop_client(client, timeout=max(options.connect_timeout_s, 1.0) * 3)
