"""Scenario ``ingest``: a stream pane's pipeline against the plainest reader of the same records.

One topic (4 partitions) is filled with realistic envelopes before the clock starts. Then, on that topic:

- baseline: raw aiokafka, partitions assigned, ``getmany`` + ``json.loads`` of every value, nothing else;
- subject: what a pane does with a topic: the stream subscription reads batches, each record is decoded
  (envelope, headers, key), tested by the pane's filter and kept in the pane's bounded buffer.

Goal: the pane's pipeline reads **at least 0.9x** as fast as the baseline. Rounds alternate the two; each figure
is the median of its rounds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import TopicPartition

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.workload import BenchContext, Stopwatch, chunks, create_topics, prepare, raw_producer, send_all
from tui.kafka.streams import consumer

NAME = "ingest"
PARTITIONS = 4
READ_TIMEOUT_S = 120.0
"""Bound on one read of the topic: a reader that stalls fails the scenario instead of hanging the bench."""


def _sizes(ctx: BenchContext) -> tuple[int, int]:
    """(rounds, records in the topic)."""
    return (1, 20_000) if ctx.quick else (3, 200_000)


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


async def raw_read(ctx: BenchContext, topic: str, count: int) -> float:
    """Records/s of ``getmany`` + ``json.loads`` over the whole topic."""
    client = consumer(ctx.options())
    await client.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        client.assign(partitions)
        await client.seek_to_beginning(*partitions)
        seen = 0
        watch = Stopwatch()
        async with asyncio.timeout(READ_TIMEOUT_S):
            while seen < count:
                batches = await client.getmany(timeout_ms=100, max_records=5000)
                for messages in batches.values():
                    for message in messages:
                        json.loads(message.value)
                    seen += len(messages)
        return seen / watch.elapsed
    finally:
        await client.stop()


async def pane_read(ctx: BenchContext, topic: str, count: int) -> tuple[float, dict[str, Any]]:
    """Records/s of a pane's pipeline over the whole topic: subscription, decode, filter, buffer."""
    from tui.bench.panes import PanePipeline

    pipeline = PanePipeline(ctx.options(), topic, prefix=ctx.prefix)
    await pipeline.start()
    try:
        watch = Stopwatch()
        async with asyncio.timeout(READ_TIMEOUT_S):
            await pipeline.consume(count)
        return count / watch.elapsed, pipeline.details()
    finally:
        await pipeline.stop()


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the ingest scenario."""
    result = ScenarioResult(NAME)
    rounds, count = _sizes(ctx)
    topic = ctx.topic("ingest")
    ctx.progress(f"ingest: filling {topic} with {count:,} records")
    await fill(ctx, topic, count)
    raw: list[float] = []
    pane: list[float] = []
    notes: dict[str, Any] = {}
    for round_no in range(rounds):
        ctx.progress(f"ingest round {round_no + 1}/{rounds}: raw getmany + json.loads")
        raw.append(await raw_read(ctx, topic, count))
        ctx.progress(f"ingest round {round_no + 1}/{rounds}: pane pipeline")
        rate, notes = await pane_read(ctx, topic, count)
        pane.append(rate)
    ctx.shared["raw_ingest_rate"] = median(raw)
    result.details = {"rounds": rounds, "records": count, "partitions": PARTITIONS, "raw_rate": round(median(raw), 1)}
    result.details["pipeline"] = notes
    result.add(
        Figure(
            "pane_pipeline_vs_raw",
            median(pane),
            "records/s",
            "a stream pane's pipeline (consume, decode, filter, buffer) over the same records",
            baseline_name="raw aiokafka getmany + json.loads",
            baseline_value=median(raw),
            goal=Goal(GoalKind.RATIO_AT_LEAST, 0.9, ">= 0.9x"),
            samples=pane,
        )
    )
    return result
