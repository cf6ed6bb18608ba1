"""What the scenarios share: the broker they run on, realistic traffic, topics filled fast.

Traffic is the demo's deterministic WhatsApp generator, so every scenario publishes and reads envelopes of the
size and shape Evolution API sends (about 420 bytes on average, headers included), never synthetic padding.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer

from tui import catalog
from tui.config import KafkaSettings, load_settings
from tui.demo.traffic import DemoInstance, Traffic, demo_instances
from tui.envelope import build
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.topology import Layout, message_key, topic_name

Progress = Callable[[str], None]


def stderr_progress(line: str) -> None:
    """Progress goes to stderr: stdout carries only the JSON object."""
    print(f"bench: {line}", file=sys.stderr, flush=True)


@dataclass
class BenchContext:
    """One bench run: where the broker is, how long to run, where to say what is going on."""

    bootstrap: str
    quick: bool = False
    progress: Progress = stderr_progress
    prefix: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}")
    instances: int = 3
    shared: dict[str, Any] = field(default_factory=dict)
    """Figures one scenario measures and another uses as its baseline (same run, same broker)."""

    def settings(self, **overrides: Any) -> KafkaSettings:
        """Settings on the bench's broker, with the bench's own topic prefix; nothing from the environment."""
        values: dict[str, Any] = {
            "brokers": self.bootstrap,
            "topic_prefix": self.prefix,
            "auto_create_topics": "true",
            "connection_timeout": "5000",
            "request_timeout": "30000",
            "reconnect_initial_delay_ms": "200",
            **DOCUMENT_EVENT_FIELDS,
        }
        values.update(overrides)
        return load_settings(None, environ={}, **values)

    def options(self) -> ConnectionOptions:
        """Connection options for the bench's own raw clients."""
        return ConnectionOptions.from_settings(self.settings())

    def demo(self) -> list[DemoInstance]:
        """The instances traffic comes from."""
        return demo_instances(self.instances)

    def lookup(self) -> InMemorySettings:
        """Every bench instance enabled for every event: each event goes to exactly one per-instance topic."""
        return InMemorySettings({i.name: InstanceSettings.from_request(True, ()) for i in self.demo()})

    def topic(self, name: str) -> str:
        """A topic of this run (``<prefix>.bench.<name>``)."""
        return f"{self.prefix}.bench.{name}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """One event ready to send: what the publisher is handed, and the bytes a raw producer sends."""

    event: catalog.Event
    instance: str
    data: Any
    sender: str | None
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def prepare(ctx: BenchContext, count: int, *, seed: int = 0) -> list[Prepared]:
    """``count`` realistic events with their per-instance topic, key, encoded envelope and headers."""
    traffic = Traffic(ctx.demo(), seed=seed)
    out: list[Prepared] = []
    for item in traffic.take(count):
        sender = traffic.sender(item.instance)
        envelope = build(item.event, item.instance, item.data, sender=sender)
        out.append(
            Prepared(
                event=item.event,
                instance=item.instance,
                data=item.data,
                sender=sender,
                topic=topic_name(ctx.prefix, Layout.INSTANCE, item.instance, item.event),
                key=message_key(Layout.INSTANCE, item.instance, item.event).encode(),
                value=envelope.encode(),
                headers=envelope.headers,
            )
        )
    return out


def all_topics(ctx: BenchContext) -> list[str]:
    """Every per-instance topic the bench's traffic can reach (created before timing starts)."""
    return [
        topic_name(ctx.prefix, Layout.INSTANCE, instance.name, event)
        for instance in ctx.demo()
        for event in catalog.EVENTS
    ]


async def create_topics(ctx: BenchContext, names: Iterable[str], partitions: int = 1) -> None:
    """Create topics up front, so that no timed phase pays for auto-creation."""
    async with Admin(ctx.options()) as admin:
        await admin.create_topics([TopicSpec(name, partitions=partitions) for name in names])


def raw_producer(options: ConnectionOptions, **extra: Any) -> AIOKafkaProducer:
    """The raw aiokafka producer every baseline uses: ``acks=all``, a short linger so batches form."""
    kwargs: dict[str, Any] = {"acks": "all", "linger_ms": 5, "max_batch_size": 256 * 1024}
    kwargs.update(extra)
    return options.producer(**kwargs)


async def send_all(producer: AIOKafkaProducer, items: Iterable[Prepared], topic: str | None = None) -> int:
    """Send pre-built records as fast as the broker takes them and wait for every ack; returns how many."""
    futures = []
    for item in items:
        futures.append(await producer.send(topic or item.topic, item.value, key=item.key, headers=item.headers))
    await asyncio.gather(*futures)
    return len(futures)


def chunks(items: list[Prepared], size: int) -> Iterator[list[Prepared]]:
    """``items`` in slices of ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Stopwatch:
    """Elapsed wall time of a phase (``perf_counter``)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the stopwatch started."""
        return time.perf_counter() - self.start


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; 0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    import resource

    return pages * resource.getpagesize()
