"""The ``tail`` scenario's baseline: a plain confluent-kafka (librdkafka) consumer writing JSON lines.

Run as ``python -m tui.bench.confluent_tail BOOTSTRAP TOPIC COUNT``: partitions assigned from the beginning (no
group), each record written as one JSON line with the fields ``evokafka tail`` prints (topic, partition, offset,
timestamp, key, headers, the parsed value), until ``COUNT`` records were written. This is what an operator
compares ``evokafka tail`` with: the C client and the standard library, nothing clever.
"""

from __future__ import annotations

import json
import sys


def _text(raw: object) -> str | None:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return None if raw is None else str(raw)


def _pairs(headers: object) -> list[tuple[str, object]]:
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers) if isinstance(headers, list) else []


def main(argv: list[str]) -> int:
    """Read ``COUNT`` records of ``TOPIC`` and print them; exit 0 when all were read."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    bootstrap, topic, count = argv[0], argv[1], int(argv[2])
    client = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "evokafka-bench-baseline", "enable.auto.commit": False}
    )
    try:
        partitions = client.list_topics(topic, timeout=10).topics[topic].partitions
        client.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        out = sys.stdout
        seen = 0
        while seen < count:
            for message in client.consume(num_messages=5000, timeout=1.0):
                if message.error():
                    continue
                value = message.value()
                key = message.key()
                line = {
                    "topic": message.topic(),
                    "partition": message.partition(),
                    "offset": message.offset(),
                    "timestamp": message.timestamp()[1],
                    "key": _text(key),
                    "headers": [[name, _text(raw)] for name, raw in _pairs(message.headers())],
                    "value": json.loads(value) if value is not None else None,
                }
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                seen += 1
        out.flush()
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
