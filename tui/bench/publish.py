"""Scenario ``publish``: the EventPublisher against two baselines measured in the same run.

- Evolution API's pattern: build the envelope, then ``await producer.send(...)`` for each event in turn (kafkajs,
  no linger), so each event waits for its ack before the next leaves. Here: ``send_and_wait`` per record with
  ``acks=all`` and ``linger_ms=0``. Goal: the publisher is **at least 10x** faster.
- Raw aiokafka: the same records as pre-built bytes (envelopes encoded before the clock starts), sent with
  ``acks=all``, all in flight, every ack awaited. Goal: the publisher keeps **at least 0.8x** of that rate while
  building every envelope, routing it and tracking every delivery.

All three send the same realistic traffic to the same per-instance topics (one partition each, as
``KAFKA_NUM_PARTITIONS=1`` creates them), created before timing. Rounds alternate the three so a slow moment of
the machine does not land on one of them only; each figure is the median of its rounds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.workload import BenchContext, Prepared, Stopwatch, all_topics, create_topics, prepare, raw_producer
from tui.envelope import build

NAME = "publish"


def _sizes(ctx: BenchContext) -> tuple[int, int, int]:
    """(rounds, records per fast round, records per sequential round)."""
    return (1, 5_000, 300) if ctx.quick else (3, 50_000, 3_000)


async def raw_rate(ctx: BenchContext, items: list[Prepared]) -> float:
    """Records/s of raw aiokafka sending pre-built bytes, every ack awaited."""
    producer = raw_producer(ctx.options())
    await producer.start()
    try:
        watch = Stopwatch()
        futures = []
        for item in items:
            futures.append(await producer.send(item.topic, item.value, key=item.key, headers=item.headers))
        await asyncio.gather(*futures)
        return len(items) / watch.elapsed
    finally:
        await producer.stop()


async def sequential_rate(ctx: BenchContext, items: list[Prepared]) -> float:
    """Records/s of Evolution API's pattern: build the envelope, await the send, next."""
    producer = raw_producer(ctx.options(), linger_ms=0)
    await producer.start()
    try:
        watch = Stopwatch()
        for item in items:
            envelope = build(item.event, item.instance, item.data, sender=item.sender)
            await producer.send_and_wait(item.topic, envelope.encode(), key=item.key, headers=envelope.headers)
        return len(items) / watch.elapsed
    finally:
        await producer.stop()


async def publisher_rate(ctx: BenchContext, items: list[Prepared]) -> tuple[float, dict[str, Any]]:
    """Records/s of the EventPublisher (envelope built, routed, every delivery awaited), and what it reported."""
    from tui.kafka.publish.publisher import EventPublisher

    publisher = EventPublisher(ctx.settings(), ctx.lookup())
    await publisher.start()
    try:
        await _until_connected(publisher)
        # Warm-up, not timed: the publisher checks each topic once per connection (create-if-missing), a cost
        # paid on the first record of a topic, not per record.
        warm = {i.topic: i for i in items}.values()
        warm_tickets = [await publisher.publish(i.event, i.instance, i.data, sender=i.sender) for i in warm]
        await publisher.flush()
        warm_deliveries = [d for t in warm_tickets for d in await t.wait()]
        if any(d.error for d in warm_deliveries):
            raise RuntimeError("the publisher could not deliver the warm-up records")
        watch = Stopwatch()
        tickets = [await publisher.publish(i.event, i.instance, i.data, sender=i.sender) for i in items]
        # flush() is the publisher's own "every record acknowledged or failed"; the tickets are read after the
        # clock stops (awaiting 50,000 tickets one by one would time the bench's loop, not the publisher).
        await publisher.flush()
        elapsed = watch.elapsed
        status = publisher.status
        deliveries = [await t.wait() for t in tickets]
    finally:
        await publisher.stop()
    failed = sum(1 for batch in deliveries for d in batch if d.error is not None)
    sent = sum(len(batch) for batch in deliveries)
    return len(items) / elapsed, {
        "deliveries": sent,
        "failed": failed,
        "order_kept": _order_kept(deliveries),
        "idempotence": status.idempotence,
        "state": str(status.state),
    }


async def _until_connected(publisher: Any, timeout: float = 15.0) -> None:
    # The publisher connects in the background; timing starts once it says it is connected.
    connected = asyncio.Event()

    def seen(status: Any) -> None:
        if str(status.state) == "connected":
            connected.set()

    unsubscribe = publisher.subscribe(seen)
    try:
        seen(publisher.status)
        await asyncio.wait_for(connected.wait(), timeout=timeout)
    except TimeoutError:
        raise RuntimeError(f"the publisher did not connect within {timeout:.0f}s: {publisher.status.describe()}") from None
    finally:
        unsubscribe()


def _order_kept(deliveries: list[Any]) -> bool:
    """Per-key order: within each partition, offsets rise in the order the events were handed over."""
    last: dict[tuple[str, int], int] = {}
    for batch in deliveries:
        for d in batch:
            if d.error is not None or d.partition is None or d.offset is None:
                continue
            where = (d.topic, d.partition)
            if d.offset <= last.get(where, -1):
                return False
            last[where] = d.offset
    return True


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the publish scenario."""
    result = ScenarioResult(NAME)
    rounds, fast, slow = _sizes(ctx)
    await create_topics(ctx, all_topics(ctx))
    raw: list[float] = []
    sequential: list[float] = []
    published: list[float] = []
    publisher_notes: list[dict[str, Any]] = []
    for round_no in range(rounds):
        items = prepare(ctx, fast, seed=round_no)
        ctx.progress(f"publish round {round_no + 1}/{rounds}: raw aiokafka, {fast:,} records")
        raw.append(await raw_rate(ctx, items))
        ctx.progress(f"publish round {round_no + 1}/{rounds}: EventPublisher, {fast:,} records")
        rate, notes = await publisher_rate(ctx, items)
        published.append(rate)
        publisher_notes.append(notes)
        ctx.progress(f"publish round {round_no + 1}/{rounds}: await-each-send, {slow:,} records")
        sequential.append(await sequential_rate(ctx, items[:slow]))
    result.details = {
        "rounds": rounds,
        "records_per_round": fast,
        "records_per_sequential_round": slow,
        "instances": ctx.instances,
        "topics": len(all_topics(ctx)),
        "partitions_per_topic": 1,
        "raw_producer": "aiokafka acks=all linger_ms=5 max_batch_size=256KiB, pre-built bytes, all in flight",
        "sequential_producer": "aiokafka acks=all linger_ms=0, envelope built then send_and_wait, one at a time",
        "publisher_warm_up": "one record per topic before timing (the publisher checks a topic once per connection)",
    }
    ctx.shared["raw_publish_rate"] = median(raw)
    result.details["publisher"] = publisher_notes
    value = median(published)
    result.add(
        Figure(
            "publisher_vs_await_each",
            value,
            "records/s",
            "EventPublisher (acks=all, per-key order kept) against Evolution API's await-each-send pattern",
            baseline_name="await each send in turn (Evolution API's pattern)",
            baseline_value=median(sequential),
            goal=Goal(GoalKind.RATIO_AT_LEAST, 10.0, ">= 10x"),
            samples=published,
        )
    )
    result.add(
        Figure(
            "publisher_vs_raw",
            value,
            "records/s",
            "EventPublisher against raw aiokafka sending the same records as pre-built bytes",
            baseline_name="raw aiokafka, pre-built bytes, no envelopes",
            baseline_value=median(raw),
            goal=Goal(GoalKind.RATIO_AT_LEAST, 0.8, ">= 0.8x"),
            samples=published,
        )
    )
    failed = sum(n["failed"] for n in publisher_notes)
    if failed or not all(n["order_kept"] for n in publisher_notes):
        result.status = f"failed: {failed} deliveries failed, order kept: {all(n['order_kept'] for n in publisher_notes)}"
    return result
