"""Fixtures of the integration tests that read what they wrote: the connection options and a raw producer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from tui.config import KafkaSettings
from tui.kafka.options import ConnectionOptions


@pytest.fixture
def options(settings: KafkaSettings) -> ConnectionOptions:
    return ConnectionOptions.from_settings(settings)


@pytest.fixture
async def producer(options: ConnectionOptions) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**options.client_kwargs(), acks="all", linger_ms=5)
    await client.start()
    yield client
    await client.stop()
