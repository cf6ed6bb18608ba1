"""The wire contract on the real broker: built by envelope/layout, produced with aiokafka, read by
confluent-kafka (the foreign client) with the exact topic, key, headers and JSON body; `evokafka tail`
prints it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from tests.foreign import read_all
from tui import catalog
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker
from tui.envelope import build
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.topology import Layout, message_key, topic_name

DATA = {
    "key": {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": False, "id": "3EB0XXXXX"},
    "message": {"conversation": "Olá from WhatsApp!"},
    "messageTimestamp": 1709550600,
    "pushName": "John Doe",
}


async def _produce(settings: KafkaSettings, layout: Layout, instance: str) -> tuple[str, str, bytes, list]:  # type: ignore[type-arg]
    event = catalog.lookup("MESSAGES_UPSERT")
    env = build(event, instance, DATA, server_url="https://your-evolution-api.com", sender="5511999999999",
                apikey="instance_api_key", now=datetime(2024, 3, 4, 10, 30, tzinfo=UTC))
    topic = topic_name(settings.topic_prefix, layout, instance, event)
    key = message_key(layout, instance, event)
    producer = AIOKafkaProducer(**ConnectionOptions.from_settings(settings).client_kwargs(), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, env.encode(), key=key.encode(), headers=env.headers)
    finally:
        await producer.stop()
    return topic, key, env.encode(), env.headers


async def test_foreign_client_reads_the_exact_record_in_both_layouts(
    broker: EmbeddedBroker, settings: KafkaSettings
) -> None:
    for layout in Layout:
        topic, key, value, headers = await _produce(settings, layout, "my.instance_1")
        [record] = read_all(broker.bootstrap, [topic], expected=1)
        assert record.topic == topic
        assert record.key == key.encode()
        assert record.headers == headers
        assert record.value == value
        body = json.loads(record.value or b"")
        assert body["event"] == "messages.upsert" and body["instance"] == "my.instance_1"
        assert body["date_time"] == "2024-03-04T10:30:00.000Z" and body["timestamp"] == 1709548200000
        if layout is Layout.GLOBAL:
            assert topic == f"{settings.topic_prefix}.global.messages.upsert"
            assert key == "my.instance_1-messages.upsert"


async def test_tail_prints_it(broker: EmbeddedBroker, settings: KafkaSettings) -> None:
    topic, key, _, _ = await _produce(settings, Layout.INSTANCE, "inst")
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", broker.bootstrap, "tail", topic, "--from", "earliest", "--max", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[0])
    assert line["topic"] == topic and line["key"] == key and line["offset"] == 0
    assert line["headers"][0] == ["event", "messages.upsert"]
    assert line["value"]["data"] == DATA
    assert line["value"]["apikey"] == "********"  # secrets masked unless --reveal


async def test_tail_key_filter_and_exit_at_end(broker: EmbeddedBroker, settings: KafkaSettings) -> None:
    topic, *_ = await _produce(settings, Layout.GLOBAL, "a")
    await _produce(settings, Layout.GLOBAL, "b")
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", broker.bootstrap, "tail", topic, "--from", "earliest",
         "--exit", "--key", "b-messages.upsert", "--reveal"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["key"] for x in lines] == ["b-messages.upsert"]
    assert lines[0]["value"]["apikey"] == "instance_api_key"


def test_tail_unknown_topic_and_down_broker_are_one_line(broker: EmbeddedBroker) -> None:
    down = subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", "127.0.0.1:1", "tail", "x", "--from", "earliest"],
        capture_output=True, text=True, timeout=60, env={"KAFKA_CONNECTION_TIMEOUT": "500", "PATH": ""},
    )
    assert down.returncode == 1
    assert len(down.stderr.strip().splitlines()) == 1 and "cannot reach" in down.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", broker.bootstrap, "tail", "no.such.topic", "--exit"],
        capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 1
    assert "no such topic" in missing.stderr and "Traceback" not in missing.stderr


async def test_tail_exit_prints_every_record_of_a_batched_produce(
    broker: EmbeddedBroker, settings: KafkaSettings
) -> None:
    """Thousands of records produced in batches (linger, many requests in flight, several partitions): the test
    broker's end offsets may undercount them, yet ``tail --exit`` prints every one before it ends."""
    topic = f"{settings.topic_prefix}.bulk"
    count = 3000
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, 4)])
    producer = AIOKafkaProducer(**options.client_kwargs(), acks="all", linger_ms=20, max_batch_size=16384)
    await producer.start()
    try:
        sent = [await producer.send(topic, json.dumps({"n": n, "pad": "x" * 200}).encode(), partition=n % 4)
                for n in range(count)]
        acked = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    assert sorted((m.partition, m.offset) for m in acked) == sorted((p, o) for p in range(4) for o in range(750))
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tui", "--brokers", broker.bootstrap, "tail", topic, "--from", "earliest", "--exit"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert sorted(x["value"]["n"] for x in lines) == list(range(count))
    assert sorted((x["partition"], x["offset"]) for x in lines) == sorted((m.partition, m.offset) for m in acked)
