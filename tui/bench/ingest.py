"""Scenario ``ingest``: a stream pane's pipeline against the plainest reader of the same records.

One topic (4 partitions) is filled with realistic envelopes before the clock starts. Then, on that topic:

- baseline: raw aiokafka, partitions assigned, ``getmany`` + ``json.loads`` of every value, nothing else;
- subject: what a pane does with a topic: the stream subscription reads batches, each record is tested by the
  pane's filter (an empty filter reads nothing) and kept raw in the pane's bounded buffer.

With a filter that reads the body every record must be looked at, so the filtered panes are held to the stronger
baseline, ``getmany`` + ``orjson.loads``: one pane with a free-text filter (:data:`TEXT_FILTER`), one with a
JSONPath filter (:data:`JSONPATH_FILTER`); ``pane_pipeline_filtered_vs_raw_orjson`` is the slower of the two in
each round.

Goals: each pipeline reads **at least 0.9x** as fast as its baseline. Rounds alternate the readers; each figure
is the median of its rounds (with the worst round and the spread beside it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import TopicPartition

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.workload import BenchContext, Stopwatch, chunks, create_topics, prepare, raw_producer, send_all
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


async def raw_read(
    ctx: BenchContext,
    topic: str,
    count: int,
    loads: Callable[[bytes], Any] = json.loads,
    *,
    cpu: list[float] | None = None,
) -> float:
    """Records/s of ``getmany`` + ``loads`` (``json.loads`` or ``orjson.loads``) of every value over the topic.

    ``cpu``: appended the process's CPU time per record (µs) over the same span (see :func:`_cpu_per_record`).
    """
    client = consumer(ctx.options())
    await client.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        client.assign(partitions)
        await client.seek_to_beginning(*partitions)
        seen = 0
        watch = Stopwatch()
        started = time.process_time()
        async with asyncio.timeout(READ_TIMEOUT_S):
            while seen < count:
                batches = await client.getmany(timeout_ms=100, max_records=5000)
                for messages in batches.values():
                    for message in messages:
                        loads(message.value)
                    seen += len(messages)
        rate = seen / watch.elapsed
        _cpu_per_record(cpu, started, seen)
        return rate
    finally:
        await client.stop()


async def pane_read(
    ctx: BenchContext, topic: str, count: int, filter: FilterSpec | None = None, *, cpu: list[float] | None = None
) -> tuple[float, dict[str, Any]]:
    """Records/s of a pane's pipeline over the whole topic: subscription, filter, buffer (``cpu``: as
    :func:`raw_read`'s)."""
    from tui.bench.panes import PanePipeline

    pipeline = PanePipeline(ctx.options(), topic, prefix=ctx.prefix, filter=filter)
    await pipeline.start()
    try:
        watch = Stopwatch()
        started = time.process_time()
        async with asyncio.timeout(READ_TIMEOUT_S):
            await pipeline.consume(count)
        rate = count / watch.elapsed
        _cpu_per_record(cpu, started, count)
        return rate, pipeline.details()
    finally:
        await pipeline.stop()


def _cpu_per_record(cpu: list[float] | None, started: float, records: int) -> None:
    """Append to ``cpu`` the process's CPU time per record (µs) since ``started`` (``time.process_time``).

    A detail beside the figures, which are wall-clock rates: on a busy machine it tells this process's work from
    the machine's (the broker's own time is not counted).
    """
    if cpu is not None:
        cpu.append(round((time.process_time() - started) / max(records, 1) * 1e6, 2))


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the ingest scenario."""
    result = ScenarioResult(NAME)
    rounds, count = _sizes(ctx)
    topic = ctx.topic("ingest")
    ctx.progress(f"ingest: filling {topic} with {count:,} records")
    await fill(ctx, topic, count)
    raw: list[float] = []
    raw_orjson: list[float] = []
    pane: list[float] = []
    text: list[float] = []
    jsonpath: list[float] = []
    notes: dict[str, Any] = {}
    cpu: dict[str, list[float]] = {"raw_orjson": [], "text": [], "jsonpath": []}
    for round_no in range(rounds):
        step = f"ingest round {round_no + 1}/{rounds}"
        ctx.progress(f"{step}: raw getmany + json.loads")
        raw.append(await raw_read(ctx, topic, count))
        ctx.progress(f"{step}: raw getmany + orjson.loads")
        raw_orjson.append(await raw_read(ctx, topic, count, orjson.loads, cpu=cpu["raw_orjson"]))
        ctx.progress(f"{step}: pane pipeline, no filter")
        rate, notes["none"] = await pane_read(ctx, topic, count)
        pane.append(rate)
        ctx.progress(f"{step}: pane pipeline, text filter")
        rate, notes["text"] = await pane_read(ctx, topic, count, TEXT_FILTER, cpu=cpu["text"])
        text.append(rate)
        ctx.progress(f"{step}: pane pipeline, JSONPath filter")
        rate, notes["jsonpath"] = await pane_read(ctx, topic, count, JSONPATH_FILTER, cpu=cpu["jsonpath"])
        jsonpath.append(rate)
    ctx.shared["raw_ingest_rate"] = median(raw)
    result.details = {
        "rounds": rounds,
        "records": count,
        "partitions": PARTITIONS,
        "raw_rate": round(median(raw), 1),
        "raw_orjson_rate": round(median(raw_orjson), 1),
        "pipeline": notes,
        # Each round's filtered panes against that round's baseline (the figures compare medians), and the CPU
        # time each reader took per record.
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
        )
    )
    for name, rates, spec in (("text", text, TEXT_FILTER), ("jsonpath", jsonpath, JSONPATH_FILTER)):
        result.add(
            Figure(
                f"pane_pipeline_{name}_filter_vs_raw_orjson",
                median(rates),
                "records/s",
                f"a stream pane's pipeline with the filter {spec.describe()} (every record tested)",
                baseline_name=orjson_baseline,
                baseline_value=median(raw_orjson),
                samples=rates,
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
        )
    )
    return result
