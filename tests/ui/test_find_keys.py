"""Keys you can find and nothing destructive on one key, driven with Pilot against the real broker:
``?``/F1, ``q``/Ctrl-C, confirmation and undo in instance detail, creating and deleting from the list,
streaming an instance or event from its detail, the consumer groups screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from textual.widgets import DataTable

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, console_settings, stop
from tests.ui.test_console import open_instance
from tui.cli.watch_cmd import watch_panes
from tui.config import load_app_settings
from tui.console.app import EvokafkaApp
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.doctor import DoctorScreen
from tui.console.screens.groups import GroupLagScreen, GroupsScreen
from tui.console.screens.instance_detail import InstanceDetailScreen
from tui.console.screens.instances import InstancesScreen
from tui.console.screens.keys_help import KeysHelpScreen
from tui.console.screens.layout import LayoutScreen
from tui.console.screens.main import MainScreen
from tui.console.screens.profiles_dialog import ProfilesDialog
from tui.console.screens.prompt_dialog import PromptDialog
from tui.console.screens.streams import StreamsScreen
from tui.console.session import Session
from tui.console.widgets.instance_list import InstanceList
from tui.console.widgets.stream_lag import LagPanel
from tui.demo.broker import EmbeddedBroker, free_port
from tui.kafka.registry import InstanceRegistry
from tui.profiles import ProfileStore

pytestmark = pytest.mark.broker

SIZE = (80, 24)


async def test_question_mark_and_f1_list_the_keys_and_q_quits(make_console: Callable[..., Console]) -> None:
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await pilot.press("i")
            await async_wait_until(lambda: isinstance(app.screen, InstancesScreen))
            await pilot.press("question_mark")
            await async_wait_until(lambda: isinstance(app.screen, KeysHelpScreen))
            help_screen = app.screen
            assert isinstance(help_screen, KeysHelpScreen)
            described = {row.description for row in help_screen.rows}
            assert {"New instance", "Delete", "Reload", "Quit", "Keys", "Streams", "Consumer groups"} <= described
            assert help_screen.title_text == "Instances"
            await pilot.press("escape")
            await async_wait_until(lambda: isinstance(app.screen, InstancesScreen))
            await pilot.press("f1")
            await async_wait_until(lambda: isinstance(app.screen, KeysHelpScreen))
            await pilot.press("q")  # closes the help, does not quit
            await async_wait_until(lambda: isinstance(app.screen, InstancesScreen))
            assert app.is_running
            await pilot.press("q")
            await async_wait_until(lambda: not app.is_running, timeout=30)
    finally:
        await stop(console)


async def test_q_on_a_screen_opened_over_another_says_esc_and_ctrl_c_quits(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("shop", True, ["CALL"])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            await open_instance(console, pilot, "shop")
            await pilot.press("q")
            await async_wait_until(lambda: any("Esc goes back" in n for n in console.notes))
            assert console.app.is_running
            await pilot.press("ctrl+c")
            await async_wait_until(lambda: not console.app.is_running, timeout=30)
    finally:
        await stop(console)


async def test_e_e_asks_first_and_u_undoes(make_console: Callable[..., Console], writer: InstanceRegistry) -> None:
    """The issue's ``e e``: the 4-event selection is never silently turned into all events."""
    four = ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"]
    await writer.set_request("shop", True, four)
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            screen = await open_instance(console, pilot, "shop")
            await pilot.press("e", "e")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.pause()
            stored = writer.get("shop")
            assert stored is not None and stored.enabled and len(stored.events) == 4  # nothing written yet
            await pilot.press("n")  # keep it
            await async_wait_until(lambda: app.screen is screen)
            assert writer.get("shop") == stored

            # "All events" asks too; confirmed, it is written, said, and u puts the four back.
            await pilot.press("a")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and s.all_events)
            await async_wait_until(lambda: any("4 of 31 events → all events" in n for n in console.notes))
            await pilot.press("u")
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and set(s.events) == set(four))
            await async_wait_until(lambda: any("undone" in n for n in console.notes))
            await pilot.press("u")
            await async_wait_until(lambda: any("Nothing to undo" in n for n in console.notes))
    finally:
        await stop(console)


async def test_new_asks_for_a_name_and_delete_asks_first(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("old-shop", True, ["CALL"])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("old-shop") is not None)
            await pilot.press("i")
            await async_wait_until(
                lambda: isinstance(app.screen, InstancesScreen) and "old-shop" in app.screen.query_one(InstanceList).rows
            )
            # n with a filter typed: the name is asked (the filter only offered), nothing is created.
            await pilot.press("slash", *"new", "enter", "n")
            await async_wait_until(lambda: isinstance(app.screen, PromptDialog))
            await pilot.press("escape")
            await async_wait_until(lambda: isinstance(app.screen, InstancesScreen))
            assert console.session.registry.get("new") is None
            await pilot.press("n")
            await async_wait_until(lambda: isinstance(app.screen, PromptDialog))
            await pilot.press("end", *"-shop", "enter")  # the offered name comes selected: typing replaces it
            await async_wait_until(lambda: isinstance(app.screen, InstanceDetailScreen))
            assert app.screen.instance == "new-shop"  # type: ignore[attr-defined]
            assert console.session.registry.get("new-shop") is None  # stored on the first change only
            await pilot.press("escape", "slash", *["backspace"] * 3, "enter")

            table = app.screen.query_one(InstanceList)
            await async_wait_until(lambda: "old-shop" in table.rows)
            table.move_cursor(row=table.get_row_index("old-shop"))
            await pilot.press("delete")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")  # no
            await async_wait_until(lambda: isinstance(app.screen, InstancesScreen))
            assert console.session.registry.get("old-shop") is not None
            await pilot.press("D")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await async_wait_until(lambda: writer.get("old-shop") is None)
            await async_wait_until(lambda: any("old-shop deleted" in n for n in console.notes))
    finally:
        await stop(console)


async def test_stream_this_instance_and_this_event_open_panes(
    make_console: Callable[..., Console], writer: InstanceRegistry
) -> None:
    await writer.set_request("shop", True, [])
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await console.ready()
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            ticket = await console.session.publish("CALL", "shop", {"id": "c1"})
            assert all(d.error is None for d in await ticket.wait())
            await open_instance(console, pilot, "shop")
            await pilot.press("t")
            await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and len(app.screen.panes) == 1)
            streams = app.screen
            assert isinstance(streams, StreamsScreen)
            pane = streams.panes[0]
            assert pane.spec.selection.instances == ("shop",) and len(pane.spec.selection.events) == 31
            await async_wait_until(lambda: pane.buffer.counters().received >= 1, timeout=20)  # the CALL published before

            await pilot.press("i")
            await async_wait_until(lambda: isinstance(app.screen, InstanceDetailScreen))
            await pilot.press("T")  # the highlighted event: the first of the catalog
            await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and len(app.screen.panes) == 2)
            assert len(streams.panes[1].spec.selection.events) == 1
    finally:
        await stop(console)


async def test_consumer_groups_screen_lists_lag_and_opens_the_panel(
    make_console: Callable[..., Console], prefix: str
) -> None:
    console = make_console()
    options = console.session.options
    topic = f"{prefix}.shop.call"
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(topic, b"x", partition=0)
    finally:
        await producer.stop()
    group = f"{prefix}-readers"
    committer = AIOKafkaConsumer(**options.client_kwargs(), group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 2})
    finally:
        await committer.stop()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await pilot.press("g")
            await async_wait_until(lambda: isinstance(app.screen, GroupsScreen))
            screen = app.screen
            assert isinstance(screen, GroupsScreen)
            await async_wait_until(lambda: screen.groups is not None and any(g.group == group for g in screen.groups),
                                   timeout=20)
            mine = next(g for g in screen.groups or [] if g.group == group)
            assert mine.lag == 3
            table: DataTable[object] = screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(group))
            await pilot.press("enter")
            await async_wait_until(lambda: isinstance(app.screen, GroupLagScreen))
            panel = app.screen.query_one(LagPanel)
            await async_wait_until(lambda: panel.last is not None and panel.last.total == 3, timeout=20)
            await pilot.press("escape")
            await async_wait_until(lambda: app.screen is screen)
    finally:
        await stop(console)


async def test_watch_opens_straight_onto_live_panes(
    broker: EmbeddedBroker, prefix: str, writer: InstanceRegistry
) -> None:
    """What `evokafka watch -i shop -e call` builds: the console opens on the streams screen with the panes."""
    await writer.set_request("shop", True, [])
    settings = console_settings(broker.bootstrap, prefix)
    session = Session.build(settings, load_app_settings(None, environ={}, registry_topic=f"reg_{prefix}"))
    specs = watch_panes(prefix, [], ["shop"], ["call"]) + watch_panes(prefix, [], [], ["call"])
    console = Console(EvokafkaApp(session, cursor_blink=False, panes=tuple(specs)), session)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and len(app.screen.panes) == 2)
            streams = app.screen
            assert isinstance(streams, StreamsScreen) and streams.arrangement == "grid"
            await console.ready()
            await async_wait_until(lambda: session.registry.get("shop") is not None)
            ticket = await session.publish("CALL", "shop", {"id": "c1"})
            assert all(d.error is None for d in await ticket.wait())
            await async_wait_until(lambda: all(p.buffer.counters().received >= 1 for p in streams.panes), timeout=20)
            await pilot.pause()
    finally:
        await stop(console)


async def test_profile_switcher_shows_masked_values_and_picks_one(
    make_console: Callable[..., Console], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVOKAFKA_CONFIG_DIR", str(tmp_path))
    store = ProfileStore()
    store.save("prod", {"KAFKA_BROKERS": "prod:9092", "KAFKA_SASL_PASSWORD": "hunter2"}, production=True)
    store.save("staging", {"KAFKA_BROKERS": "staging:9092"})
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await pilot.press("P")
            await async_wait_until(lambda: isinstance(app.screen, ProfilesDialog))
            await pilot.pause()
            shown = str(app.screen.query_one("#profiles-values").render())
            assert "prod:9092" in shown and "hunter2" not in shown and "********" in shown
            await pilot.press("down", "enter")
            await async_wait_until(lambda: not app.is_running, timeout=30)
            assert app.next_profile == "staging"
    finally:
        await stop(console)


async def test_q_asks_once_while_records_are_in_flight(make_console: Callable[..., Console]) -> None:
    """The broker is down: a published record stays in flight, so q asks; q again (or y) quits, flushing."""
    console = make_console(bootstrap=f"127.0.0.1:{free_port()}", global_enabled="true", reconnect_max_attempts="60")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            await console.session.publish("CALL", "shop", {"id": "c1"})
            await async_wait_until(lambda: console.session.publisher_status.in_flight == 1)
            await pilot.press("q")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            assert "1 records in flight" in str(app.screen.query_one("#confirm-question").render())
            await pilot.press("n")
            await async_wait_until(lambda: not isinstance(app.screen, ConfirmDialog))
            assert app.is_running
            await pilot.press("q")
            await async_wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("q")  # q again in the question: yes
            await async_wait_until(lambda: not app.is_running, timeout=45)  # the flush is bounded
    finally:
        await stop(console)


async def test_esc_goes_back_home_from_any_area(make_console: Callable[..., Console]) -> None:
    console = make_console()
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            app = console.app
            for key, screen_type in (("d", DoctorScreen), ("l", LayoutScreen), ("g", GroupsScreen)):
                await pilot.press(key)
                await async_wait_until(lambda t=screen_type: isinstance(app.screen, t))  # type: ignore[misc]
                await pilot.press("escape")
                await async_wait_until(lambda: isinstance(app.screen, MainScreen))
    finally:
        await stop(console)
