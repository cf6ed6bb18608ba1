"""Scenario ``faults``: what the publisher says and delivers through each kind of outage, as figures.

For each fault — a silent link cut, a reset link cut, a broker restarted empty (memory storage), a durable
broker restarted (S3 storage), the broker of three the publisher talks to lost for good — an
:class:`EventPublisher` sends records at a steady rate on brokers of the scenario's own (``--brokers`` is not
used: the faults need brokers it may kill); the fault comes after a second and ends three seconds later. Figures: seconds until the publisher's state
changed (goal: under 3 s, whatever ``KAFKA_REQUEST_TIMEOUT`` is; the default 30 s is used), seconds until
delivery resumed once the fault ended; details: acknowledged, lost (as a reader counts, and as the publisher
says), duplicates (both), and whether the publisher's counts equal the reader's. The durable cases need
``moto_server`` (``moto[server]``); without it they say "not available".
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult
from tui.bench.workload import BenchContext
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.durable import DurableCluster, s3_available
from tui.demo.linkproxy import LinkProxy
from tui.instance_settings import InMemorySettings
from tui.kafka import metadata
from tui.kafka.options import ConnectionOptions, start_client, stop_quietly
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.streams import consumer
from tui.status import PublisherState, PublisherStatus

NAME = "faults"
FAULT_AT_S = 1.0
FAULT_FOR_S = 3.0
RATE = 500
_UNCHANGED = (PublisherState.CONNECTED, PublisherState.DISCONNECTED)
"""States that are not a reaction to the fault (DISCONNECTED: the publisher stopped at the end)."""
STATE_GOAL = Goal(GoalKind.VALUE_BELOW, 3.0, "< 3 s")


@dataclass
class Setup:
    """Where a case publishes, how it breaks and mends it, and how it cleans up."""

    bootstrap: str
    reader_bootstrap: str
    fault: Callable[[EventPublisher], Awaitable[None]]
    """Breaks the link, given the publisher (the broker to lose can be the one it talks to)."""
    mend: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


async def _proxied(silent: bool) -> Setup:
    port = free_port()
    proxy = await LinkProxy("127.0.0.1", port).start()
    broker = EmbeddedBroker(port=port, advertised_port=proxy.port).start()

    async def fault(_publisher: EventPublisher) -> None:
        await (proxy.cut_silently() if silent else proxy.cut())

    async def close() -> None:
        await proxy.stop()
        broker.stop()

    return Setup(f"127.0.0.1:{proxy.port}", f"127.0.0.1:{proxy.port}", fault, proxy.restore, close)


async def _empty_restart() -> Setup:
    broker = EmbeddedBroker().start()

    async def fault(_publisher: EventPublisher) -> None:
        broker.stop()

    async def mend() -> None:
        broker.start()

    async def close() -> None:
        broker.stop()

    return Setup(broker.bootstrap, broker.bootstrap, fault, mend, close)


async def _durable(size: int, lose_one: bool) -> Setup:
    directory = tempfile.TemporaryDirectory(prefix="evokafka-bench-")
    cluster = DurableCluster(Path(directory.name), size=size).start()

    async def fault(publisher: EventPublisher) -> None:
        if not lose_one:
            for broker in cluster.brokers:
                broker.kill()
            return
        # The broker the publisher talks to: the client picks one of KAFKA_BROKERS at random, and losing one it
        # does not use is no fault for it.
        in_use = publisher.broker_in_use
        lost = next((b for b in cluster.brokers if b.bootstrap == in_use), cluster.brokers[0])
        lost.kill()

    async def mend() -> None:
        if not lose_one:
            for broker in cluster.brokers:
                broker.start()

    async def close() -> None:
        cluster.stop()
        directory.cleanup()

    # The reader asks the brokers left standing (any of them, as a client given the list would).
    return Setup(cluster.bootstrap, cluster.bootstrap, fault, mend, close)


CASES: dict[str, Callable[[], Awaitable[Setup]]] = {
    "silent_cut": lambda: _proxied(silent=True),
    "reset_cut": lambda: _proxied(silent=False),
    "empty_restart": _empty_restart,
    "durable_restart": lambda: _durable(1, lose_one=False),
    "one_of_three_lost": lambda: _durable(3, lose_one=True),
}


async def run(ctx: BenchContext) -> ScenarioResult:
    """Every case in turn; a case that fails says why and the others still run."""
    result = ScenarioResult(NAME)
    total = 2500 if ctx.quick else 5000  # records keep coming through the whole fault (5 s at 500/s)
    result.details = {"records_per_case": total, "rate": RATE, "fault_at_s": FAULT_AT_S, "fault_for_s": FAULT_FOR_S}
    for case, make in CASES.items():
        if case.startswith(("durable", "one_of")) and not s3_available():
            result.details[case] = "not available: needs moto_server (pip install 'moto[server]')"
            continue
        ctx.progress(f"faults: {case}")
        try:
            figures, details = await asyncio.wait_for(_run_case(ctx, case, make, total), timeout=240)
        except Exception as exc:
            result.details[case] = f"failed: {exc.__class__.__name__}: {exc}"[:300]
            continue
        for figure in figures:
            result.add(figure)
        result.details[case] = details
    return result


async def _run_case(
    ctx: BenchContext, case: str, make: Callable[[], Awaitable[Setup]], total: int
) -> tuple[list[Figure], dict[str, Any]]:
    setup = await make()
    try:
        settings = ctx.settings(
            brokers=setup.bootstrap, topic_prefix=f"{ctx.prefix}{case.replace('_', '')}", global_enabled="true",
            connection_timeout="2000", request_timeout="30000", reconnect_initial_delay_ms="500",
        )
        publisher = EventPublisher(settings, InMemorySettings())
        changes: list[tuple[float, PublisherStatus]] = []
        loop = asyncio.get_running_loop()
        publisher.subscribe(lambda status: changes.append((loop.time(), status)))
        await publisher.start()
        try:
            fault_at, mended_at = await _drive(publisher, setup, total)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(publisher.flush(), timeout=120)
            with contextlib.suppress(Exception):
                await publisher.verify(timeout=60)
            status = publisher.status
        finally:
            stopped_at = loop.time()
            await publisher.stop()
        topic = f"{settings.topic_prefix}.global.call"
        reader = ctx.settings(brokers=setup.reader_bootstrap, connection_timeout="2000")
        seen = await _read(ConnectionOptions.from_settings(reader), topic)
    finally:
        await setup.close()
    changed = next(
        (at - fault_at for at, s in changes if at >= fault_at and s.state not in _UNCHANGED and at < stopped_at), None
    )
    resumed = _resumed(changes, mended_at)
    duplicates = sum(c - 1 for c in seen.values())
    details: dict[str, Any] = {
        "acknowledged": status.acknowledged,
        "failed": status.failed,
        "lost_said": status.lost,
        "lost_read": max(0, status.acknowledged + status.lost - len(seen)),
        "resent_said": status.resent,
        "duplicates_said": status.duplicates_seen,
        "duplicates_read": duplicates,
        "counts_equal": status.acknowledged == len(seen) and status.duplicates_seen == duplicates,
        "states_after_fault": _states(changes, fault_at),
    }
    figures: list[Figure] = []
    if changed is not None:
        figures.append(Figure(f"{case}.state_changed", changed, "s",
                              "seconds from the fault until the publisher left CONNECTED", goal=STATE_GOAL))
    else:
        details["state_changed"] = "never: the publisher went on without noticing (its broker stayed up)"
    if resumed is not None:
        figures.append(Figure(f"{case}.delivery_resumed", resumed, "s", "seconds from the end of the fault until "
                              "the next acknowledgement"))
    return figures, details


async def _drive(publisher: EventPublisher, setup: Setup, total: int) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    connected = asyncio.Event()
    unsubscribe = publisher.subscribe(lambda s: connected.set() if s.state is PublisherState.CONNECTED else None)
    if publisher.status.state is PublisherState.CONNECTED:
        connected.set()
    try:
        await asyncio.wait_for(connected.wait(), timeout=30)
    finally:
        unsubscribe()
    started = loop.time()
    fault_at = mended_at = 0.0
    for n in range(total):
        now = loop.time()
        if not fault_at and now - started >= FAULT_AT_S:
            await setup.fault(publisher)
            fault_at = loop.time()
        elif fault_at and not mended_at and now - fault_at >= FAULT_FOR_S:
            await setup.mend()
            mended_at = loop.time()
        delay = started + n / RATE - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing at the stated rate, not waiting for a condition
        await publisher.publish("CALL", "bench", {"n": n})
    if not fault_at:
        await setup.fault(publisher)
        fault_at = loop.time()
    if not mended_at:
        # The fault lasts its stated time even when the records ran out first (pacing the schedule).
        await asyncio.sleep(max(0.0, fault_at + FAULT_FOR_S - loop.time()))
        await setup.mend()
        mended_at = loop.time()
    return fault_at, mended_at


def _states(changes: list[tuple[float, PublisherStatus]], since: float) -> list[str]:
    """The publisher's states after ``since``, each change once, with its time (``stalled@2.0``)."""
    out: list[str] = []
    last: PublisherState | None = None
    for at, status in changes:
        if at >= since and status.state is not last:
            last = status.state
            out.append(f"{status.state.value}@{at - since:.1f}")
    return out


def _resumed(changes: list[tuple[float, PublisherStatus]], mended_at: float) -> float | None:
    before = next((s.acknowledged for at, s in reversed(changes) if at <= mended_at), 0)
    return next((at - mended_at for at, s in changes if at > mended_at and s.acknowledged > before), None)


async def _read(options: ConnectionOptions, topic: str) -> Counter[int]:
    """How many times a reader sees each record number, reading from the beginning until quiet for 3 s."""
    client = consumer(options, fetch_max_wait_ms=500)
    await start_client(client, options, timeout=10)
    seen: Counter[int] = Counter()
    try:
        partitions = await metadata.partitions_for(client, topic, timeout=10)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return seen
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while loop.time() - last < 3.0:
            batches = await client.getmany(timeout_ms=200, max_records=10_000)
            for messages in batches.values():
                for message in messages:
                    seen[int(orjson.loads(message.value or b"{}")["data"]["n"])] += 1
                    last = loop.time()
    finally:
        await stop_quietly(client, timeout=10)
    return seen
