"""Records the cluster lost after acknowledging them: the publisher never reports them as delivered.

An acknowledgement says the cluster held the record *then*. A broker that restarts empty, or a topic deleted
and re-created, takes acknowledged records with it. :class:`LossWatch` remembers where every acknowledged
record sits (topic, partition, offset, and a digest of its key and value) and moves it from "acknowledged" to
"lost by the cluster" when evokafka can tell it is gone:

- **Offsets went back**: a partition's offsets only grow, so an acknowledgement at or below an offset
  acknowledged before means the partition was emptied: the partition is read back at once (below).
- **The topic vanished** (the broker answers "unknown topic"): every partition of it is checked.
- **A check** (:meth:`LossWatch.verify`, after a reconnect and at the end of a run): the partitions are read
  back over the range evokafka wrote; a record not found there with its own key and value (at any offset: one
  sent again sits elsewhere) is lost.
  Reading, not the end offset, decides: the test broker undercounts end offsets after batched produce
  (test-broker.md), so an end offset alone would call held records lost.

At most :data:`MAX_TRACKED` acknowledged records are remembered (the oldest are forgotten first); a loss of a
forgotten record cannot be told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.kafka.options import ConnectionOptions, start_client, stop_quietly

if TYPE_CHECKING:
    from aiokafka import TopicPartition

log = logging.getLogger("tui.kafka.publish.publisher")

MAX_TRACKED = 1_000_000
"""Acknowledged records remembered for loss checks (two ints each)."""
VERIFY_IDLE_S = 2.0
"""A read-back that sees nothing new for this long while short of the range it checks ends there."""
VERIFY_READS = 3
"""Reads of a partition before a record not found counts as lost."""


@dataclass(frozen=True)
class Loss:
    """Acknowledged records the cluster no longer holds, found at ``at`` (``time.time()``)."""

    topic: str
    partition: int
    offsets: tuple[int, ...]
    reason: str
    at: float

    @property
    def count(self) -> int:
        return len(self.offsets)

    def describe(self) -> str:
        """One line for logs and the CLI."""
        when = time.strftime("%H:%M:%S", time.localtime(self.at))
        return (
            f"{self.count} acknowledged record(s) of {self.topic} partition {self.partition} lost by the cluster "
            f"at {when}: {self.reason}"
        )


def digest(key: bytes | None, value: bytes | None) -> int:
    """What identifies a record's content when it is read back."""
    return hash((bytes(key) if key is not None else None, bytes(value) if value is not None else None))


class _Partition:
    __slots__ = ("digests", "offsets")

    def __init__(self) -> None:
        self.offsets: list[int] = []
        self.digests: list[int] = []


class LossWatch:
    """Where the acknowledged records sit, and which of them the cluster lost."""

    def __init__(self, on_loss: Callable[[Loss], None] | None = None, *, max_tracked: int = MAX_TRACKED) -> None:
        self.lost = 0
        """Acknowledged records found lost by the cluster (counted once each)."""
        self.losses: list[Loss] = []
        """Every loss found, oldest first (at most 1000 kept)."""
        self.last_loss_at: float | None = None
        self.duplicates: int | None = None
        """Extra copies of acknowledged records seen by the last full check (None: no full check yet). A
        record sent again after an attempt whose outcome was unknown is there twice when that attempt had in
        fact been written."""
        self.on_loss = on_loss
        """Called with each :class:`Loss` found."""
        self._max_tracked = max_tracked
        self._tracked = 0
        self._parts: dict[tuple[str, int], _Partition] = {}
        self._suspect: set[tuple[str, int]] = set()
        self._reading = asyncio.Lock()

    @property
    def suspect(self) -> bool:
        """Whether some partition should be read back (offsets went back, a topic vanished)."""
        return bool(self._suspect)

    def acked(self, topic: str, partition: int, base_offset: int, digests: list[int]) -> None:
        """A batch of ``len(digests)`` records was acknowledged at ``base_offset``, ``base_offset + 1``, ..."""
        if not digests:
            return
        where = (topic, partition)
        part = self._parts.get(where)
        if part is None:
            part = self._parts[where] = _Partition()
        elif part.offsets and base_offset <= part.offsets[-1]:
            # The partition was emptied (a broker restarted without its data, or the topic was re-created):
            # read it back now; what is not there any more is lost. Reading decides, not offsets: a record
            # sent again may sit at another offset than the one first acknowledged.
            log.warning(
                "publisher: offsets of %s partition %d went back from %d to %d; checking what the cluster still "
                "holds", topic, partition, part.offsets[-1], base_offset,
            )
            self._suspect.add(where)
        part.offsets.extend(range(base_offset, base_offset + len(digests)))
        part.digests.extend(digests)
        self._tracked += len(digests)
        if self._tracked > self._max_tracked:
            self._trim()

    def topic_vanished(self, topic: str) -> None:
        """The cluster answered that ``topic`` is unknown: check every partition evokafka wrote to."""
        for where, part in self._parts.items():
            if where[0] == topic and part.offsets:
                self._suspect.add(where)

    def written(self) -> list[tuple[str, int]]:
        """The partitions holding acknowledged records."""
        return [where for where, part in self._parts.items() if part.offsets]

    async def verify(self, options: ConnectionOptions, *, everything: bool = False, timeout: float = 30.0) -> int:
        """Read back the suspect partitions (``everything``: all written ones); returns the records found lost.

        Raises what the cluster raises when it cannot be read (the suspicion stays for the next check).
        """
        async with self._reading:  # one read-back at a time
            return await self._verify(options, everything=everything, timeout=timeout)

    async def _verify(self, options: ConnectionOptions, *, everything: bool, timeout: float) -> int:
        targets = self.written() if everything else sorted(self._suspect)
        targets = [where for where in targets if where in self._parts and self._parts[where].offsets]
        if not targets:
            self._suspect.clear()
            return 0
        from tui.kafka.streams import consumer

        # Not the live views' 50 ms: a broker storing on S3 answers a fetch of many small batches with nothing
        # when given so little time, and a check reading nothing would call every record lost.
        client = consumer(options, fetch_max_wait_ms=500)
        await start_client(client, options, timeout=max(options.connect_timeout_s, 1.0) * 3)
        found = 0
        copies = 0
        try:
            for where in targets:
                lost, extra = await asyncio.wait_for(self._verify_one(client, where), timeout=timeout)
                found += lost
                copies += extra
                self._suspect.discard(where)
        finally:
            await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0) * 3)
        if everything:
            self.duplicates = copies
        return found

    async def _verify_one(self, client: object, where: tuple[str, int]) -> tuple[int, int]:
        """(records lost, extra copies of acknowledged records seen) of one partition.

        A record not read back is looked for again (up to :data:`VERIFY_READS` reads) before it counts as lost:
        a broker of a cluster sharing its storage may answer a moment late for a topic another one wrote.
        """
        from aiokafka import AIOKafkaConsumer, TopicPartition

        assert isinstance(client, AIOKafkaConsumer)
        part = self._parts[where]
        # What was acknowledged when the check began: records acknowledged while reading are not judged.
        offsets, digests = list(part.offsets), list(part.digests)
        if not offsets:
            return 0, 0
        low, high = min(offsets), max(offsets)  # not sorted once offsets went back
        tp = TopicPartition(*where)
        client.assign([tp])
        seen: Counter[int] = Counter()
        missing = list(range(len(offsets)))
        for _ in range(VERIFY_READS):
            _, seen = await _read_range(client, tp, low, high)
            # Held means read back with its own key and value, at whatever offset.
            missing = [i for i, wanted in enumerate(digests) if not seen.get(wanted)]
            if not missing:
                break
        wanted_set = set(digests)
        extra = sum(count - 1 for d, count in seen.items() if count > 1 and d in wanted_set)
        return self._lose(where, missing, "not found when read back (the cluster no longer holds it)"), extra

    # -- bookkeeping ---------------------------------------------------------------------------------------

    def _lose(self, where: tuple[str, int], indices: list[int], reason: str) -> int:
        """The records at ``indices`` of the partition's lists are lost (each once; only appends happen
        between the snapshot the indices come from and this call)."""
        if not indices:
            return 0
        part = self._parts[where]
        gone = set(indices)
        offsets = [part.offsets[i] for i in sorted(gone)]
        keep = [(o, d) for i, (o, d) in enumerate(zip(part.offsets, part.digests, strict=True)) if i not in gone]
        part.offsets = [o for o, _ in keep]
        part.digests = [d for _, d in keep]
        self._tracked -= len(gone)
        self.lost += len(gone)
        loss = Loss(where[0], where[1], tuple(offsets), reason, time.time())
        self.last_loss_at = loss.at
        self.losses.append(loss)
        del self.losses[:-1000]
        log.warning("publisher: %s", loss.describe())
        if self.on_loss is not None:
            try:
                self.on_loss(loss)
            except Exception:  # an observer's bug must not stop the publisher
                log.exception("loss subscriber failed")
        return len(gone)

    def _trim(self) -> None:
        for part in self._parts.values():
            drop = len(part.offsets) // 2
            del part.offsets[:drop]
            del part.digests[:drop]
            self._tracked -= drop


async def _read_range(client: object, tp: TopicPartition, first: int, last: int) -> tuple[dict[int, int], Counter[int]]:
    """Offset → digest of the records from ``first`` to ``last`` (what is there), and how often each digest was seen."""
    from aiokafka import AIOKafkaConsumer

    assert isinstance(client, AIOKafkaConsumer)
    client.seek(tp, first)
    held: dict[int, int] = {}
    seen: Counter[int] = Counter()
    loop = asyncio.get_running_loop()
    progress = loop.time()
    while loop.time() - progress < VERIFY_IDLE_S:  # nothing more to read: what was not read is not held
        batches = await client.getmany(tp, timeout_ms=200, max_records=10_000)
        for message in batches.get(tp, []):
            held[message.offset] = found = digest(message.key, message.value)
            seen[found] += 1
            progress = loop.time()
        if held and max(held) >= last:
            break
    return held, seen
