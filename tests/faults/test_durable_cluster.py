"""A durable three-broker cluster (Tansu on one S3 bucket served by moto_server): what evokafka acknowledged
survives brokers killed (-9) and restarted, one broker lost for good leaves the others carrying on, and the
registry outlives restarts. Records are counted by a foreign client (confluent-kafka, partitions assigned, read
from the beginning).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tests.cluster import kill_all, start_all
from tests.conftest import async_wait_until
from tests.faults.conftest import start_publish
from tests.foreign import read_all
from tui.config import load_settings
from tui.demo.durable import DurableCluster
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.instance_settings import InMemorySettings
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry
from tui.status import PublisherState, RegistryHealthState

pytestmark = [pytest.mark.slow]


def read_places(bootstrap: str, topic: str) -> dict[tuple[int, int], str]:
    """(partition, offset) → message id of every record the foreign reader sees."""
    records = read_all(bootstrap, [topic], expected=10**9, timeout=120, quiet=5.0)
    return {(r.partition, r.offset): orjson.loads(r.value or b"")["data"]["key"]["id"] for r in records}


@pytest.mark.timeout(420)
async def test_every_broker_killed_and_restarted_during_20000_records(
    durable_cluster: DurableCluster, prefix: str, tmp_path: Path
) -> None:
    count = 20_000
    run = await start_publish(
        durable_cluster.bootstrap, prefix, tmp_path, "messages.upsert", "-i", "acme",
        "--count", str(count), "--rate", "2000", "--json",
        KAFKA_RECONNECT_INITIAL_DELAY_MS="500", KAFKA_CONNECTION_TIMEOUT="2000",
    )
    try:
        await async_wait_until(lambda: run.acknowledged() >= 4000, timeout=180)
        kill_all(durable_cluster)
        killed_at = asyncio.get_running_loop().time()
        await async_wait_until(lambda: run.said("publisher: stalled", after=killed_at) is not None
                               or run.said("publisher: reconnecting", after=killed_at) is not None, timeout=10)
        start_all(durable_cluster)
        code = await run.wait(timeout=300)
    finally:
        run.kill()
    errors = "\n".join(line for _, line in run.stderr if line.startswith(("publisher", "route", "sent", "accounted")))
    summary = run.summary()
    assert code == 0, (summary, errors[-3000:])
    assert summary["acknowledged"] == count and summary["lost"] == 0, summary
    acknowledged = [(int(line["partition"]), int(line["offset"])) for line in run.final_statuses().values()]  # type: ignore[call-overload]
    held = await asyncio.to_thread(read_places, durable_cluster.brokers[1].bootstrap, f"{prefix}.global.messages.upsert")
    missing = [place for place in acknowledged if place not in held]
    assert missing == []
    ids = list(held.values())
    duplicates = len(ids) - len(set(ids))
    assert len(set(ids)) == count
    assert duplicates == summary["duplicates_seen"], (duplicates, summary)
    assert duplicates <= int(summary["resent"])  # type: ignore[call-overload]


@pytest.mark.timeout(240)
async def test_one_broker_lost_for_good_the_others_carry_on(durable_cluster: DurableCluster, prefix: str) -> None:
    settings = load_settings(
        None, environ={}, brokers=durable_cluster.bootstrap, topic_prefix=prefix, global_enabled="true",
        auto_create_topics="true", reconnect_initial_delay_ms="200", connection_timeout="2000",
        **DOCUMENT_EVENT_FIELDS,  # Evolution reads a missing KAFKA_EVENTS_* as false
    )
    registry = InstanceRegistry(settings, topic=f"reg_{prefix}")
    await registry.start()
    publisher = EventPublisher(settings, InMemorySettings())
    await publisher.start()
    try:
        await async_wait_until(lambda: publisher.status.state is PublisherState.CONNECTED, timeout=30)
        await registry.set_request("ana", True, [])
        before = [await publisher.publish("CALL", "acme", {"n": n}) for n in range(200)]
        await publisher.flush()
        assert [d.error for t in before for d in await t.wait() if not d.ok] == []
        # The broker the publisher talks to (the client picked one of KAFKA_BROKERS at random), for good.
        in_use = publisher.broker_in_use
        lost = [b for b in durable_cluster.brokers if b.bootstrap == in_use]
        assert len(lost) == 1, f"the publisher talks to {in_use}, not one of {durable_cluster.bootstrap}"
        lost[0].kill()
        after = [await publisher.publish("CALL", "acme", {"n": n}) for n in range(200, 400)]
        await asyncio.wait_for(publisher.flush(), timeout=120)
        assert [d.error for t in after for d in await t.wait() if not d.ok] == []
        await asyncio.wait_for(registry.set_request("bob", True, []), timeout=60)
        await async_wait_until(lambda: registry.synced, timeout=30)
        assert sorted(registry.all()) == ["ana", "bob"]
        status = publisher.status
        assert status.acknowledged == 400 and status.lost == 0 and status.failed == 0
    finally:
        await publisher.stop()
        await registry.stop()


@pytest.mark.timeout(240)
async def test_registry_kept_across_restarts(durable_cluster: DurableCluster, prefix: str) -> None:
    settings = load_settings(
        None, environ={}, brokers=durable_cluster.bootstrap, topic_prefix=prefix, connection_timeout="2000",
    )
    console = InstanceRegistry(settings, topic=f"reg_{prefix}")
    await console.start()
    states: list[RegistryHealthState] = []
    console.subscribe_health(lambda health: states.append(health.state))
    try:
        for name in ("ana", "bob", "cid"):
            await console.set_request(name, True, ["MESSAGES_UPSERT"])
        held = console.all()
        kill_all(durable_cluster)
        await async_wait_until(lambda: console.health.state is RegistryHealthState.NOT_ANSWERING, timeout=10)
        start_all(durable_cluster)
        await async_wait_until(lambda: console.synced, timeout=90)
        assert console.all() == held
        assert RegistryHealthState.LOST not in states
        async with InstanceRegistry(settings, topic=f"reg_{prefix}", read_only=True) as fresh:
            assert fresh.all() == held
    finally:
        await console.stop()
