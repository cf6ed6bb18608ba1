"""The console driven with Pilot against the real broker: toggles, publishing, faults, read-only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from tests.conftest import async_wait_until
from tests.foreign import read_all
from tests.ui.conftest import Console, stop
from tui import catalog
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.instance_detail import InstanceDetailScreen
from tui.console.screens.instances import InstancesScreen
from tui.console.screens.main import MainScreen
from tui.console.screens.publish import PublishScreen
from tui.console.widgets.delivery_log import DeliveryLog
from tui.console.widgets.event_toggles import EventToggles
from tui.console.widgets.instance_list import InstanceList
from tui.console.widgets.json_editor import JsonEditor
from tui.console.widgets.producer_status import ProducerStatus
from tui.demo.broker import EmbeddedBroker, free_port
from tui.kafka.registry import InstanceRegistry
from tui.status import PublisherState, RegistryState

pytestmark = pytest.mark.broker

SIZE = (80, 24)
CONNECTION_UPDATE = catalog.BY_NAME["CONNECTION_UPDATE"]


def toggle_text(toggles: EventToggles, name: str) -> str:
    return str(toggles.get_option(name).prompt)


async def open_instance(console: Console, pilot: object, name: str) -> InstanceDetailScreen:
    """From home: Instances (i), wait for the row, Enter on it."""
    app = console.app
    await pilot.press("i")  # type: ignore[attr-defined]
    await async_wait_until(
        lambda: isinstance(app.screen, InstancesScreen) and name in app.screen.query_one(InstanceList).rows
    )
    table = app.screen.query_one(InstanceList)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")  # type: ignore[attr-defined]
    await async_wait_until(lambda: isinstance(app.screen, InstanceDetailScreen))
    screen = app.screen
    assert isinstance(screen, InstanceDetailScreen)
    return screen


async def test_toggling_in_the_ui_changes_the_registry_record(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("shop", True, ["MESSAGES_UPSERT"])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            screen = await open_instance(console, pilot, "shop")
            toggles = screen.query_one(EventToggles)
            assert "nowhere" in toggle_text(toggles, "CONNECTION_UPDATE")
            # Keyboard only: from the first event down to CONNECTION_UPDATE, Space toggles it.
            while toggles.event is not CONNECTION_UPDATE:
                await pilot.press("down")
            await pilot.press("space")
            # The independent client reads the new record.
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and s.enables(CONNECTION_UPDATE))
            stored = writer.get("shop")
            assert stored is not None and set(stored.events) == {"MESSAGES_UPSERT", "CONNECTION_UPDATE"}
            await async_wait_until(lambda: "per-instance" in toggle_text(toggles, "CONNECTION_UPDATE"))
            assert f"{console.session.settings.topic_prefix}.shop.connection.update" in str(
                screen.query_one("#route-panel", Static).render()
            )

            # A change made elsewhere appears live.
            await writer.toggle("shop", "CALL")
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "CALL"))

            # The enabled switch (key e) writes too, once confirmed (disabling forgets the event list).
            await pilot.press("e")
            await async_wait_until(lambda: isinstance(console.app.screen, ConfirmDialog))
            await pilot.press("y")
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and not s.enabled)
            await async_wait_until(lambda: "[x]" not in toggle_text(toggles, "MESSAGES_UPSERT"))
            await pilot.press("a")
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and s.all_events)
            assert not [n for n in console.notes if "Error" in n]
    finally:
        await stop(console)


async def test_instances_list_registry_and_discovered_with_filter(
    make_console: Callable[..., Console], writer: InstanceRegistry, broker: EmbeddedBroker, prefix: str
) -> None:
    await writer.set_request("alpha", True, [])
    await writer.set_request("beta", False, [])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            # An instance only seen in a topic: it had a registry entry when it published, not any more.
            await writer.set_request("gamma", True, ["CALL"])
            await async_wait_until(lambda: console.session.registry.get("gamma") is not None)
            ticket = await console.session.publisher.publish("CALL", "gamma", {"id": "c1"})
            deliveries = await ticket.wait()
            assert deliveries and all(d.error is None for d in deliveries)
            await writer.delete("gamma")
            await async_wait_until(lambda: console.session.registry.get("gamma") is None)
            await pilot.press("i")
            await async_wait_until(lambda: isinstance(console.app.screen, InstancesScreen))
            table = console.app.screen.query_one(InstanceList)
            await pilot.press("r")  # rescan topics now
            await async_wait_until(lambda: {"alpha", "beta", "gamma"} <= {k.value for k in table.rows})
            assert table.get_row("gamma")[1] == "discovered"
            assert table.get_row("alpha")[1:4] == ["registry", "enabled", "all"]
            await pilot.press("slash", "a", "l")
            await async_wait_until(lambda: [k.value for k in table.rows] == ["alpha"])
    finally:
        await stop(console)


async def open_publish(console: Console, pilot: Pilot[None], instance: str) -> PublishScreen:
    """``p`` from where the console is, then the instance typed over the one proposed."""
    await pilot.press("p")
    await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
    screen = console.app.screen
    assert isinstance(screen, PublishScreen)
    await pilot.pause()
    await pilot.press("ctrl+o", "end", *["backspace"] * 20, *instance)
    return screen


async def test_publishing_from_the_ui_is_read_by_confluent_kafka(
    make_console: Callable[..., Console], writer: InstanceRegistry, broker: EmbeddedBroker, prefix: str
) -> None:
    await writer.set_request("shop", True, [])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            # Instance: typed; event: fuzzy search by the settings name, Enter picks the best match.
            screen = await open_publish(console, pilot, "shop")
            await pilot.press("ctrl+f", *"MESSAGES_UPS", "enter")
            assert screen.event.name == "MESSAGES_UPSERT"
            editor = screen.query_one(JsonEditor)
            assert editor.has_focus and editor.problem is None
            assert editor.value["key"]["remoteJid"].endswith("@s.whatsapp.net")  # the realistic template
            topic = f"{prefix}.shop.messages.upsert"
            assert topic in str(screen.query_one("#preview", Static).render())

            # Invalid JSON is pointed at and cannot be sent.
            editor.insert("oops", (1, 0))
            await pilot.pause()
            assert editor.problem is not None and editor.problem.line == 2
            assert "line 2" in str(screen.query_one("#body-error", Static).render())
            assert screen.query_one("#send", Button).disabled
            await pilot.press("ctrl+s")
            log = screen.query_one(DeliveryLog)
            assert any("not sent" in line for line in log.lines)
            assert console.session.publisher.status.sent == 0

            await pilot.press("ctrl+t")  # back to the template
            await pilot.pause()
            assert editor.problem is None
            data = editor.value
            await pilot.press("ctrl+s")
            await async_wait_until(lambda: any(line.startswith("✓") for line in log.lines), timeout=20)

        records = await asyncio.to_thread(read_all, broker.bootstrap, [topic], 1)
        assert len(records) == 1
        record = records[0]
        assert record.key == b"shop"
        headers = dict(record.headers)
        body = json.loads(record.value or b"")
        assert headers["event"] == b"messages.upsert"
        assert headers["instance"] == b"shop"
        assert headers["origin"] == b"WhatsApp"
        assert headers["timestamp"] == body["date_time"].encode()
        assert body["event"] == "messages.upsert" and body["instance"] == "shop"
        assert body["data"] == data
        shown = [line for line in log.lines if line.startswith("✓")]
        assert shown == [f"✓ p{record.partition} @ {record.offset}  {topic}  key shop"]
    finally:
        await stop(console)


async def test_a_name_evolution_allows_but_kafka_cannot_publishes_to_the_global_topic(
    make_console: Callable[..., Console], broker: EmbeddedBroker, prefix: str
) -> None:
    # "Loja Centro" (a space) cannot name a topic, but Evolution API allows it: with the global topics on, the
    # console sends it there, as the CLI and Evolution do; with them off, the name is the problem it says.
    console = make_console(global_enabled="true")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            screen = await open_publish(console, pilot, "Loja Centro")
            await pilot.press("ctrl+f", *"CALL", "enter")
            assert screen.event.name == "CALL"
            topic = f"{prefix}.global.call"
            preview = screen.query_one("#preview", Static)
            await async_wait_until(lambda: topic in str(preview.render()))
            assert "illegal" not in str(preview.render())
            await pilot.press("ctrl+s")
            log = screen.query_one(DeliveryLog)
            await async_wait_until(lambda: any(line.startswith("✓") for line in log.lines), timeout=20)
        records = await asyncio.to_thread(read_all, broker.bootstrap, [topic], 1)
        assert [json.loads(r.value or b"")["instance"] for r in records] == ["Loja Centro"]
    finally:
        await stop(console)

    console = make_console(global_enabled="false")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            screen = await open_publish(console, pilot, "Loja Centro")
            preview = screen.query_one("#preview", Static)
            await async_wait_until(lambda: "illegal instance name 'Loja Centro'" in str(preview.render()))
            assert "global topics are fine" in str(preview.render())
    finally:
        await stop(console)


async def test_send_n_at_rate_r_shows_progress(
    make_console: Callable[..., Console], writer: InstanceRegistry, broker: EmbeddedBroker, prefix: str
) -> None:
    await writer.set_request("burst", True, ["CALL"])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("burst") is not None)
            screen = await open_publish(console, pilot, "burst")
            await pilot.press("ctrl+f", *"call", "enter")
            screen.query_one("#count", Input).value = "6"
            screen.query_one("#rate", Input).value = "100"
            await pilot.press("ctrl+s")
            log = screen.query_one(DeliveryLog)
            await async_wait_until(lambda: any(line.startswith("burst:") for line in log.lines), timeout=20)
            summary = next(line for line in log.lines if line.startswith("burst:"))
            assert "6 of 6 messages" in summary and "acked 6" in summary and "failed 0" in summary
            assert screen.query_one("#progress").progress == 6  # type: ignore[attr-defined]
        records = await asyncio.to_thread(read_all, broker.bootstrap, [f"{prefix}.burst.call"], 6)
        assert len(records) == 6
    finally:
        await stop(console)


async def test_killed_broker_shows_reconnecting_then_connected(
    make_console: Callable[..., Console], own_broker: EmbeddedBroker
) -> None:
    console = make_console(
        bootstrap=own_broker.bootstrap,
        global_enabled="true",
        reconnect_max_attempts="60",
        send_retries="1",
        request_timeout="1000",
    )
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("p")
            await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
            widget = console.app.screen.query_one(ProducerStatus)
            await async_wait_until(lambda: widget.status is not None and widget.status.state is PublisherState.CONNECTED)

            own_broker.kill()
            await pilot.press("ctrl+s")  # a send finds the connection gone
            await async_wait_until(
                lambda: widget.status is not None
                and widget.status.state is PublisherState.RECONNECTING
                and widget.status.attempt >= 2,
                timeout=30,
            )
            await pilot.pause()
            shown = widget.render().plain  # type: ignore[union-attr]
            assert "reconnecting" in shown and f"/{60}" in shown and "attempt" in shown
            assert "reconnecting" in str(console.app.screen.query_one("#cluster-line", Static).render())

            own_broker.start()
            await async_wait_until(
                lambda: widget.status is not None and widget.status.state is PublisherState.CONNECTED, timeout=30
            )
            await pilot.pause()
            assert "Producer connected" in widget.render().plain  # type: ignore[union-attr]
            assert not [n for n in console.notes if "Traceback" in n]
    finally:
        await stop(console)


async def test_a_send_during_an_outage_says_queued_and_resolves_in_place(
    make_console: Callable[..., Console], own_broker: EmbeddedBroker
) -> None:
    console = make_console(bootstrap=own_broker.bootstrap, global_enabled="true", reconnect_max_attempts="60",
                           request_timeout="1000")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("p")
            await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
            widget = console.app.screen.query_one(ProducerStatus)
            await async_wait_until(lambda: widget.status is not None and widget.status.state is PublisherState.CONNECTED)
            own_broker.kill()
            await async_wait_until(
                lambda: widget.status is not None and widget.status.state is not PublisherState.CONNECTED, timeout=30
            )
            await pilot.press("ctrl+s")  # sent while the cluster is away: queued, and the operator is told why
            log = console.app.screen.query_one(DeliveryLog)
            await async_wait_until(lambda: any("queued — waiting for the cluster" in line for line in log.lines),
                                   timeout=30)
            assert not any(line.startswith(("✓", "✗")) for line in log.lines)
            own_broker.start()
            # Resolved in place: the outcome replaces the waiting line.
            await async_wait_until(lambda: any(line.startswith("✓") for line in log.lines), timeout=60)
            assert not any("queued" in line for line in log.lines)
    finally:
        await stop(console)


async def test_read_only_refuses_registry_writes_and_publishing(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("shop", True, ["MESSAGES_UPSERT"])
    console = make_console(read_only=True)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            assert console.app.screen.query_one("#read-only-badge").display
            screen = await open_instance(console, pilot, "shop")
            await pilot.press("space")
            await async_wait_until(lambda: any("read-only" in n for n in console.notes))
            await pilot.press("e")
            await async_wait_until(lambda: sum("read-only" in n for n in console.notes) >= 2)
            stored = writer.get("shop")
            assert stored is not None and stored.enabled and stored.events == ("MESSAGES_UPSERT",)
            assert "[x]" in toggle_text(screen.query_one(EventToggles), "MESSAGES_UPSERT")

            await pilot.press("p")  # publish this event for this instance
            await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
            await pilot.pause()
            await pilot.press("ctrl+s")
            await async_wait_until(lambda: any("refusing to publish" in n for n in console.notes))
            log = console.app.screen.query_one(DeliveryLog)
            assert any(line.startswith("refused: read-only") for line in log.lines)
            assert console.session.publisher.status.sent == 0
    finally:
        await stop(console)


async def test_console_opens_and_answers_with_the_broker_down(make_console: Callable[..., Console]) -> None:
    console = make_console(bootstrap=f"127.0.0.1:{free_port()}")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            assert isinstance(console.app.screen, MainScreen)
            await async_wait_until(lambda: console.session.cluster.reachable == 0)
            await async_wait_until(lambda: console.session.registry_view.state is RegistryState.RETRYING)
            await async_wait_until(
                lambda: console.session.publisher.status.state
                in (PublisherState.RECONNECTING, PublisherState.CONNECTING)
            )
            assert "0/1 up" in str(console.app.screen.query_one("#cluster-line", Static).render())
            # Still answering: keyboard navigation and the command palette work.
            await pilot.press("i")
            await async_wait_until(lambda: isinstance(console.app.screen, InstancesScreen))
            await pilot.press("ctrl+p", *"open publish")
            await pilot.pause()
            await pilot.press("enter")
            await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
            await pilot.press("escape")  # focus is in the event search: Escape leads home
            await async_wait_until(lambda: isinstance(console.app.screen, MainScreen))
    finally:
        await stop(console)


async def test_retry_after_failed_reconnects(
    make_console: Callable[..., Console], own_broker: EmbeddedBroker
) -> None:
    console = make_console(
        bootstrap=own_broker.bootstrap,
        global_enabled="true",
        reconnect_max_attempts="2",
        send_retries="1",
        request_timeout="1000",
    )
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("p")
            await async_wait_until(lambda: isinstance(console.app.screen, PublishScreen))
            widget = console.app.screen.query_one(ProducerStatus)
            own_broker.kill()
            await pilot.press("ctrl+s")
            await async_wait_until(
                lambda: widget.status is not None and widget.status.state is PublisherState.FAILED, timeout=30
            )
            await pilot.pause()
            assert "ctrl+r retry" in widget.render().plain  # type: ignore[union-attr]
            log = console.app.screen.query_one(DeliveryLog)
            await async_wait_until(lambda: any(line.startswith("✗") for line in log.lines))  # reported, not lost

            own_broker.start()
            await pilot.press("ctrl+r")
            await async_wait_until(
                lambda: widget.status is not None and widget.status.state is PublisherState.CONNECTED, timeout=30
            )
    finally:
        await stop(console)
