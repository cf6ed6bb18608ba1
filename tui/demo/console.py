"""The console in demo mode: the ordinary console around the demo's publisher and registry, plus chaos keys.

:class:`DemoApp` is :class:`tui.app.EvokafkaApp` with the demo runner attached (``app.demo``): it starts the
demo (broker, proxy, seeded registry, publisher) before the console's own services, runs the traffic in a
worker, binds F7 (cut/restore the link) and F8 (stop/start the broker) on every screen, and on quit stops the
traffic, flushes the publisher and stops the broker.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import ClassVar

from textual import events, on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.app import EvokafkaApp
from tui.config import AppSettings
from tui.demo.runner import ChaosUnavailableError, DemoRunner
from tui.services import Services
from tui.views import PaneSpec, Selection
from tui.widgets.chaos_panel import BROKER_KEY, LINK_KEY

try:  # the streams area is another part of the console; the demo opens elsewhere without it
    from tui.screens.streams import StreamsScreen
except ImportError:  # pragma: no cover - a build without streams
    StreamsScreen = None  # type: ignore[assignment,misc]

DEMO_WORKERS = "demo"
FIRST_MODE = ("streams", "layout", "home")
"""The area the demo opens on: the first of these present in this build."""


class DemoApp(EvokafkaApp):
    """The console on the demo; ``app.demo`` is the :class:`~tui.demo.runner.DemoRunner`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *EvokafkaApp.BINDINGS,
        Binding(LINK_KEY, "app.demo_link", "Cut/restore link", id="demo-link"),
        Binding(BROKER_KEY, "app.demo_broker", "Stop/start broker", id="demo-broker"),
    ]

    def __init__(self, runner: DemoRunner, services: Services, *, cursor_blink: bool = True) -> None:
        # The console's own service workers start only once the demo runs (see _start_demo).
        super().__init__(services, connect=False, cursor_blink=cursor_blink)
        self.demo = runner

    @classmethod
    def build(cls, runner: DemoRunner, app_settings: AppSettings, *, cursor_blink: bool = True) -> DemoApp:
        """The app around ``runner``'s settings, publisher and registry."""
        services = Services(
            runner.settings, app_settings, runner.options, runner.publisher, runner.registry, read_only=False
        )
        return cls(runner, services, cursor_blink=cursor_blink)

    @on(events.Mount)
    async def _open_first_area(self) -> None:
        for mode in FIRST_MODE:
            if mode in self.MODES:
                await self.switch_mode(mode)
                break
        self._start_demo()

    @work(group=DEMO_WORKERS, exclusive=True, exit_on_error=False, name="demo")
    async def _start_demo(self) -> None:
        first = self.screen
        await self.demo.start()
        # From now on stream panes read Kafka, and the console's own service workers only attach their
        # views (registry state, cluster header) to what the demo started.
        self.connect = True
        await arrange_panes(first, self.demo)
        self._start_publisher()
        self._run_registry()
        self._watch_cluster()
        self.notify(
            f"Demo on {self.demo.bootstrap}: {len(self.demo.instances)} instances, "
            f"{self.demo.config.rate:g} events/s. {LINK_KEY.upper()} cuts the link, {BROKER_KEY.upper()} "
            "stops the broker.",
            title="evokafka demo",
            timeout=8,
        )
        await self.demo.run()

    async def action_demo_link(self) -> None:
        """Cut the link between clients and broker, or restore it."""
        try:
            await self.demo.toggle_link()
        except ChaosUnavailableError as exc:
            self.notify(str(exc), severity="warning")
            return
        if self.demo.chaos.link_cut:
            self.notify("Link cut: no client reaches the broker (it keeps its data)", severity="warning")
        else:
            self.notify("Link restored")

    async def action_demo_broker(self) -> None:
        """Stop the broker, or start it again (it comes back empty: memory storage)."""
        try:
            self.notify("Broker: stopping…" if self.demo.chaos.broker_running else "Broker: starting…", timeout=2)
            await self.demo.toggle_broker()
        except ChaosUnavailableError as exc:
            self.notify(str(exc), severity="warning")
            return
        chaos = self.demo.chaos
        if not chaos.broker_running:
            self.notify("Broker stopped", severity="warning")
        elif chaos.last_error:
            self.notify(f"Broker started, empty; {chaos.last_error}", severity="warning")
        else:
            self.notify("Broker started (empty: its storage is in memory); registry seeded again")

    async def stop_services(self) -> None:
        """Stop the traffic, then the console's services (flushing the publisher), then broker and proxy."""
        self.workers.cancel_group(self, DEMO_WORKERS)
        with contextlib.suppress(Exception):
            await super().stop_services()
        await self.demo.stop()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The console's palette plus the chaos actions."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Demo: cut/restore the link", "Clients lose the broker; it keeps its data", self.action_demo_link
        )
        yield SystemCommand(
            "Demo: stop/start the broker", "The broker process stops; it restarts empty", self.action_demo_broker
        )


def demo_panes(runner: DemoRunner) -> list[PaneSpec]:
    """The panes the demo opens with: both layouts side by side (or, without global topics, every
    instance's topics next to the first instance's messages)."""
    prefix = re.escape(runner.settings.topic_prefix)
    per_instance = PaneSpec("Per-instance layout", Selection(pattern=rf"{prefix}\.(?!global\.).+"), start="earliest")
    if runner.config.global_enabled:
        return [PaneSpec("Global layout", Selection(pattern=rf"{prefix}\.global\..+"), start="earliest"), per_instance]
    first = runner.instances[0].name
    return [
        per_instance,
        PaneSpec(f"{first} messages", Selection(instances=(first,), events=("messages.upsert",)), start="earliest"),
    ]


async def arrange_panes(screen: Screen[object], runner: DemoRunner) -> None:
    """Open the demo's panes on the streams screen, side by side; any other screen is left as it is."""
    if StreamsScreen is None or not isinstance(screen, StreamsScreen) or screen.panes:
        return
    for spec in demo_panes(runner):
        await screen.add_pane(spec, reading=True)
    screen.set_arrangement("grid")


def run_console(runner: DemoRunner, app_settings: AppSettings) -> None:
    """Run the console on the demo until the operator quits; the broker never outlives it."""
    app = DemoApp.build(runner, app_settings)
    try:
        app.run()
    finally:
        # The event loop is gone if the app ended abnormally: at least the broker process must not outlive us.
        if runner.broker is not None:
            runner.broker.stop()
    if app.return_code not in (None, 0):
        raise SystemExit(app.return_code)
