"""The console in demo mode: the ordinary console around the demo's publisher and registry, plus chaos keys.

:class:`DemoApp` is :class:`tui.console.app.EvokafkaApp` with the demo runner attached (``app.demo``): through the app's
extension points it starts the demo (broker, proxy, seeded registry, publisher) before the console's own
services (:meth:`DemoApp.prepare_services`), then runs the traffic in the ``demo`` worker group
(:meth:`DemoApp.services_started`). It opens on a home that explains the demo (:mod:`tui.demo.home`); the
demo's panes open on the streams screen the first time it is shown. It binds F7 (cut/restore the link) and F8 (stop/start the broker) on
every screen, and on quit stops the traffic, flushes the publisher and stops the broker.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.config import AppSettings
from tui.console.app import EvokafkaApp
from tui.console.screens.streams import StreamsScreen
from tui.console.session import Session
from tui.console.widgets.chaos_panel import BROKER_KEY, LINK_KEY
from tui.demo.home import DemoFacts, DemoHomeScreen
from tui.demo.runner import ChaosUnavailableError, DemoRunner
from tui.selection import PaneSpec, Selection

DEMO_WORKERS = "demo"


class DemoApp(EvokafkaApp):
    """The console on the demo; ``app.demo`` is the :class:`~tui.demo.runner.DemoRunner`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *EvokafkaApp.BINDINGS,
        Binding(LINK_KEY, "app.demo_link", "Cut/restore link", id="demo-link"),
        Binding(BROKER_KEY, "app.demo_broker", "Stop/start broker", id="demo-broker"),
    ]
    MODES = {**EvokafkaApp.MODES, "home": DemoHomeScreen}
    DEFAULT_MODE = "home"
    """The demo opens on a home that explains it; its panes wait on the streams screen."""

    def __init__(self, runner: DemoRunner, session: Session, *, cursor_blink: bool = True) -> None:
        super().__init__(session, cursor_blink=cursor_blink)
        self.demo = runner
        self._panes_open = False
        self._services_up = False

    def demo_facts(self) -> DemoFacts:
        """What the demo's home says."""
        demo = self.demo
        return DemoFacts(
            demo.bootstrap, not demo.config.external, len(demo.instances), demo.config.rate,
            demo.config.global_enabled, demo.settings.consumer_group_id, demo.second_terminal,
            self._services_up, demo.stats.events,
        )

    @classmethod
    def build(cls, runner: DemoRunner, app_settings: AppSettings, *, cursor_blink: bool = True) -> DemoApp:
        """The app around ``runner``'s settings, publisher and registry."""
        session = Session(
            runner.settings,
            app_settings,
            runner.options,
            runner.publisher,
            runner.registry,
            read_only=False,
            chaos=runner,
        )
        return cls(runner, session, cursor_blink=cursor_blink)

    async def prepare_services(self) -> None:
        """Start the demo (broker, proxy, seeded registry, publisher) before the console's service workers,
        which then only attach their views (registry state, cluster header) to what the demo started."""
        await self.demo.start()

    async def services_started(self) -> None:
        """Start the traffic in the ``demo`` worker group; the panes open on the streams screen as soon as it
        is open (now, when the operator is there already)."""
        self._services_up = True
        self._run_traffic()
        await self._open_panes()

    async def _open_panes(self) -> None:
        if self._panes_open or not self._services_up:
            return
        if isinstance(self.screen, StreamsScreen):
            self._panes_open = True
            await arrange_panes(self.screen, self.demo)

    def action_open_area(self, mode: str) -> None:
        """Switch to an area; the streams area gets the demo's panes the first time it opens."""
        super().action_open_area(mode)
        if mode == "streams":
            self.call_after_refresh(self._open_panes)

    @work(group=DEMO_WORKERS, exclusive=True, exit_on_error=False, name="demo")
    async def _run_traffic(self) -> None:
        # Its own group: cancelling it stops the traffic and nothing else (the publisher keeps flushing).
        await self.demo.run()

    async def action_demo_link(self) -> None:
        """Cut the link between clients and broker, or restore it."""
        try:
            await self.session.toggle_link()
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
            await self.session.toggle_broker()
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


async def arrange_panes(screen: Screen[Any], runner: DemoRunner) -> None:
    """Open the demo's panes on the streams screen, side by side; any other screen is left as it is."""
    if not isinstance(screen, StreamsScreen) or screen.panes:
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
