"""Console scenarios: the real app, headless, in a child process (:mod:`tui.bench.consolerun`), fed from here.

- ``flood``: three panes follow one topic (4 partitions) that this process fills as fast as the broker takes
  pre-built records (the panes share one fetch of it: :mod:`tui.kafka.shared`). Figures: records ingested per second by the console (all panes; goal >= 20,000), key press
  → screen latency p99 (goal < 50 ms), frames per second. Baselines from the same run: the feeder's own rate
  (a pane cannot read more than is written) and, when the ingest scenario ran, the raw ``getmany`` reader's rate.
- ``e2e``: the EventPublisher publishes 1,000 events/s; the child reports, for every row that becomes visible in
  its pane, frame time minus the envelope's timestamp. Goal: p99 < 150 ms. Baseline: raw aiokafka, same topic,
  same rate, time to ``getmany`` (no console), measured right before.
- ``memory``: three panes, 1,000,000 records each through them (``--quick``: 30,000 and says so); RSS growth of
  the child from "panes ready" to the end. Goal: < 50 MiB. Then a second console, three panes again, and records
  of 1 MB (400 of them, 6x one pane's default 64 MiB byte budget; ``--quick``: 80): the largest RSS growth seen
  (``rss_growth_large_records``) stays inside the panes' byte budget (3 x ``EVOKAFKA_PANE_BUFFER_BYTES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiokafka import TopicPartition

from tui.bench.consolerun import READY, RESULT
from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, percentile
from tui.bench.start import child_env
from tui.bench.workload import BenchContext, Stopwatch, create_topics, prepare, raw_producer
from tui.config import load_app_settings
from tui.envelope import build
from tui.kafka.streams import consumer

FLOOD_PARTITIONS = 4
MB = 1024 * 1024


class ChildError(RuntimeError):
    """The console child failed or did not answer in time."""


Feeder = Callable[[asyncio.Event], Coroutine[Any, Any, dict[str, Any]]]


async def with_console(
    ctx: BenchContext, mode: str, topic: str, feeder: Feeder, *, timeout: float, extra: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the console child in ``mode``, feed while it measures; (its result, the feeder's report)."""
    args = [
        sys.executable, "-m", "tui.bench.consolerun", mode,
        "--brokers", ctx.bootstrap, "--prefix", ctx.prefix, "--topic", topic, *extra,
    ]
    process = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    stop = asyncio.Event()
    feeding: asyncio.Task[dict[str, Any]] | None = None
    stderr_task = asyncio.create_task(process.stderr.read())
    try:
        async with asyncio.timeout(timeout):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    err = (await stderr_task).decode(errors="replace").strip()
                    raise ChildError(f"the console exited early: {err[-400:] or 'no output'}")
                tag, _, payload = line.strip().partition(" ")
                if tag == READY:
                    ctx.progress(f"{mode}: console ready ({payload}), feeding {topic}")
                    feeding = asyncio.create_task(feeder(stop))
                elif tag == RESULT:
                    result: dict[str, Any] = json.loads(payload)
                    break
        if "error" in result:
            raise ChildError(f"the console failed: {result['error']}")
        stop.set()
        fed = await feeding if feeding is not None else {}
        return result, fed
    finally:
        stop.set()
        if feeding is not None and not feeding.done():
            feeding.cancel()
            with contextlib.suppress(BaseException):
                await feeding
        if process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=20)
        if process.returncode is None:
            process.kill()
            await process.wait()
        stderr_task.cancel()


def flood_feeder(ctx: BenchContext, topic: str, chunk: int = 2000) -> Feeder:
    """Write pre-built records to ``topic`` as fast as the broker acknowledges them, until stopped."""

    async def feed(stop: asyncio.Event) -> dict[str, Any]:
        items = prepare(ctx, 20_000, seed=3)
        producer = raw_producer(ctx.options())
        await producer.start()
        sent = 0
        watch = Stopwatch()
        try:
            while not stop.is_set():
                start = sent % len(items)
                part = items[start : start + chunk]
                futures = [await producer.send(topic, i.value, key=i.key, headers=i.headers) for i in part]
                await asyncio.gather(*futures)
                sent += len(part)
        finally:
            await producer.stop()
        return {"sent": sent, "rate": sent / watch.elapsed}

    return feed


LARGE_RECORD_BYTES = MB
"""The size of the large records of the memory scenario's second run."""


def large_feeder(ctx: BenchContext, topic: str, count: int, size: int = LARGE_RECORD_BYTES) -> Feeder:
    """Write ``count`` envelopes of about ``size`` bytes each (a realistic event padded with text) to ``topic``."""

    async def feed(stop: asyncio.Event) -> dict[str, Any]:
        items = prepare(ctx, 8, seed=4)
        values = []
        for n, item in enumerate(items):
            data = dict(item.data) if isinstance(item.data, dict) else {"data": item.data}
            data["padding"] = chr(ord("a") + n) * size
            envelope = build(item.event, item.instance, data, sender=item.sender)
            values.append((item.key, envelope.encode(), envelope.headers))
        producer = raw_producer(ctx.options(), max_request_size=4 * size + MB, max_batch_size=4 * size + MB)
        await producer.start()
        sent = 0
        watch = Stopwatch()
        try:
            while sent < count and not stop.is_set():
                key, value, headers = values[sent % len(values)]
                futures = [await producer.send(topic, value, key=key, headers=headers) for _ in range(4)]
                await asyncio.gather(*futures)
                sent += len(futures)
        finally:
            await producer.stop()
        return {"sent": sent, "rate": sent / watch.elapsed, "record_bytes": len(values[0][1])}

    return feed


async def run_flood(ctx: BenchContext) -> ScenarioResult:
    """Measure the console under a flood."""
    result = ScenarioResult("flood")
    seconds = 4.0 if ctx.quick else 30.0
    topic = ctx.topic("flood")
    await create_topics(ctx, [topic], partitions=FLOOD_PARTITIONS)
    child, fed = await with_console(
        ctx, "flood", topic, flood_feeder(ctx, topic), timeout=seconds + 90,
        extra=["--panes", "3", "--seconds", str(seconds)],
    )
    result.details = {"child": child, "feeder": fed, "partitions": FLOOD_PARTITIONS, "panes": 3}
    result.add(
        Figure(
            "ingested_per_s",
            child["ingest_rate_total"],
            "records/s",
            "records read, decoded, filtered and buffered per second by the console's three panes together",
            baseline_name="records written per second by the feeder (the most a pane can read), x3 panes",
            baseline_value=fed["rate"] * 3,
            goal=Goal(GoalKind.VALUE_AT_LEAST, 20_000, ">= 20,000 records/s"),
        )
    )
    raw_ingest = ctx.shared.get("raw_ingest_rate")
    result.add(
        Figure(
            "ingested_per_s_per_pane",
            child["ingest_rate_min_pane"],
            "records/s",
            "the slowest pane's ingest rate under the flood",
            baseline_name="raw getmany + json.loads, one reader, no console (ingest scenario)"
            if raw_ingest
            else "raw getmany + json.loads (ingest scenario not run)",
            baseline_value=raw_ingest,
        )
    )
    result.add(
        Figure(
            "key_to_screen_p99",
            child["key_p99_ms"],
            "ms",
            f"key press ']' to the first painted frame showing its effect, p99 of {child['key_presses']} presses",
            goal=Goal(GoalKind.VALUE_BELOW, 50.0, "p99 < 50 ms"),
        )
    )
    result.add(Figure("frames_per_s", child["fps"], "frames/s", "frames painted per second under the flood"))
    return result


def paced_publisher(ctx: BenchContext, topic_instance: str, rate: int) -> Feeder:
    """Publish ``rate`` events/s through the EventPublisher until stopped (the e2e scenario's writer)."""

    async def feed(stop: asyncio.Event) -> dict[str, Any]:
        from tui import catalog
        from tui.bench.publish import _until_connected
        from tui.kafka.publish.publisher import EventPublisher
        from tui.templates import template

        event = catalog.lookup("MESSAGES_UPSERT")
        publisher = EventPublisher(ctx.settings(), ctx.lookup())
        await publisher.start()
        sent = 0
        try:
            await _until_connected(publisher)
            loop = asyncio.get_running_loop()
            tick = 0.01
            per_tick = max(1, int(rate * tick))
            next_at = loop.time()
            watch = Stopwatch()
            while not stop.is_set():
                for _ in range(per_tick):
                    await publisher.publish(event, topic_instance, template(event, topic_instance, seq=sent))
                    sent += 1
                next_at += tick
                await asyncio.sleep(max(0.0, next_at - loop.time()))
            elapsed = watch.elapsed
        finally:
            await publisher.stop()
        status = publisher.status
        return {"sent": sent, "rate": sent / max(elapsed, 1e-9), "failed": status.failed}

    return feed


async def raw_end_to_end(ctx: BenchContext, topic: str, rate: int, seconds: float) -> dict[str, Any]:
    """Baseline: raw producer at ``rate``/s, raw ``getmany`` reader; latency send → record in hand."""
    client = consumer(ctx.options())
    producer = raw_producer(ctx.options())
    await client.start()
    await producer.start()
    latencies: list[float] = []
    try:
        partitions = [TopicPartition(topic, p) for p in (client.partitions_for_topic(topic) or {0})]
        client.assign(partitions)
        await client.seek_to_end(*partitions)
        items = prepare(ctx, 100, seed=5)

        async def write() -> None:
            loop = asyncio.get_running_loop()
            tick, next_at, n = 0.01, loop.time(), 0
            end = loop.time() + seconds
            while loop.time() < end:
                for _ in range(max(1, int(rate * tick))):
                    item = items[n % len(items)]
                    n += 1
                    await producer.send(topic, item.value, key=item.key, headers=[("sent", repr(time.time()).encode())])
                next_at += tick
                await asyncio.sleep(max(0.0, next_at - loop.time()))

        writer = asyncio.create_task(write())
        while not writer.done() or len(latencies) == 0:
            batches = await client.getmany(timeout_ms=100)
            now = time.time()
            for messages in batches.values():
                for m in messages:
                    sent = dict(m.headers).get("sent")
                    if sent:
                        latencies.append(now - float(sent))
            if writer.done() and not batches:
                break
        await writer
    finally:
        await producer.stop()
        await client.stop()
    return {"records": len(latencies), "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000}


async def run_end_to_end(ctx: BenchContext) -> ScenarioResult:
    """Measure publish → row visible at 1,000 records/s."""
    from tui import catalog
    from tui.topology import Layout, topic_name

    result = ScenarioResult("e2e")
    seconds = 3.0 if ctx.quick else 20.0
    rate = 1000
    instance = ctx.demo()[0].name
    topic = topic_name(ctx.prefix, Layout.INSTANCE, instance, catalog.lookup("MESSAGES_UPSERT"))
    await create_topics(ctx, [topic])
    ctx.progress(f"e2e: raw baseline at {rate}/s for {seconds:.0f}s")
    raw = await raw_end_to_end(ctx, topic, rate, seconds)
    child, fed = await with_console(
        ctx, "e2e", topic, paced_publisher(ctx, instance, rate), timeout=seconds + 90,
        extra=["--panes", "1", "--seconds", str(seconds)],
    )
    result.details = {"child": child, "publisher": fed, "raw": raw, "rate": rate}
    result.add(
        Figure(
            "publish_to_visible_p99",
            child["p99_ms"],
            "ms",
            f"EventPublisher.publish → row visible on a painted frame, p99 of {child['rows_measured']} rows "
            f"at {rate}/s",
            baseline_name="raw aiokafka send → raw getmany, same rate and topic, no console",
            baseline_value=raw["p99_ms"],
            goal=Goal(GoalKind.VALUE_BELOW, 150.0, "p99 < 150 ms"),
        )
    )
    return result


async def run_memory(ctx: BenchContext) -> ScenarioResult:
    """Measure the panes' RSS growth over many records."""
    result = ScenarioResult("memory")
    records = 30_000 if ctx.quick else 1_000_000
    topic = ctx.topic("memory")
    await create_topics(ctx, [topic], partitions=FLOOD_PARTITIONS)
    bound = 35.0 if ctx.quick else 840.0
    child, fed = await with_console(
        ctx, "memory", topic, flood_feeder(ctx, topic), timeout=bound + 30,
        extra=["--panes", "3", "--records", str(records), "--seconds", str(bound)],
    )
    result.details = {"child": child, "feeder": fed, "records_per_pane": records, "panes": 3}
    if ctx.quick:
        result.details["note"] = f"--quick: {records:,} records per pane, not 1,000,000; the goal is judged on full runs"
    samples = child["samples"]
    plateau = samples[-1]["rss"] - samples[0]["rss"] if len(samples) > 1 else 0
    result.add(
        Figure(
            "rss_growth",
            child["growth"] / MB,
            "MiB",
            f"RSS growth of the console from panes ready to {child['records_per_pane']:,} records through each of "
            "3 panes",
            baseline_name="RSS of the console with the panes ready (before any record)",
            baseline_value=child["rss_ready"] / MB,
            goal=None if ctx.quick else Goal(GoalKind.VALUE_BELOW, 50.0, "< 50 MiB"),
        )
    )
    peak = max(s["rss"] for s in samples) if samples else child["rss_end"]
    result.add(
        Figure(
            "rss_growth_peak",
            (peak - child["rss_ready"]) / MB,
            "MiB",
            "the largest RSS growth seen at the ten checkpoints (RSS moves with the allocator, not only the buffers)",
        )
    )
    result.add(
        Figure(
            "rss_growth_after_first_tenth",
            plateau / MB,
            "MiB",
            "RSS growth from the first tenth of the records to the end (buffers already full: should be ~0)",
        )
    )
    await _large_records(ctx, result)
    return result


async def _large_records(ctx: BenchContext, result: ScenarioResult) -> None:
    """The second run: 1 MB records through three panes, against the panes' byte budget."""
    records = 80 if ctx.quick else 400
    budget = load_app_settings(None, environ={}).pane_buffer_bytes
    topic = ctx.topic("memory-large")
    await create_topics(ctx, [topic], partitions=FLOOD_PARTITIONS)
    ctx.progress(f"memory: {records} records of {LARGE_RECORD_BYTES / MB:.0f} MB through 3 panes")
    bound = 60.0 if ctx.quick else 300.0
    child, fed = await with_console(
        ctx, "memory", topic, large_feeder(ctx, topic, records + 40), timeout=bound + 30,
        extra=["--panes", "3", "--records", str(records), "--seconds", str(bound)],
    )
    result.details["large_records"] = {"child": child, "feeder": fed, "records_per_pane": records, "panes": 3,
                                       "pane_buffer_bytes": budget}
    peak = max([s["rss"] for s in child["samples"]] + [child["rss_end"]])
    result.add(
        Figure(
            "rss_growth_large_records",
            (peak - child["rss_ready"]) / MB,
            "MiB",
            f"the largest RSS growth of the console while {child['records_per_pane']:,} records of "
            f"{fed.get('record_bytes', 0) / MB:.1f} MB went through each of 3 panes (each pane keeps at most "
            f"{budget / MB:,.0f} MiB of them: EVOKAFKA_PANE_BUFFER_BYTES)",
            baseline_name="the 3 panes' byte budget (3 x EVOKAFKA_PANE_BUFFER_BYTES)",
            baseline_value=3 * budget / MB,
            goal=Goal(GoalKind.VALUE_BELOW, 3 * budget / MB, f"< {3 * budget / MB:,.0f} MiB (the panes' byte budget)"),
        )
    )

