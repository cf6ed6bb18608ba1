"""Cluster metadata as the readers need it, and every use of aiokafka's private client in one place.

aiokafka's public API gives topic names (``topics()``) and the partitions of topics it already knows; asking the
cluster afresh, for every topic without naming any (naming a missing topic can auto-create it), goes through the
consumer's internal client (``client._client``). Streams, lag and the registry use these functions instead of
reaching into it themselves, so an aiokafka upgrade that moves it is one module to mend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tui.kafka.options import writes_refused

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

NO_TOPIC = " evokafka: cluster metadata only (not a topic) "
"""The one name a cluster-only metadata request asks for. Kafka's answer to an empty topic list depends on the
request version (v0: every topic) and some brokers (the test broker) answer every topic to it too, which at
31,000 topics is a few MB decoded in Python; a name no broker can hold (spaces, a colon) gets an
``INVALID_TOPIC`` line and the brokers, and is never auto-created (auto-creation also refused in the request)."""


async def refresh(client: AIOKafkaConsumer) -> None:
    """Ask the cluster for the metadata of the topics ``client`` knows of, now."""
    await client._client.force_metadata_update()


async def every_topic(client: AIOKafkaConsumer) -> Any:
    """The cluster's metadata for every topic (aiokafka's ``ClusterMetadata``), asked without naming any."""
    return await client._client.fetch_all_metadata()


def connect_answer(client: AIOKafkaAdminClient | AIOKafkaConsumer) -> dict[str, int] | None:
    """``{topic: partition count}`` from the metadata ``client`` was given when it connected, when that answer
    listed topics; None when it listed none.

    aiokafka connects with a metadata request for an empty topic list, which a broker answers with every topic
    (request version 0, and the test broker at any version) or with none (Kafka at version 1 and later): an
    answer that lists topics is the cluster's whole list, as fresh as the connection.
    """
    cluster = client._client.cluster
    names = cluster.topics(exclude_internal_topics=False)
    if not names:
        return None
    return {str(name): len(cluster.partitions_for_topic(name) or ()) for name in names}


def kept_connect_answer(client: AIOKafkaAdminClient | AIOKafkaConsumer) -> Callable[[], dict[str, int] | None]:
    """:func:`connect_answer`, to be read later: after the client has refreshed its metadata for the topics it
    reads, which replaces what it holds. Keeping it costs nothing: aiokafka replaces its mapping of partitions
    on every refresh and never changes one in place."""
    partitions: dict[Any, dict[int, Any]] = client._client.cluster._partitions

    def answer() -> dict[str, int] | None:
        if not partitions:
            return None
        return {str(name): len(of_topic) for name, of_topic in partitions.items()}

    return answer


async def every_topic_of(client: AIOKafkaAdminClient) -> dict[str, int]:
    """``{topic: partition count}`` of every topic, asked now through an admin client: its ``describe_topics``
    turns the answer into dicts first, which at tens of thousands of topics costs as much as decoding it."""
    cluster = await client._client.fetch_all_metadata()
    return {
        str(name): len(cluster.partitions_for_topic(name) or ())
        for name in cluster.topics(exclude_internal_topics=False)
    }


async def cluster_only(client: AIOKafkaAdminClient) -> dict[str, Any]:
    """The cluster's brokers, id and controller (``describe_cluster``'s answer), without any topic's metadata."""
    from aiokafka.protocol.metadata import MetadataRequest

    request = MetadataRequest([NO_TOPIC], allow_auto_topic_creation=False)
    response = await client._send_request(request)
    answer: dict[str, Any] = response.to_object()
    answer.pop("topics", None)
    return answer


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
