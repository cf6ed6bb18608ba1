"""One instance's Kafka settings: the enabled switch, "all events" and every event's toggle with its route."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, Static, Switch

from tui import events as catalog
from tui.instances import InstanceSettings
from tui.layout import route
from tui.screens.base import ConsoleScreen
from tui.widgets.event_toggles import EventToggles
from tui.widgets.route_panel import RoutePanel

WRITES = "registry-writes"


class InstanceDetailScreen(ConsoleScreen):
    """Every change is written to the registry; changes made elsewhere appear live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("e", "toggle_enabled", "Enabled on/off", id="toggle-enabled"),
        Binding("a", "toggle_all", "All events on/off", id="toggle-all"),
        Binding("p", "publish_event", "Publish this event", id="publish-event"),
    ]

    def __init__(self, instance: str) -> None:
        super().__init__()
        self.instance = instance
        self._unsubscribe: Callable[[], None] | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="instance-title")
        with Horizontal(id="instance-switches"):
            yield Label("Kafka enabled ")
            yield Switch(id="enabled")
            yield Label("  All events ")
            yield Switch(id="all-events")
        yield EventToggles(self.services.settings, self.instance, id="event-toggles")
        yield RoutePanel(id="route-panel")

    def on_mount(self) -> None:
        self._unsubscribe = self.services.registry.subscribe(self._registry_changed)
        self._show()
        self.query_one(EventToggles).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @property
    def current(self) -> InstanceSettings | None:
        """What the registry holds for this instance now."""
        return self.services.registry.get(self.instance)

    def _registry_changed(self, instance: str, _settings: InstanceSettings | None) -> None:
        if instance == self.instance:
            self.call_later(self._show)

    def _show(self) -> None:
        """Draw everything from the registry's state (the only source of truth)."""
        settings = self.current
        if settings is None:
            state = "no registry entry: the first change creates it"
        elif not settings.enabled:
            state = "disabled"
        elif settings.all_events:
            state = "enabled for all events"
        else:
            state = f"enabled for {len(settings.events)} of {len(catalog.EVENTS)} events"
        updated = f" · updated {settings.updated_at}" if settings and settings.updated_at else ""
        ro = " · read-only" if self.services.read_only else ""
        self.query_one("#instance-title", Static).update(f"[b]{self.instance}[/b] · {state}{updated}{ro}")
        for switch_id, value in (
            ("#enabled", settings is not None and settings.enabled),
            ("#all-events", settings is not None and settings.all_events),
        ):
            switch = self.query_one(switch_id, Switch)
            with switch.prevent(Switch.Changed):
                switch.value = value
        toggles = self.query_one(EventToggles)
        toggles.show(settings)
        self._explain(toggles.event)

    def _explain(self, event: catalog.Event | None) -> None:
        if event is None:
            return
        where = route(self.services.settings, self.instance, event, self.current)
        self.query_one(RoutePanel).show(event, where)

    @on(EventToggles.Highlighted)
    def _highlighted(self, message: EventToggles.Highlighted) -> None:
        self._explain(message.event)

    @on(EventToggles.Toggled)
    def _toggled(self, message: EventToggles.Toggled) -> None:
        self._write("toggle", message.event.name)

    @on(Switch.Changed, "#enabled")
    def _enabled_changed(self, message: Switch.Changed) -> None:
        self._write("enable" if message.value else "disable")

    @on(Switch.Changed, "#all-events")
    def _all_changed(self, message: Switch.Changed) -> None:
        self._write("all" if message.value else "each")

    def action_toggle_enabled(self) -> None:
        """Switch the instance's Kafka publishing on or off."""
        settings = self.current
        self._write("disable" if settings is not None and settings.enabled else "enable")

    def action_toggle_all(self) -> None:
        """Switch between "all events" and an explicit list of every event."""
        settings = self.current
        self._write("each" if settings is not None and settings.all_events else "all")

    async def action_publish_event(self) -> None:
        """Publish a test envelope of the highlighted event for this instance."""
        from tui.screens.publish import PublishScreen

        event = self.query_one(EventToggles).event
        await self.app.push_screen(PublishScreen(instance=self.instance, event=event))

    @work(group=WRITES, exclusive=False, exit_on_error=False, name="registry write")
    async def _write(self, change: str, event: str | None = None) -> None:
        """Write one change to the registry; the view is redrawn from the registry either way."""
        registry = self.services.registry
        try:
            if change == "toggle" and event is not None:
                await registry.toggle(self.instance, event)
            elif change == "enable":
                await registry.enable(self.instance)
            elif change == "disable":
                await registry.disable(self.instance)
            elif change == "all":
                await registry.set_request(self.instance, True, [])
            elif change == "each":
                await registry.set_request(self.instance, True, [e.name for e in catalog.EVENTS])
        finally:
            # A refused write (read-only, cluster down) must not leave a switch showing what is not stored.
            self._show()
