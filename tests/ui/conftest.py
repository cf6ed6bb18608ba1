"""Console fixtures: the real app on the real broker, and frozen session for snapshots."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot

from tests.conftest import async_wait_until
from tui.config import KafkaSettings, load_app_settings, load_settings
from tui.console.app import EvokafkaApp
from tui.console.session import Session
from tui.demo.broker import EmbeddedBroker
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.instance_settings import InstanceSettings
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry
from tui.status import ClusterView, PublisherState, PublisherStatus, RegistryState, RegistryView

if TYPE_CHECKING:
    from tui.console.screens.streams import StreamsScreen
    from tui.console.widgets.stream_pane import StreamPane

FROZEN_NOW = 1_709_550_600.0
"""2024-03-04T10:30:00Z, the reference's example time: every clock in a snapshot reads this."""


@dataclass
class Console:
    """A running console and what the test observes of it."""

    app: EvokafkaApp
    session: Session
    notes: list[str] = field(default_factory=list)

    def hook(self, message: Message) -> None:
        """``run_test(message_hook=...)``: keep every notification's text."""
        if isinstance(message, Notify):
            self.notes.append(message.notification.message)

    async def ready(self, timeout: float = 20.0) -> None:
        """Wait (bounded) until the registry is synced and the publisher connected."""
        await async_wait_until(
            lambda: self.session.registry_view.state is RegistryState.SYNCED
            and self.session.publisher.status.state is PublisherState.CONNECTED,
            timeout=timeout,
        )


def console_settings(bootstrap: str, prefix: str, **overrides: str) -> KafkaSettings:
    """Short delays so faults show within a test's time."""
    values = {
        "brokers": bootstrap,
        "topic_prefix": prefix,
        "auto_create_topics": "true",
        "reconnect_initial_delay_ms": "100",
        "connection_timeout": "1000",
        "request_timeout": "3000",
        **DOCUMENT_EVENT_FIELDS,
    }
    values.update(overrides)
    return load_settings(None, environ={}, **values)


@pytest.fixture
def make_console(broker: EmbeddedBroker, prefix: str) -> Callable[..., Console]:
    """Build a console on the session broker (or another bootstrap), with its own registry topic."""

    def build(*, bootstrap: str | None = None, read_only: bool = False, **overrides: str) -> Console:
        settings = console_settings(bootstrap or broker.bootstrap, prefix, **overrides)
        app_settings = load_app_settings(None, environ={}, registry_topic=f"reg_{prefix}")
        session = Session.build(settings, app_settings, read_only=read_only)
        return Console(EvokafkaApp(session, cursor_blink=False), session)

    return build


@pytest.fixture
async def writer(broker: EmbeddedBroker, prefix: str) -> AsyncIterator[InstanceRegistry]:
    """An independent registry client on the same registry topic (another console, `evokafka instances`)."""
    settings = console_settings(broker.bootstrap, prefix)
    registry = InstanceRegistry(settings, topic=f"reg_{prefix}")
    await registry.start()
    try:
        yield registry
    finally:
        await registry.stop()


async def stop(console: Console) -> None:
    """Stop the console's session (bounded), whatever the test did."""
    await asyncio.wait_for(console.session.stop(timeout=5.0), timeout=30.0)


# -- frozen session for snapshots ---------------------------------------------------------------------


class FrozenRegistry(InstanceRegistry):
    """The registry class, never started, answering from fixed entries: snapshots need fixed data."""

    def __init__(self, settings: KafkaSettings, entries: Mapping[str, InstanceSettings]) -> None:
        super().__init__(settings)
        self._frozen = dict(entries)

    def get(self, instance: str) -> InstanceSettings | None:
        return self._frozen.get(instance)

    def all(self) -> dict[str, InstanceSettings]:
        return dict(self._frozen)


class FrozenPublisher(EventPublisher):
    """The publisher class, never started, reporting a fixed status: snapshots of each producer state."""

    def __init__(self, settings: KafkaSettings, lookup: Any, status: PublisherStatus) -> None:
        super().__init__(settings, lookup)
        self._frozen_status = status

    @property
    def status(self) -> PublisherStatus:
        return self._frozen_status


def producer_status(state: PublisherState, **changes: Any) -> PublisherStatus:
    """A status as the publisher reports it, with counters from a short session."""
    values: dict[str, Any] = {
        "state": state,
        "attempt": 0,
        "max_attempts": 10,
        "delay_ms": 0,
        "next_try_at": None,
        "last_error": None,
        "sent": 42,
        "acknowledged": 40,
        "retried": 3,
        "failed": 2,
        "idempotence": False,
    }
    values.update(changes)
    return PublisherStatus(**values)


DEMO_ENTRIES: dict[str, InstanceSettings] = {
    "acme-sales": InstanceSettings.from_request(True, [], updated_at="2024-03-04T10:29:00.000Z"),
    "acme-support": InstanceSettings.from_request(
        True, ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"],
        updated_at="2024-03-04T10:28:00.000Z",
    ),
    "bakery.main": InstanceSettings.from_request(False, [], updated_at="2024-03-04T10:27:00.000Z"),
}


def frozen_app(
    status: PublisherStatus | None = None,
    *,
    read_only: bool = False,
    entries: Iterable[tuple[str, InstanceSettings]] | None = None,
) -> EvokafkaApp:
    """The console with fixed cluster, registry and producer state; no Kafka work, no blinking, frozen clock."""
    settings = load_settings(
        None, environ={}, brokers="kafka-1:9092,kafka-2:9092", topic_prefix="evolution", global_enabled="true",
        **DOCUMENT_EVENT_FIELDS,
    )
    app_settings = load_app_settings(None, environ={})
    registry = FrozenRegistry(settings, dict(entries) if entries is not None else DEMO_ENTRIES)
    publisher = FrozenPublisher(settings, registry, status or producer_status(PublisherState.CONNECTED))
    session = Session(
        settings, app_settings, publisher.options, publisher, registry, read_only, clock=lambda: FROZEN_NOW
    )
    session.cluster = ClusterView(
        ("kafka-1:9092", "kafka-2:9092"), 2, "evokafka-demo", ("kafka-1:9092", "kafka-2:9092"),
        checked_at=FROZEN_NOW,
    )
    session.registry_view = RegistryView(RegistryState.SYNCED, 1)
    app = EvokafkaApp(session, connect=False, cursor_blink=False)
    # Pictures of where things end, not of a moment in a slide (a tab's underline): no animations.
    app.animation_level = "none"
    return app


@asynccontextmanager
async def still_panes(
    names: str, *, size: tuple[int, int] = (120, 40), grid: bool = False
) -> AsyncIterator[tuple[Pilot[None], StreamsScreen, list[StreamPane]]]:
    """The frozen console on Streams with a pane for each letter of ``names``, each on topic ``t`` and reading
    nothing: the test gives the rows (``pane.ingest``). ``grid``: the panes side by side, not tabbed."""
    from tui.console.screens.streams import StreamsScreen
    from tui.selection import PaneSpec, Selection

    app = frozen_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StreamsScreen)
        panes = [await screen.add_pane(PaneSpec(name, Selection(topics=("t",))), reading=False) for name in names]
        if grid:
            screen.set_arrangement("grid")
        yield pilot, screen, panes


FIRST_FRAME_CHILD = """
import asyncio, json, sys
from tui.bench.frames import FrameProbe

LATER = {later!r}


async def main() -> None:
{build}
    at_first_frame: list[str] = []

    def first_frame() -> bool:
        at_first_frame.extend(m for m in LATER if m in sys.modules)
        return True

    probe = FrameProbe(app).install()
    painted = probe.watch(first_frame)
    async with app.run_test(headless=True, size={size!r}):
        await asyncio.wait_for(painted, timeout=30)
        first_screen = type(app.screen).__name__
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not (app.session_open and app.session.cluster.up and
                   str(app.session.registry_view.state) == "synced" and
                   str(app.session.publisher.status.state) == "connected"):
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        session = app.session
        result = {{
            "at_first_frame": at_first_frame,
            "later": [m for m in LATER if m in sys.modules],
            "first_screen": first_screen,
            "screen": type(app.screen).__name__,
            "brokers": session.settings.brokers,
            "prefix": session.settings.topic_prefix,
            "cluster_up": session.cluster.up,
            "registry": str(session.registry_view.state),
            "publisher": str(session.publisher.status.state),
        }}
        await app.stop_services()
    print(json.dumps(result))


asyncio.run(main())
"""
"""A fresh interpreter that builds the console (``build``: statements, indented, that set ``app`` from
``sys.argv``), notes which of ``LATER`` are imported at its first frame, waits (bounded) for its services to be up
and prints what it saw as JSON."""


def first_frame_child(
    build: str,
    later: Iterable[str],
    args: Iterable[str],
    *,
    size: tuple[int, int] = (120, 40),
    **run: Any,
) -> dict[str, Any]:
    """Run :data:`FIRST_FRAME_CHILD` with ``args``; what it saw (the test fails on a failed child)."""
    code = FIRST_FRAME_CHILD.format(later=tuple(later), build=build, size=size)
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False, **run
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return seen
