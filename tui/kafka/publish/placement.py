"""Where the event publisher's records go: the topics it made (or checked) and the partition of each lane.

Both are learned once per connection and forgotten when the broker no longer knows a topic:
``KAFKA_AUTO_CREATE_TOPICS=true`` creates exactly the topics published to, once per topic; ``false`` sends
anyway, as Evolution API 2.3.6 does (the broker's own auto-creation decides), with a warning for each topic
that did not exist. The partition of a key is the producer's own key hash, computed once per topic and key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import TYPE_CHECKING, Any

from tui.config import KafkaSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

# The publisher's logger: `evokafka publish` quiets it by this name, whichever module of the publisher speaks.
log = logging.getLogger("tui.kafka.publish.publisher")


# Made on first use, not at import: importing the publisher (the console does before its first frame) does not
# import aiokafka.
@functools.cache
def _partitioner() -> Any:
    from aiokafka.partitioner import DefaultPartitioner

    return DefaultPartitioner()


@functools.cache
def _topic_unknown_errors() -> tuple[type[Exception], ...]:
    from aiokafka.errors import (
        LeaderNotAvailableError,
        NotLeaderForPartitionError,
        UnknownError,
        UnknownTopicOrPartitionError,
    )

    return (UnknownTopicOrPartitionError, NotLeaderForPartitionError, LeaderNotAvailableError, UnknownError)


class TopicMissingError(Exception):
    """The topic does not exist and auto-creation is off."""


def topic_unknown(exc: BaseException) -> bool:
    """An answer that means the broker does not (or no longer) know the topic or partition.

    ``UnknownError`` is among them: a restarted, empty broker answers a produce to a partition it lost with
    it. Each is worth another attempt once the topic is made again.
    """
    return isinstance(exc, _topic_unknown_errors())


class Placement:
    """The topics made (or checked) and the partition of each lane (topic, key), for the current connection."""

    def __init__(self, settings: KafkaSettings, options: ConnectionOptions) -> None:
        self.settings = settings
        self.options = options
        self.ready_topics: set[str] = set()
        """Topics made (or found) on this connection."""
        self.partitions: dict[tuple[str, str], int] = {}
        """The partition of each lane (topic, key), per connection."""
        self.missing_topics: set[str] = set()
        """Topics that did not exist when first sent to with auto-creation off (warned once each)."""

    def reset(self) -> None:
        """A new connection: a broker that restarted may have lost its topics, so make (or check) them again."""
        self.ready_topics.clear()
        self.partitions.clear()

    def forget(self, producer: AIOKafkaProducer | None) -> None:
        """The broker no longer knows a topic we made (it restarted empty): make or check every one again,
        and have the producer fetch fresh metadata rather than send to partitions it remembers."""
        if self.ready_topics:
            log.info("publisher: the broker does not know a topic any more; topics will be made again")
        self.ready_topics.clear()
        self.partitions.clear()
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.client.force_metadata_update()

    async def ensure_topic(self, admin: Admin | None, topic: str) -> None:
        """Make ``topic`` (auto-creation on), or check whether it exists (off) and warn when it does not: the
        send still happens, as in Evolution API, and the broker decides. Once per connection."""
        if topic in self.ready_topics:
            return
        assert admin is not None
        timeout = self.options.request_timeout_ms / 1000
        if self.settings.auto_create_topics:
            spec = TopicSpec(topic, self.settings.num_partitions, self.settings.replication_factor)
            await asyncio.wait_for(admin.create_topics([spec]), timeout=timeout)
        else:
            names = await asyncio.wait_for(admin.topic_names(), timeout=timeout)
            if topic not in names and topic not in self.missing_topics:
                self.missing_topics.add(topic)
                log.warning(
                    "publisher: topic %s does not exist and KAFKA_AUTO_CREATE_TOPICS=false; sending anyway, as "
                    "Evolution API does: the broker's auto.create.topics.enable decides", topic,
                )
        self.ready_topics.add(topic)

    async def partition_for(self, producer: AIOKafkaProducer, lane: tuple[str, str], key: bytes) -> int:
        """The partition of ``lane`` (the producer's own key hash over the topic's partitions), remembered."""
        known = sorted(await producer.partitions_for(lane[0]))
        if not known:
            from aiokafka.errors import UnknownTopicOrPartitionError

            raise UnknownTopicOrPartitionError(f"no partitions known for {lane[0]}")
        partition = int(_partitioner()(key, known, known))
        self.partitions[lane] = partition
        return partition
