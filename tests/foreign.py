"""The foreign client: confluent-kafka (librdkafka), reading by assignment from the beginning.

On this broker confluent-kafka's group subscribe reads nothing (README: "The embedded broker's quirks"), so partitions are assigned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition


@dataclass
class ForeignRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def read_all(
    bootstrap: str, topics: list[str], expected: int, timeout: float = 20.0, quiet: float | None = None
) -> list[ForeignRecord]:
    """Read ``topics`` from the beginning until ``expected`` records arrived or ``timeout`` passed (or, with
    ``quiet``, nothing arrived for that many seconds)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "evokafka-tests-foreign",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        assignment: list[TopicPartition] = []
        deadline = time.monotonic() + timeout
        for topic in topics:
            while True:
                meta = consumer.list_topics(topic, timeout=5)
                info = meta.topics.get(topic)
                if info is not None and info.error is None and info.partitions:
                    assignment.extend(TopicPartition(topic, p, OFFSET_BEGINNING) for p in info.partitions)
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"topic {topic} not found by confluent-kafka")
                time.sleep(0.1)
        consumer.assign(assignment)
        out: list[ForeignRecord] = []
        last = time.monotonic()
        while len(out) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                if quiet is not None and time.monotonic() - last >= quiet:
                    break
                continue
            last = time.monotonic()
            out.append(
                ForeignRecord(
                    msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                    [(k, v) for k, v in (msg.headers() or [])],
                )
            )
        return out
    finally:
        consumer.close()
