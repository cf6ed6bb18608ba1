"""Instances: from the instance source (Evolution API or the registry) and discovered in topics, filtered by name.

The registry source is held in memory and reports changes: the list is redrawn at once. Evolution API is read
in a worker when the screen opens and every ``refresh_interval`` seconds (its changes are not pushed). Instances
seen in the cluster's topics but unknown to the source are listed too, marked ``discovered``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from tui.console.bridge import listen
from tui.console.messages import InstanceUpdated, RegistryStateChanged, SourceStateChanged
from tui.console.screens.base import ConsoleScreen
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.instance_detail import InstanceDetailScreen, describe_settings
from tui.console.screens.prompt_dialog import PromptDialog
from tui.console.widgets.instance_list import InstanceList, matches, rows_of
from tui.failures import reason
from tui.instance_source import DiscoveredInstance, Origin, SourceInstance
from tui.listeners import Unsubscribe
from tui.topology import InstanceNameError, validate_instance

DISCOVERY_INTERVAL_S = 15.0
"""How often the topics are scanned again for instances."""


def with_discovered(items: Iterable[SourceInstance], discovered: Iterable[str]) -> list[SourceInstance]:
    """``items`` marked when seen in topics, plus the names only seen in topics (``DISCOVERED``), by name."""
    seen = set(discovered)
    known = {i.name: replace(i, in_topics=i.name in seen) for i in items if i.origin is not Origin.DISCOVERED}
    for name in seen - set(known):
        known[name] = SourceInstance(name, Origin.DISCOVERED, None, in_topics=True)
    return [known[name] for name in sorted(known)]


class InstancesScreen(ConsoleScreen):
    """The instance list; Enter opens an instance's event toggles."""

    SCREEN_NAME = "Instances"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="filter"),
        Binding("r", "discover", "Reload", id="discover"),
        Binding("n", "new_instance", "New instance", id="new-instance"),
        Binding("delete,D", "delete_instance", "Delete", id="delete-instance"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._discovered: dict[str, DiscoveredInstance] = {}
        self._unsubscribe: Unsubscribe | None = None
        self._discovery_error: str | None = None
        self._items: list[SourceInstance] = []
        """The last list read from a source that is not live (Evolution API)."""
        self._load_error: str | None = None
        self._redraw_due = False

    def compose_body(self) -> ComposeResult:
        whatsapp = self.session.instance_source.origin is Origin.EVOLUTION
        yield Input(placeholder="filter by name (/)", id="instance-filter", compact=True)
        yield InstanceList(whatsapp=whatsapp, id="instance-list")
        yield Static(id="instances-summary")

    def on_mount(self) -> None:
        session = self.session
        self.query_one(Input).cursor_blink = self.cursor_blink
        self._unsubscribe = listen(session, self, InstanceUpdated, SourceStateChanged, RegistryStateChanged)
        self._redraw()
        self.query_one(InstanceList).focus()
        if not session.source_is_live:
            self._load(quiet=False)
            if session.source_refresh_s:
                self.set_interval(session.source_refresh_s, lambda: self._load(quiet=True))
        if session.connect:
            self._discover(quiet=True)
            self.set_interval(DISCOVERY_INTERVAL_S, lambda: self._discover(quiet=True))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(InstanceUpdated)
    @on(SourceStateChanged)
    @on(RegistryStateChanged)
    def _source_changed(self) -> None:
        # Changes come in bursts (a registry's first replay tells of every instance at once): one redraw after
        # the queued messages, not one per instance.
        if not self._redraw_due:
            self._redraw_due = True
            self.call_later(self._redraw)

    def _redraw(self) -> None:
        self._redraw_due = False
        session = self.session
        items = session.instances_now(self._discovered)
        if items is None:
            items = with_discovered(self._items, self._discovered)
        rows = rows_of(items, self._discovered)
        text = self.query_one("#instance-filter", Input).value
        shown = [row for row in rows if matches(row, text)]
        self.query_one(InstanceList).show(shown)
        hidden = len(rows) - len(shown)
        known = sum(1 for r in rows if r.item.origin is not Origin.DISCOVERED)
        warned = sum(1 for r in rows if r.item.warning)
        source = session.instance_source
        where = "in the registry" if source.origin is Origin.REGISTRY else f"from {source.label}"
        self.query_one("#instances-summary", Static).update(
            f"{known} {where} · {len(rows) - known} discovered only"
            + (f" · ⚠ {warned} miss events (open one to see which)" if warned else "")
            + (f" · {hidden} hidden by the filter" if hidden else "")
            + (f" · could not read instances: {self._load_error}" if self._load_error else "")
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

    @work(group="instance-dialog", exclusive=True, exit_on_error=False, name="new instance")
    async def action_new_instance(self) -> None:
        """Ask for a name (the filter's text offered), then open its toggles; nothing is stored until the first
        change there."""
        offered = self.query_one("#instance-filter", Input).value.strip()
        name = await self.app.push_screen_wait(PromptDialog("New instance name (Enter opens it, Esc cancels)", offered))
        if name is None:
            return
        try:
            validate_instance(name, self.session.settings.topic_prefix)
        except InstanceNameError as exc:
            self.notify(str(exc), severity="warning")
            return
        if self.session.instance_now(name) is not None and self.session.registry_entry(name) is not None:
            self.notify(f"{name} exists already: opening it", timeout=3)
        else:
            self.notify(f"{name}: not stored until you switch something on (e: enable)", timeout=5)
        self.app.push_screen(InstanceDetailScreen(name))

    @work(group="instance-dialog", exclusive=True, exit_on_error=False, name="delete instance")
    async def action_delete_instance(self) -> None:
        """Delete the instance under the cursor from the registry, after asking."""
        session = self.session
        name = self.query_one(InstanceList).current
        if name is None:
            return
        if session.instance_source.origin is not Origin.REGISTRY:  # Evolution API has no such endpoint
            self.notify("Evolution API cannot delete Kafka settings: open the instance and disable it (e)",
                        severity="warning")
            return
        settings = session.registry_entry(name)
        if settings is None:
            self.notify(f"{name} has no registry entry (only seen in topics): nothing to delete", severity="warning")
            return
        yes = await self.app.push_screen_wait(ConfirmDialog(
            f"Delete {name} from the registry?",
            f"It publishes {describe_settings(settings)} now. Deleted, it publishes nothing to its own topics "
            "(its topics and records stay).",
            yes="delete",
        ))
        if not yes:
            return
        await session.delete_instance(name)
        self.notify(f"{name} deleted from the registry (was: {describe_settings(settings)})", timeout=5)

    def action_discover(self) -> None:
        """Read the source again and scan the cluster's topics for instances now."""
        if not self.session.source_is_live:
            self._load(quiet=False)
        self._discover(quiet=False)

    @work(group="source", exclusive=True, exit_on_error=False, name="instance source")
    async def _load(self, quiet: bool) -> None:
        # The periodic read shows a failure in the summary and the header; one asked for also notifies.
        try:
            self._items = await self.session.read_instances()
        except Exception as exc:
            self._load_error = reason(exc)
            self._redraw()
            if not quiet:
                raise
            return
        self._load_error = None
        self._redraw()

    @work(group="discovery", exclusive=True, exit_on_error=False, name="discovery")
    async def _discover(self, quiet: bool) -> None:
        # The periodic scan shows a failure in the summary line; one asked for raises (a notification).
        try:
            self._discovered = await self.session.discover()
        except Exception as exc:
            self._discovery_error = f"{exc.__class__.__name__}: {exc}"
            self._redraw()
            if not quiet:
                raise
            return
        self._discovery_error = None
        self._redraw()
