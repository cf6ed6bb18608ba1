"""Scenario ``ingest``: a stream pane's pipeline against the plainest reader of the same records.

One topic (4 partitions) is filled with realistic envelopes before the clock starts. Then, on that topic:

- baseline: raw aiokafka, partitions assigned, ``getmany`` + ``json.loads`` of every value, nothing else;
- subject: what a pane does with a topic: the stream subscription reads batches, each record is tested by the
  pane's filter (an empty filter reads nothing) and kept raw in the pane's bounded buffer.

With a filter that reads the body every record must be looked at, so the filtered panes are held to the stronger
baseline, ``getmany`` + ``orjson.loads``: one pane with a free-text filter (:data:`TEXT_FILTER`), one with a
JSONPath filter (:data:`JSONPATH_FILTER`); ``pane_pipeline_filtered_vs_raw_orjson`` is the slower of the two in
each round.

Goals: each pipeline reads **at least 0.9x** as fast as its baseline. Each reader reads the whole topic on its
own, with the collector cleaned before it (each pays for its own garbage); each figure is the median of its
rounds. This machine's speed drifts by a third for seconds at a time, so the worst round is judged against the
baseline read beside it (``paired_ratios``): for the filtered panes, the mean of the ``orjson`` reads just before
and just after them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import TopicPartition

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.workload import BenchContext, chunks, create_topics, prepare, raw_producer, send_all
from tui.filters import FilterSpec
from tui.kafka.streams import consumer

NAME = "ingest"
PARTITIONS = 4
READ_TIMEOUT_S = 120.0
"""Bound on one read of the topic: a reader that stalls fails the scenario instead of hanging the bench."""
TEXT_FILTER = FilterSpec(text="souza")
"""A free-text filter as an operator types it: a contact's surname (a few percent of the demo's records)."""
JSONPATH_FILTER = FilterSpec(jsonpath="$[?(@.data.key.fromMe == true)]")
"""A JSONPath filter as an operator types it: the messages the instance itself sent."""


READERS = ("raw", "none", "raw_orjson", "text", "jsonpath", "raw_orjson_after")
"""A round's reads, in this order: the pane without a filter after its baseline, the filtered panes between two
reads of theirs (the machine's speed drifts: their baseline is the mean of the reads before and after them)."""


def _sizes(ctx: BenchContext) -> tuple[int, int]:
    """(rounds, records in the topic)."""
    return (1, 20_000) if ctx.quick else (3, 200_000)


def _readers(ctx: BenchContext, topic: str) -> list[Reader]:
    """A round's readers, in :data:`READERS`' order."""
    made: dict[str, Reader] = {
        "raw": RawReader(ctx, topic, "raw", json.loads),
        "none": PaneReader(ctx, topic, "none"),
        "raw_orjson": RawReader(ctx, topic, "raw_orjson", orjson.loads),
        "text": PaneReader(ctx, topic, "text", TEXT_FILTER),
        "jsonpath": PaneReader(ctx, topic, "jsonpath", JSONPATH_FILTER),
        "raw_orjson_after": RawReader(ctx, topic, "raw_orjson_after", orjson.loads),
    }
    return [made[name] for name in READERS]


async def fill(ctx: BenchContext, topic: str, count: int) -> None:
    """Put ``count`` realistic envelopes into ``topic`` (not timed)."""
    await create_topics(ctx, [topic], partitions=PARTITIONS)
    producer = raw_producer(ctx.options())
    await producer.start()
    try:
        for part in chunks(prepare(ctx, count, seed=7), 20_000):
            await send_all(producer, part, topic=topic)
    finally:
        await producer.stop()


class Reader:
    """One reader of the topic; only its reading is timed (wall and CPU), not its connecting."""

    name: str
    description: str
    """What the progress line says it is."""

    def __init__(self) -> None:
        self.seen = 0
        self.seconds = 0.0
        """Wall time of its reading."""
        self.cpu_seconds = 0.0
        """This process's CPU time over the same span."""

    async def start(self) -> None:
        """Connect and position at the topic's beginning (not timed)."""

    async def _read(self, upto: int) -> None:
        raise NotImplementedError

    async def read(self, upto: int) -> None:
        """Read on until ``upto`` records were seen in all (timed)."""
        began, cpu = time.perf_counter(), time.process_time()
        await self._read(upto)
        self.seconds += time.perf_counter() - began
        self.cpu_seconds += time.process_time() - cpu

    async def stop(self) -> None:
        """Disconnect."""

    @property
    def rate(self) -> float:
        """Records/s over its reading."""
        return self.seen / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_record(self) -> float:
        """CPU time per record (µs) over its reading (the broker's own time is not counted): on a busy
        machine it tells this process's work from the machine's."""
        return round(self.cpu_seconds / max(self.seen, 1) * 1e6, 2)


class RawReader(Reader):
    """``getmany`` + ``loads`` (``json.loads`` or ``orjson.loads``) of every value, nothing else."""

    def __init__(self, ctx: BenchContext, topic: str, name: str, loads: Callable[[bytes], Any]) -> None:
        super().__init__()
        self.name, self._loads, self._topic = name, loads, topic
        self.description = f"raw getmany + {loads.__module__}.loads"
        self._client = consumer(ctx.options())

    async def start(self) -> None:
        await self._client.start()
        partitions = [TopicPartition(self._topic, p) for p in range(PARTITIONS)]
        self._client.assign(partitions)
        await self._client.seek_to_beginning(*partitions)

    async def _read(self, upto: int) -> None:
        client, loads = self._client, self._loads
        while self.seen < upto:
            batches = await client.getmany(timeout_ms=100, max_records=min(5000, upto - self.seen))
            for messages in batches.values():
                for message in messages:
                    loads(message.value)
                self.seen += len(messages)

    async def stop(self) -> None:
        await self._client.stop()


class PaneReader(Reader):
    """A stream pane's pipeline (:class:`~tui.bench.panes.PanePipeline`): subscription, filter, buffer."""

    def __init__(self, ctx: BenchContext, topic: str, name: str, filter: FilterSpec | None = None) -> None:
        from tui.bench.panes import PanePipeline

        super().__init__()
        self.name = name
        self.description = f"pane pipeline, {'filter ' + filter.describe() if filter else 'no filter'}"
        self.pipeline = PanePipeline(ctx.options(), topic, prefix=ctx.prefix, filter=filter)

    async def start(self) -> None:
        await self.pipeline.start()

    async def _read(self, upto: int) -> None:
        await self.pipeline.consume(upto)
        self.seen = self.pipeline.pane.buffer.received

    async def stop(self) -> None:
        await self.pipeline.stop()


async def read_alone(reader: Reader, count: int) -> None:
    """``reader`` reads the whole topic (``count`` records) on its own: connected, timed, disconnected.

    The collector starts clean (untimed): each reader pays for its own garbage, not for the reader's before it.
    """
    await reader.start()
    try:
        gc.collect()
        async with asyncio.timeout(READ_TIMEOUT_S):
            await reader.read(count)
    finally:
        await reader.stop()


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the ingest scenario."""
    result = ScenarioResult(NAME)
    rounds, count = _sizes(ctx)
    topic = ctx.topic("ingest")
    ctx.progress(f"ingest: filling {topic} with {count:,} records")
    await fill(ctx, topic, count)
    rates: dict[str, list[float]] = {name: [] for name in READERS}
    cpu: dict[str, list[float]] = {name: [] for name in READERS}
    notes: dict[str, Any] = {}
    for round_no in range(rounds):
        for reader in _readers(ctx, topic):
            ctx.progress(f"ingest round {round_no + 1}/{rounds}: {reader.description}")
            await read_alone(reader, count)
            rates[reader.name].append(reader.rate)
            cpu[reader.name].append(reader.cpu_us_per_record)
            if isinstance(reader, PaneReader):
                notes[reader.name] = reader.pipeline.details()
    # The filtered panes' baseline in a round: the mean of the two getmany + orjson.loads reads around them.
    raw_orjson = [(a + b) / 2 for a, b in zip(rates["raw_orjson"], rates["raw_orjson_after"], strict=True)]
    raw, pane, text, jsonpath = rates["raw"], rates["none"], rates["text"], rates["jsonpath"]
    ctx.shared["raw_ingest_rate"] = median(raw)
    result.details = {
        "rounds": rounds,
        "records": count,
        "partitions": PARTITIONS,
        "raw_rate": round(median(raw), 1),
        "raw_orjson_rate": round(median(raw_orjson), 1),
        "pipeline": notes,
        # Each round's filtered panes against that round's baseline (the reads around them), and the CPU time
        # each reader took per record.
        "filtered_rounds": [
            {
                "raw_orjson_rate": round(base, 1),
                "text_ratio": round(t / base, 3),
                "jsonpath_ratio": round(j / base, 3),
            }
            for base, t, j in zip(raw_orjson, text, jsonpath, strict=True)
        ],
        "cpu_us_per_record": cpu,
    }
    goal = Goal(GoalKind.RATIO_AT_LEAST, 0.9, ">= 0.9x")
    json_baseline = "raw aiokafka getmany + json.loads"
    orjson_baseline = "raw aiokafka getmany + orjson.loads"
    result.add(
        Figure(
            "pane_pipeline_vs_raw",
            median(pane),
            "records/s",
            "a stream pane's pipeline without a filter (consume, buffer; nothing decoded at ingest)",
            baseline_name=json_baseline,
            baseline_value=median(raw),
            goal=goal,
            samples=pane,
            baseline_samples=raw,
        )
    )
    for name, filtered, spec in (("text", text, TEXT_FILTER), ("jsonpath", jsonpath, JSONPATH_FILTER)):
        result.add(
            Figure(
                f"pane_pipeline_{name}_filter_vs_raw_orjson",
                median(filtered),
                "records/s",
                f"a stream pane's pipeline with the filter {spec.describe()} (every record tested)",
                baseline_name=orjson_baseline,
                baseline_value=median(raw_orjson),
                samples=filtered,
                baseline_samples=raw_orjson,
            )
        )
    slower = [min(t, j) for t, j in zip(text, jsonpath, strict=True)]
    result.add(
        Figure(
            "pane_pipeline_filtered_vs_raw_orjson",
            median(slower),
            "records/s",
            "the slower of the text-filtered and the JSONPath-filtered pane in each round",
            baseline_name=orjson_baseline,
            baseline_value=median(raw_orjson),
            goal=goal,
            samples=slower,
            baseline_samples=raw_orjson,
        )
    )
    return result
