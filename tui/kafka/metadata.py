"""Cluster metadata as the readers need it, and every use of aiokafka's private client in one place.

aiokafka's public API gives topic names (``topics()``) and the partitions of topics it already knows; asking the
cluster afresh, for every topic without naming any (naming a missing topic can auto-create it), goes through the
consumer's internal client (``client._client``). Streams, lag and the registry use these functions instead of
reaching into it themselves, so an aiokafka upgrade that moves it is one module to mend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer

from tui.kafka.options import writes_refused


async def refresh(client: AIOKafkaConsumer) -> None:
    """Ask the cluster for the metadata of the topics ``client`` knows of, now."""
    await client._client.force_metadata_update()


async def every_topic(client: AIOKafkaConsumer) -> Any:
    """The cluster's metadata for every topic (aiokafka's ``ClusterMetadata``), asked without naming any."""
    return await client._client.fetch_all_metadata()


async def partitions_for(client: AIOKafkaConsumer, topic: str, timeout: float) -> set[int]:
    """The partitions of ``topic`` (empty when it does not exist by ``timeout`` seconds)."""
    # Metadata for a topic may lag its creation by a moment: ask again until the bound.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await refresh(client)
        found = client.partitions_for_topic(topic)
        if found:
            return set(found)
        if loop.time() >= deadline:
            return set()
        await asyncio.sleep(0.1)


async def cluster_partitions(client: AIOKafkaConsumer, known: Sequence[str] = ()) -> dict[str, set[int]]:
    """``{topic: partitions}`` of every topic in the cluster; ``known`` topics missing from the answer are asked
    by name."""
    # Metadata for *all* topics, asked without naming any: naming a missing topic in a metadata request can
    # auto-create it on brokers with auto-creation on, and a reader must never create topics. aiokafka's public
    # ``topics()`` gives names only, so the client's own all-topics request is used for the partitions too.
    cluster = await every_topic(client)
    out: dict[str, set[int]] = {}
    for topic in cluster.topics():
        found = cluster.partitions_for_topic(topic)
        if found:
            out[str(topic)] = set(found)
    lost = sorted(set(known) - set(out))
    if lost and not writes_refused():  # read-only: never a request that may create a topic (they show up later)
        # Topics this reader was reading before the cluster went away. The test broker, restarted empty,
        # leaves topics re-created by a producer out of its all-topics answer for a while; asked by name it
        # answers. These topics existed before, so naming them (which may re-create them) is acceptable.
        # Into the client's own metadata: its fetcher finds the partitions' leaders there.
        named = client._client.cluster
        if await client._client._metadata_update(named, lost):
            for topic in lost:
                found = named.partitions_for_topic(topic)
                if found:
                    out[topic] = set(found)
    return out
