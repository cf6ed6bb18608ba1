"""Instances: the registry's entries and the instances discovered in topics, filtered by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from tui.instances import InstanceSettings
from tui.kafka.discovery import DiscoveredInstance
from tui.layout import InstanceNameError, validate_instance
from tui.screens.base import ConsoleScreen
from tui.widgets.instance_list import InstanceList, matches, merge

DISCOVERY_INTERVAL_S = 15.0
"""How often the topics are scanned again for instances."""


class InstancesScreen(ConsoleScreen):
    """The instance list; Enter opens an instance's event toggles."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="filter"),
        Binding("r", "discover", "Rescan topics", id="discover"),
        Binding("n", "new_instance", "New instance", id="new-instance"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._discovered: dict[str, DiscoveredInstance] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._discovery_error: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter by name (/)", id="instance-filter", compact=True)
        yield InstanceList(id="instance-list")
        yield Static(id="instances-summary")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = getattr(self.app, "cursor_blink", True)
        self._unsubscribe = self.services.registry.subscribe(self._registry_changed)
        self._redraw()
        self.query_one(InstanceList).focus()
        if getattr(self.app, "connect", True):
            self._discover(quiet=True)
            self.set_interval(DISCOVERY_INTERVAL_S, lambda: self._discover(quiet=True))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _registry_changed(self, _instance: str, _settings: InstanceSettings | None) -> None:
        self.call_later(self._redraw)

    def _redraw(self) -> None:
        registry = self.services.registry.all()
        rows = merge(registry, self._discovered)
        text = self.query_one("#instance-filter", Input).value
        shown = [row for row in rows if matches(row, text)]
        self.query_one(InstanceList).show(shown)
        hidden = len(rows) - len(shown)
        self.query_one("#instances-summary", Static).update(
            f"{len(registry)} in the registry · {sum(1 for r in rows if r.settings is None)} discovered only"
            + (f" · {hidden} hidden by the filter" if hidden else "")
            + (f" · discovery failed: {self._discovery_error}" if self._discovery_error else "")
        )

    @on(Input.Changed, "#instance-filter")
    def _filter(self) -> None:
        self._redraw()

    @on(Input.Submitted, "#instance-filter")
    def _filter_done(self) -> None:
        self.query_one(InstanceList).focus()

    @on(InstanceList.Chosen)
    def _open(self, message: InstanceList.Chosen) -> None:
        from tui.screens.instance_detail import InstanceDetailScreen

        self.app.push_screen(InstanceDetailScreen(message.name))

    def action_focus_filter(self) -> None:
        """Type to filter instances by name."""
        self.query_one("#instance-filter", Input).focus()

    async def action_back(self) -> None:
        """From the filter back to the list; from the list back home."""
        table = self.query_one(InstanceList)
        if not table.has_focus:
            table.focus()
        else:
            await self.app.run_action("app.open_area('home')")

    def action_new_instance(self) -> None:
        """Open the toggles of an instance named in the filter box (it is created on the first change)."""
        name = self.query_one("#instance-filter", Input).value.strip()
        try:
            validate_instance(name, self.services.settings.topic_prefix)
        except InstanceNameError as exc:
            self.notify(f"{exc}. Type the new name in the filter (/) first.", severity="warning")
            return
        from tui.screens.instance_detail import InstanceDetailScreen

        self.app.push_screen(InstanceDetailScreen(name))

    def action_discover(self) -> None:
        """Scan the cluster's topics for instances now."""
        self._discover(quiet=False)

    @work(group="discovery", exclusive=True, exit_on_error=False, name="discovery")
    async def _discover(self, quiet: bool) -> None:
        # The periodic scan shows a failure in the summary line; one asked for raises (a notification).
        try:
            self._discovered = await self.services.discover()
        except Exception as exc:
            self._discovery_error = f"{exc.__class__.__name__}: {exc}"
            self._redraw()
            if not quiet:
                raise
            return
        self._discovery_error = None
        self._redraw()
