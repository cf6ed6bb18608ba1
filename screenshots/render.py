"""Render the console's main screens on demo data to SVG in ``screenshots/``.

Starts the embedded broker, seeds the registry with the demo instances, publishes a burst of demo traffic
(so discovery and the counters have something to show), then drives the real console with Pilot and saves
one SVG per screen. Run: ``.venv/bin/python screenshots/render.py`` (about ten seconds).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tui.config import load_app_settings, load_settings
from tui.console.app import EvokafkaApp
from tui.console.screens.streams import StreamsScreen
from tui.console.session import Session
from tui.console.widgets.delivery_log import DeliveryLog
from tui.console.widgets.instance_list import InstanceList
from tui.console.widgets.layout_tree import LayoutTree
from tui.demo.broker import EmbeddedBroker
from tui.demo.traffic import Traffic, demo_instances, seed_settings
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.kafka.registry import InstanceRegistry
from tui.selection import PaneSpec, Selection
from tui.status import PublisherState, RegistryState

HERE = Path(__file__).resolve().parent
SIZE = (120, 40)
TRAFFIC = 60
"""Demo events published before the screenshots."""


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the demo console did not get ready in time")
        await asyncio.sleep(0.05)


async def seed(session: Session) -> None:
    """Demo instances in the registry and some traffic in their topics."""
    instances = demo_instances()
    writer = InstanceRegistry(session.settings, topic=session.app_settings.registry_topic)
    await writer.start()
    try:
        for name, settings in seed_settings(instances).items():
            await writer.set(name, settings)
    finally:
        await writer.stop()
    await wait_for(lambda: len(session.registry.all()) >= len(instances))
    traffic = Traffic(instances, seed=7)
    tickets = [
        await session.publisher.publish(item.event, item.instance, item.data, sender=traffic.sender(item.instance))
        for item in traffic.take(TRAFFIC)
    ]
    for ticket in tickets:
        await ticket.wait()


async def render(out: Path) -> list[Path]:
    """Render every main screen; returns the files written."""
    written: list[Path] = []
    with EmbeddedBroker() as broker:
        settings = load_settings(
            None, environ={}, brokers=broker.bootstrap, auto_create_topics="true", global_enabled="true",
            reconnect_initial_delay_ms="200",
            # The integration document's KAFKA_EVENTS_* block (a variable left out reads false, as in Evolution).
            **DOCUMENT_EVENT_FIELDS,
        )
        session = Session.build(settings, load_app_settings(None, environ={}))
        app = EvokafkaApp(session, cursor_blink=False)

        async def shot(pilot: Pilot[Any], name: str, steps: Callable[[], Awaitable[None]] | None = None) -> None:
            if steps is not None:
                await steps()
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"evokafka · {name}"), encoding="utf-8")
            written.append(path)

        try:
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(
                    lambda: session.registry_view.state is RegistryState.SYNCED
                    and session.publisher.status.state is PublisherState.CONNECTED
                    and session.cluster.cluster_id is not None
                )
                await seed(session)
                await shot(pilot, "home")

                async def instances() -> None:
                    await pilot.press("i")
                    await pilot.press("r")
                    await wait_for(lambda: any(r.value == "acme-sales" for r in app.screen.query_one(InstanceList).rows))

                await shot(pilot, "instances", instances)

                async def detail() -> None:
                    table = app.screen.query_one(InstanceList)
                    table.move_cursor(row=0)
                    await pilot.press("enter")
                    await pilot.pause()
                    await pilot.press(*["down"] * 9)

                await shot(pilot, "instance-detail", detail)

                async def publish() -> None:
                    await pilot.press("p")
                    await pilot.pause()
                    await pilot.press("ctrl+s")
                    log = app.screen.query_one(DeliveryLog)
                    await wait_for(lambda: any(line.startswith(("✓", "✗")) for line in log.lines))

                await shot(pilot, "publish", publish)

                async def streams() -> None:
                    await app.run_action("app.open_area('streams')")  # the publish editor has the focus
                    await pilot.pause()
                    screen = app.screen
                    assert isinstance(screen, StreamsScreen)
                    prefix = settings.topic_prefix.replace(".", r"\.")
                    panes = [
                        await screen.add_pane(
                            PaneSpec("Global layout", Selection(pattern=rf"{prefix}\.global\..+"), "earliest")
                        ),
                        await screen.add_pane(
                            PaneSpec("Per-instance layout", Selection(pattern=rf"{prefix}\.(?!global\.).+"), "earliest")
                        ),
                    ]
                    await pilot.press("a")  # the grid: both panes side by side
                    await wait_for(lambda: all(p.buffer.received > 0 for p in panes))
                    for pane in panes:  # traffic keeps coming: draw what is there now
                        pane.draw_frame()

                await shot(pilot, "streams", streams)

                async def layout() -> None:
                    await app.run_action("app.open_area('layout')")
                    await pilot.pause()
                    tree = app.screen.query_one(LayoutTree)
                    await wait_for(lambda: any(row.messages for row in tree.rows))

                await shot(pilot, "layout", layout)
        finally:
            await session.stop()
    return written


def main() -> None:
    """Write the SVGs next to this script."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("tui").setLevel(logging.CRITICAL)
    for path in asyncio.run(render(HERE)):
        print(path.relative_to(HERE.parent))
    sys.exit(0)


if __name__ == "__main__":
    main()
