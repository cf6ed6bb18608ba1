"""``evokafka demo``: the embedded broker with sample WhatsApp traffic, tailed."""

from __future__ import annotations

import asyncio
import sys

import click
from aiokafka import AIOKafkaProducer

from tui import events as catalog
from tui.cli.common import Context, pass_context, run
from tui.envelope import build
from tui.kafka.broker import BrokerError, EmbeddedBroker
from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import StartPosition, read
from tui.layout import Layout, message_key, topic_name
from tui.records import safe_json, to_json

SAMPLES = [
    ("connection.update", "acme-sales", {"instance": "acme-sales", "state": "open", "statusReason": 200}),
    (
        "messages.upsert",
        "acme-sales",
        {
            "key": {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": False, "id": "3EB0A1B2C3D4E5F6"},
            "pushName": "John Doe",
            "message": {"conversation": "Hello from WhatsApp!"},
            "messageType": "conversation",
            "messageTimestamp": 1709550600,
        },
    ),
    (
        "messages.update",
        "acme-sales",
        {"keyId": "3EB0A1B2C3D4E5F6", "remoteJid": "5511999999999@s.whatsapp.net", "status": "READ"},
    ),
]


@click.command()
@click.option("--max", "max_records", type=click.IntRange(min=1), default=len(SAMPLES), show_default=True)
@pass_context
def command(ctx: Context, max_records: int) -> None:
    """Start the embedded broker, publish sample envelopes and tail them."""
    settings = ctx.settings(brokers="127.0.0.1:9092")
    try:
        broker = EmbeddedBroker().start()
    except BrokerError as exc:
        click.echo(f"evokafka: {exc}", err=True)
        sys.exit(1)
    click.echo(f"embedded broker on {broker.bootstrap}", err=True)
    options = ConnectionOptions.from_settings(settings.model_copy(update={"brokers": [broker.bootstrap]}))

    async def demo() -> None:
        producer = AIOKafkaProducer(**options.client_kwargs(), acks="all")
        await producer.start()
        topics = []
        try:
            for wire, instance, data in SAMPLES:
                event = catalog.lookup(wire)
                envelope = build(event, instance, data, sender="5511988887777@s.whatsapp.net")
                topic = topic_name(settings.topic_prefix, Layout.INSTANCE, instance, event)
                topics.append(topic)
                await producer.send_and_wait(
                    topic,
                    envelope.encode(),
                    key=message_key(Layout.INSTANCE, instance, event).encode(),
                    headers=envelope.headers,
                )
        finally:
            await producer.stop()
        seen = 0
        async for batch in read(options, sorted(set(topics)), StartPosition("earliest"), stop_at_end=True):
            for record in batch:
                click.echo(safe_json(to_json(record)))
                seen += 1
                if seen >= max_records:
                    return

    try:
        run(lambda: asyncio.wait_for(demo(), timeout=60))
    finally:
        broker.stop()
