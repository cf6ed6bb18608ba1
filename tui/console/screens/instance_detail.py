"""One instance's Kafka settings: the enabled switch, "all events" and every event's toggle with its route.

Everything is drawn from the instance source. The registry is held in memory and reports every change, so the
screen follows it live. Evolution API is re-read after each write (``/kafka/set`` then ``/kafka/find``: the toggles
show what the server stored, not what was asked) and every ``refresh_interval`` seconds. Events the source
refuses cannot be switched on; why is shown beside the toggle and in the route panel. When the source silently
misses events for the instance (Evolution's "all" lacks ``groups.update`` and ``send.message.update``), a
warning line says so.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, Static, Switch

from tui import catalog
from tui.console.bridge import listen
from tui.console.messages import InstanceUpdated
from tui.console.screens.base import ConsoleScreen
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.explain import ExplainScreen
from tui.console.screens.publish import PublishScreen
from tui.console.screens.streams import StreamsScreen
from tui.console.widgets.event_toggles import EventToggles
from tui.console.widgets.route_panel import RoutePanel
from tui.failures import reason
from tui.instance_settings import InstanceSettings
from tui.instance_source import Change, Origin, SourceInstance
from tui.listeners import Unsubscribe
from tui.routing import route_for
from tui.selection import PaneSpec, Selection
from tui.topology import route

WRITES = "source-writes"
READS = "source-reads"
UNDO_S = 10.0
"""How long ``u`` can take the last change back."""
STREAM_START = "-20"
"""Where a pane opened from here starts: the last records of each partition, then live."""


def describe_settings(settings: InstanceSettings | None) -> str:
    """``all events``, ``4 of 31 events``, ``disabled`` or ``no settings``: what an instance publishes."""
    if settings is None:
        return "no settings"
    if not settings.enabled:
        return "disabled"
    if settings.all_events:
        return "all events"
    return f"{len(settings.events)} of {len(catalog.EVENTS)} events"


@dataclass(frozen=True, slots=True)
class Undo:
    """What the last change replaced, until when ``u`` can put it back."""

    before: InstanceSettings | None
    until: float
    what: str


class InstanceDetailScreen(ConsoleScreen):
    """Every change is written through the instance source; changes made elsewhere appear (live or polled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("e", "toggle_enabled", "Enabled on/off", id="toggle-enabled"),
        Binding("a", "toggle_all", "All events on/off", id="toggle-all"),
        Binding("p", "publish_event", "Publish this event", id="publish-event"),
        Binding("t", "stream_instance", "Stream instance", id="stream-instance"),
        Binding("T", "stream_event", "Stream this event", id="stream-event"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("x", "explain_event", "Explain", id="explain-event"),
    ]

    def __init__(self, instance: str) -> None:
        super().__init__()
        self.instance = instance
        self._unsubscribe: Unsubscribe | None = None
        self._item: SourceInstance | None = None
        """The instance as last read from a source that is not live (Evolution API)."""
        self._loaded = False
        self._error: str | None = None
        """Why the last read failed (cleared by the next good read)."""
        self._write_error: str | None = None
        """Why the last write failed (kept until a write succeeds: a later read must not hide it)."""
        self._writes = 0
        """Writes started so far: a re-read that overlaps one is dropped (it may predate the write)."""
        self.undo: Undo | None = None
        """The last change, while ``u`` can still take it back."""

    @property
    def screen_name(self) -> str:
        return f"Instance {self.instance}"

    def compose_body(self) -> ComposeResult:
        yield Static(id="instance-title")
        yield Static(id="instance-whatsapp")
        with Horizontal(id="instance-switches"):
            yield Label("Kafka enabled ")
            yield Switch(id="enabled")
            yield Label("  All events ")
            yield Switch(id="all-events")
        yield Static(id="instance-warning")
        yield EventToggles(self.session.settings, self.instance, id="event-toggles")
        yield RoutePanel(id="route-panel")

    def on_mount(self) -> None:
        session = self.session
        self._unsubscribe = listen(session, self, InstanceUpdated)
        self._show()
        self.query_one(EventToggles).focus()
        if not session.source_is_live:
            self._reload(quiet=False)
            if session.source_refresh_s:
                self.set_interval(session.source_refresh_s, lambda: self._reload(quiet=True))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @property
    def live(self) -> bool:
        """Whether the source reports changes itself (the registry)."""
        return self.session.source_is_live

    @property
    def item(self) -> SourceInstance | None:
        """The instance as the source holds it now (None: not read yet)."""
        now = self.session.instance_now(self.instance)
        return now if now is not None else self._item

    @property
    def current(self) -> InstanceSettings | None:
        """What the source holds for this instance now (None: no Kafka settings)."""
        item = self.item
        return item.settings if item is not None else None

    @on(InstanceUpdated)
    def _source_changed(self, message: InstanceUpdated) -> None:
        if message.name == self.instance:
            self._show()

    def _refused(self) -> dict[str, str]:
        source = self.session.instance_source
        return {e.name: why for e in catalog.EVENTS if (why := source.refuses(e))}

    def _all_on(self, item: SourceInstance | None) -> bool:
        settings = item.settings if item is not None else None
        if settings is None or not settings.enabled:
            return False
        if item is not None and item.origin is Origin.REGISTRY:
            return settings.all_events
        refused = self._refused()
        return all(settings.enables(e) for e in catalog.EVENTS if e.name not in refused)

    def _state(self, item: SourceInstance | None) -> str:
        settings = item.settings if item is not None else None
        if item is None:
            return "reading…" if not self._loaded else "not known to the source"
        if settings is None:
            if item.origin is Origin.REGISTRY:
                return "no registry entry: the first change creates it"
            return "no Kafka settings yet: the first change creates them"
        if not settings.enabled:
            return "disabled"
        if settings.all_events:
            return "enabled for all events"
        return f"enabled for {len(settings.events)} of {len(catalog.EVENTS)} events"

    def _show(self) -> None:
        """Draw everything from the source's state (the only source of truth)."""
        item = self.item
        settings = item.settings if item is not None else None
        updated = f" · updated {settings.updated_at}" if settings and settings.updated_at else ""
        ro = " · read-only" if self.session.read_only else ""
        title = Content.from_markup(
            "[b]$name[/b] · $state$updated$ro", name=self.instance, state=self._state(item), updated=updated, ro=ro
        )
        for error in dict.fromkeys(e for e in (self._write_error, self._error) if e):
            title += Content.from_markup(" · [$error]$error[/]", error=error)
        self.query_one("#instance-title", Static).update(title)
        self._show_whatsapp(item)
        warning = self.query_one("#instance-warning", Static)
        warning.update(Content.from_markup("[$warning]⚠ $w[/]", w=item.warning) if item and item.warning else "")
        warning.display = bool(item and item.warning)
        for switch_id, value in (
            ("#enabled", item is not None and item.kafka_enabled),
            ("#all-events", self._all_on(item)),
        ):
            switch = self.query_one(switch_id, Switch)
            with switch.prevent(Switch.Changed):
                switch.value = value
        toggles = self.query_one(EventToggles)
        toggles.show(settings, self._refused())
        self._explain(toggles.event)

    def _show_whatsapp(self, item: SourceInstance | None) -> None:
        line = self.query_one("#instance-whatsapp", Static)
        if item is None or item.origin is not Origin.EVOLUTION:
            line.display = False
            return
        status = item.connection_status.value if item.connection_status is not None else "unknown"
        colour = {"open": "$success", "connecting": "$warning"}.get(status, "$text-muted")
        parts = [Content.from_markup(f"WhatsApp [{colour}]$s[/]", s=status)]
        for label, value in (("number", item.number), ("profile", item.profile_name), ("owner", item.owner_jid)):
            if value:
                parts.append(Content.from_markup("$label [b]$value[/b]", label=label, value=value))
        line.update(Content(" · ").join(parts))
        line.display = True

    def _explain(self, event: catalog.Event | None) -> None:
        if event is None:
            return
        where = route(self.session.settings, self.instance, event, self.current)
        refusal = self.query_one(EventToggles).refusal(event)
        evolution = route_for(self.session.settings, self.instance, event, self.current)
        self.query_one(RoutePanel).show(event, where, f"cannot be switched on: {refusal}" if refusal else None, evolution)

    @on(EventToggles.Highlighted)
    def _highlighted(self, message: EventToggles.Highlighted) -> None:
        self._explain(message.event)

    @on(EventToggles.Toggled)
    def _toggled(self, message: EventToggles.Toggled) -> None:
        event = message.event
        settings = self.current
        refusal = self.query_one(EventToggles).refusal(event)
        if refusal and not (settings is not None and settings.enables(event)):
            self.notify(f"{event.wire}: {refusal}", title="Refused by the source", severity="warning", timeout=8)
            return
        self._write(Change.TOGGLE, event)

    @on(Switch.Changed, "#enabled")
    def _enabled_changed(self, message: Switch.Changed) -> None:
        self._change(Change.ENABLE if message.value else Change.DISABLE)

    @on(Switch.Changed, "#all-events")
    def _all_changed(self, message: Switch.Changed) -> None:
        self._switch_all(message.value)

    def action_toggle_enabled(self) -> None:
        """Switch the instance's Kafka publishing on or off."""
        item = self.item
        self._change(Change.DISABLE if item is not None and item.kafka_enabled else Change.ENABLE)

    def action_toggle_all(self) -> None:
        """Switch between "all events" and an explicit list of every event."""
        self._switch_all(not self._all_on(self.item))

    def _switch_all(self, on: bool) -> None:
        if on:
            self._change(Change.ALL)
        elif self.live:
            self._change(Change.EACH)
        else:
            # Evolution stores a plain list: "all" off has no meaning of its own there.
            self.notify(
                "The source stores a list of events: switch events off one by one, or turn Kafka off (e).",
                severity="information",
            )
            self._show()

    def _question(self, change: Change) -> tuple[str, str] | None:
        """The question to ask before ``change`` when it throws something away (None: just do it; ``u`` undoes)."""
        settings, name = self.current, self.instance
        if settings is None or not settings.enabled:
            return None
        if change is Change.DISABLE:
            lost = "" if settings.all_events else f" Its list of {len(settings.events)} events is not kept."
            return f"Disable {name}?", f"It publishes {describe_settings(settings)} now; disabled it publishes "\
                f"nothing to its topics.{lost}"
        if change is Change.ALL and not settings.all_events:
            return f"All events for {name}?", f"Its {describe_settings(settings)} become all " \
                f"{len(catalog.EVENTS)}: every event goes to its topics."
        return None

    @work(group="instance-question", exclusive=True, exit_on_error=False, name="instance question")
    async def _change(self, change: Change, event: catalog.Event | None = None) -> None:
        """Ask first when ``change`` throws something away (one keystroke), then write it."""
        # Read-only refuses the write anyway (and says so): no question first.
        question = None if self.session.read_only else self._question(change)
        if question is not None:
            yes = await self.app.push_screen_wait(ConfirmDialog(*question, yes="change it"))
            if not yes:
                self._show()  # a switch flipped by the click goes back to what is stored
                return
        self._write(change, event)

    def action_undo(self) -> None:
        """Put back what the last change replaced (for a few seconds after it)."""
        undo = self.undo
        if undo is None or self.session.clock() > undo.until:
            self.undo = None
            self.notify("Nothing to undo", timeout=2)
            return
        self.undo = None
        self._restore(undo)

    @work(group=WRITES, exclusive=False, exit_on_error=False, name="instance undo")
    async def _restore(self, undo: Undo) -> None:
        self._writes += 1
        try:
            restored = await self.session.restore_instance(self.instance, undo.before)
            if restored is not None:
                self._item = restored
            self._write_error = None
        except Exception as exc:
            self._write_error = f"not undone: {exc}" if str(exc) else exc.__class__.__name__
            raise
        finally:
            self._show()
        self.notify(f"{self.instance}: undone ({undo.what}); back to {describe_settings(undo.before)}", timeout=4)

    async def action_stream_instance(self) -> None:
        """Open a pane on every per-instance topic of this instance, in the streams area."""
        wires = tuple(e.wire for e in catalog.EVENTS)
        spec = PaneSpec(self.instance, Selection(instances=(self.instance,), events=wires), start=STREAM_START)
        await self._stream(spec)

    async def action_stream_event(self) -> None:
        """Open a pane on this instance's topic of the highlighted event, in the streams area."""
        event = self.query_one(EventToggles).event
        if event is None:
            return
        selection = Selection(instances=(self.instance,), events=(event.wire,))
        await self._stream(PaneSpec(f"{self.instance} {event.wire}", selection, start=STREAM_START))

    async def _stream(self, spec: PaneSpec) -> None:
        app = self.app
        await app.switch_mode("streams")
        streams = app.screen
        if isinstance(streams, StreamsScreen):
            await streams.add_pane(spec)

    async def action_publish_event(self) -> None:
        """Publish a test envelope of the highlighted event for this instance."""
        event = self.query_one(EventToggles).event
        await self.app.push_screen(PublishScreen(instance=self.instance, event=event))

    async def action_explain_event(self) -> None:
        """Why the highlighted event of this instance did or did not arrive, checked live."""
        event = self.query_one(EventToggles).event
        if event is not None:
            await self.app.push_screen(ExplainScreen(self.instance, event))

    @work(group=WRITES, exclusive=False, exit_on_error=False, name="instance write")
    async def _write(self, change: Change, event: catalog.Event | None = None) -> None:
        """Write one change through the source; the view is redrawn from what the source then holds."""
        session = self.session
        self._writes += 1
        before = self.current
        try:
            self._item = await session.change_instance(self.instance, change, event)
            self._loaded, self._error, self._write_error = True, None, None
            after = self._item.settings if self._item is not None else self.current
            what = f"{change.value}{' ' + event.wire if event is not None else ''}"
            self.undo = Undo(before, session.clock() + UNDO_S, what)
            self.notify(
                f"{self.instance}: {describe_settings(before)} → {describe_settings(after)} · u undoes",
                title=what, timeout=UNDO_S,
            )
        except Exception as exc:
            self._write_error = f"not stored: {exc}" if str(exc) else exc.__class__.__name__
            if not self.live:
                # A refused write must not leave a toggle showing what is not stored: read what is.
                with contextlib.suppress(Exception):
                    self._item = await session.read_instance(self.instance)
            raise
        finally:
            self._show()

    @work(group=READS, exclusive=True, exit_on_error=False, name="instance read")
    async def _reload(self, quiet: bool) -> None:
        """Re-read the instance from a source that is not live; a periodic read fails quietly (shown in the
        title and the header), the first one also notifies."""
        writes = self._writes
        try:
            item = await self.session.read_instance(self.instance)
        except Exception as exc:
            self._loaded, self._error = True, reason(exc)
            self._show()
            if not quiet:
                raise
            return
        if writes == self._writes and not self.workers_busy():
            self._item, self._loaded, self._error = item, True, None
            self._show()

    def workers_busy(self) -> bool:
        """Whether a write is in flight (its own re-read will redraw)."""
        return any(w.node is self and w.group == WRITES and not w.is_finished for w in self.workers)
