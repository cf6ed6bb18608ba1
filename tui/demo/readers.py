"""The demo's own consumer group: a reader that falls behind and catches up, so the lag panel shows real lag
that moves.

It commits as ``KAFKA_CONSUMER_GROUP_ID`` (the group the console's lag panel opens on) what it read from every
topic under the prefix. It assigns itself the partitions rather than joining the group: the embedded broker's
first join can take many seconds (see the README's notes on it), and a group that only commits is listed and
followed all the same. In turns of :data:`PHASE_S` seconds it reads a fraction of the
traffic (the lag grows), then everything (the lag drops to zero). Faults (the link cut, the broker stopped)
are ridden out: the reader waits and goes on.

Never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from aiokafka import TopicPartition

from tui.kafka.metadata import cluster_partitions
from tui.kafka.options import ConnectionOptions

log = logging.getLogger(__name__)

PHASE_S = 20.0
"""Seconds of falling behind, then seconds of catching up."""
SLOW_SHARE = 0.25
"""While falling behind, records read per second as a share of the events per second."""
SCAN_S = 3.0
"""Topics auto-created as the traffic goes are picked up this quickly."""


class DemoReaders:
    """A consumer of the demo's group; :meth:`run` until cancelled."""

    def __init__(self, options: ConnectionOptions, group: str, prefix: str, rate: float) -> None:
        self.options = options
        self.group = group
        self.pattern = re.compile(rf"{re.escape(prefix)}\..+")
        self.rate = rate
        self.read = 0
        """Records read (and committed) so far."""

    def _budget(self, now: float) -> int | None:
        """Records to read in the next second: a share of the rate while behind, None (all) while catching up."""
        behind = int(now // PHASE_S) % 2 == 0
        return max(1, int(self.rate * SLOW_SHARE)) if behind else None

    async def run(self) -> None:
        """Read, commit, fall behind and catch up until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            consumer = self.options.group_consumer(self.group, auto_offset_reset="earliest")
            assigned: set[TopicPartition] = set()
            next_scan = 0.0
            try:
                await consumer.start()
                while True:
                    if loop.time() >= next_scan:
                        next_scan = loop.time() + SCAN_S
                        cluster = await cluster_partitions(consumer)
                        found = {
                            TopicPartition(t, p) for t, parts in cluster.items() if self.pattern.fullmatch(t)
                            for p in parts
                        }
                        if found != assigned:
                            consumer.assign(sorted(found))
                            assigned = found
                    if not assigned:
                        await asyncio.sleep(1.0)  # nothing published yet: look again, not a wait for a condition
                        continue
                    budget = self._budget(loop.time())
                    batches = await consumer.getmany(timeout_ms=1000, max_records=budget or 10_000)
                    count = sum(len(records) for records in batches.values())
                    if count:
                        await consumer.commit()
                        self.read += count
                    if budget is not None:
                        # A slow reader's pace, not a wait for a condition.
                        await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the link was cut or the broker stopped: start over after a pause
                log.info("demo readers: %s: %s", exc.__class__.__name__, exc)
                await asyncio.sleep(2.0)  # backoff before reconnecting, not a wait for a condition
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
