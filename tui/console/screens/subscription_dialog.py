"""The subscription dialog of the streams area: what a pane reads (layout pick lists, raw topics, a regex), where it
starts, and its filters.

It opens with the focus in its first field; every field has a label beside it (a filled field keeps saying what
it is). ``ctrl+a`` ticks every event (in the global list when that list has the focus), ``ctrl+t`` reads every
event of the instance under the cursor, ``ctrl+f`` jumps to the filters.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection as Pick

from tui import catalog
from tui.console.session_app import apply_cursor_blink
from tui.filters import FilterError, FilterSpec, split_names
from tui.selection import PaneSpec, Selection, StartPosition, ViewError
from tui.summaries import one_line


def _field(label: str, field: Widget) -> Horizontal:
    """A form row: its label, then the field."""
    return Horizontal(Label(label, classes="field-name"), field, classes="field-row")


class SubscriptionDialog(ModalScreen[PaneSpec | None]):
    """What a pane reads (layout pick lists, raw topics, a regex), where it starts, and its filters."""

    # Priority: the fields' own ctrl+a/ctrl+f (line start, delete word) must not swallow the dialog's picks.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
        Binding("ctrl+s", "accept", "Open pane", id="dialog-accept"),
        Binding("ctrl+a", "all_events", "All events", id="dialog-all-events", priority=True),
        Binding("ctrl+t", "instance_events", "All events of this instance", id="dialog-instance-events", priority=True),
        Binding("ctrl+f", "focus_filters", "Filters", id="dialog-filters", priority=True),
    ]

    def __init__(self, prefix: str, instances: list[str], spec: PaneSpec | None = None) -> None:
        super().__init__(classes="subscription-dialog")
        self.prefix = prefix
        self.spec = spec
        known = sorted(set(instances) | set(spec.selection.instances if spec else ()))
        self.known_instances = known

    def compose(self) -> ComposeResult:
        spec = self.spec or PaneSpec("", Selection())
        sel, flt = spec.selection, spec.filter
        chosen_events = {catalog.lookup(e).wire for e in sel.events if catalog.find(e)}
        chosen_global = {catalog.lookup(e).wire for e in sel.global_events if catalog.find(e)}
        with Vertical(id="dialog-box"):
            yield Label("New pane" if self.spec is None else "Edit pane", classes="dialog-title")
            with VerticalScroll(id="dialog-fields"):
                yield _field("title", Input(spec.title, placeholder="the pane's name", id="f-title"))
                yield Label(
                    "instances x events · global events  (^a all events, ^t all of this instance)",
                    classes="field-label",
                )
                with Horizontal(id="picks"):
                    yield SelectionList[str](
                        *(Pick(one_line(i, 40), i, i in sel.instances) for i in self.known_instances),
                        id="pick-instances",
                    )
                    yield SelectionList[str](
                        *(Pick(e.wire, e.wire, e.wire in chosen_events) for e in catalog.EVENTS), id="pick-events"
                    )
                    yield SelectionList[str](
                        *(Pick(e.wire, e.wire, e.wire in chosen_global) for e in catalog.EVENTS), id="pick-global"
                    )
                unknown = [i for i in sel.instances if i not in self.known_instances]
                yield _field("+ instances", Input(", ".join(unknown), placeholder="comma-separated", id="f-instances"))
                yield _field("raw topics", Input(", ".join(sel.topics), placeholder="comma-separated", id="f-topics"))
                yield _field("topic regex", Input(sel.pattern, placeholder="evolution\\..*\\.call", id="f-pattern"))
                yield _field(
                    "start", Input(spec.start, placeholder="latest | earliest | -N | @millis | ISO time", id="f-start")
                )
                yield Label("filters (ctrl+f)", classes="field-label")
                yield _field("key", Input(flt.key, placeholder="glob, e.g. acme-*", id="f-key"))
                yield _field("instance(s)", Input(", ".join(flt.instances), placeholder="comma-separated",
                                                  id="f-f-instances"))
                yield _field("event(s)", Input(", ".join(flt.events), placeholder="comma-separated", id="f-f-events"))
                yield _field("headers", Input(", ".join(flt.headers), placeholder="name=value, …", id="f-headers"))
                yield _field("free text", Input(flt.text, placeholder="anywhere in key, headers, value", id="f-text"))
                yield _field(
                    "JSONPath",
                    Input(flt.jsonpath, placeholder='$[?(@.data.pushName == "John")]', id="f-jsonpath"),
                )
            yield Static("", id="dialog-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Open (ctrl+s)", variant="primary", id="dialog-ok")
                yield Button("Cancel (esc)", id="dialog-cancel-button")

    def on_mount(self) -> None:
        apply_cursor_blink(self)
        self.query_one("#f-title", Input).focus()

    def _say(self, text: str, style: str = "bold red") -> None:
        self.query_one("#dialog-error", Static).update(Text(one_line(text, 300), style=style))

    def action_all_events(self) -> None:
        """Tick every event (of the global list when it has the focus); again: untick them all."""
        focused = self.focused
        picks = self.query_one("#pick-global" if focused and focused.id == "pick-global" else "#pick-events",
                               SelectionList)
        if len(picks.selected) == picks.option_count:
            picks.deselect_all()
            self._say("no event ticked", "italic")
        else:
            picks.select_all()
            where = "global topics" if picks.id == "pick-global" else "per-instance topics"
            self._say(f"all {picks.option_count} events ticked ({where})", "italic")

    def action_instance_events(self) -> None:
        """Read every event of the instance under the cursor (or the one typed in ``+ instances``)."""
        instances = self.query_one("#pick-instances", SelectionList)
        name: str | None = None
        highlighted = instances.highlighted
        if highlighted is not None and instances.option_count:
            name = instances.get_option_at_index(highlighted).value
        else:
            typed = split_names(self._value("f-instances"))
            name = typed[0] if typed else None
        if name is None:
            self._say("no instance to take: pick one in the list or type it under + instances")
            return
        if name in self.known_instances:
            instances.select(name)
        self.query_one("#pick-events", SelectionList).select_all()
        if not self._value("f-title"):
            self.query_one("#f-title", Input).value = f"{name} · all events"
        self._say(f"{name} x all {len(catalog.EVENTS)} events", "italic")

    def action_focus_filters(self) -> None:
        """Jump to the first filter field."""
        self.query_one("#f-key", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def build_spec(self) -> PaneSpec:
        """The pane the form describes; :class:`ViewError` or :class:`FilterError` (one line) when unusable."""
        picked_instances = list(self.query_one("#pick-instances", SelectionList).selected)
        instances = tuple(dict.fromkeys([*picked_instances, *split_names(self._value("f-instances"))]))
        selection = Selection(
            topics=split_names(self._value("f-topics")),
            pattern=self._value("f-pattern"),
            instances=instances,
            events=tuple(self.query_one("#pick-events", SelectionList).selected),
            global_events=tuple(self.query_one("#pick-global", SelectionList).selected),
        )
        selection.check(self.prefix)
        start = self._value("f-start") or "latest"
        try:
            StartPosition.parse(start)
        except ValueError as exc:
            raise ViewError(str(exc)) from None
        spec = FilterSpec(
            key=self._value("f-key"),
            instances=split_names(self._value("f-f-instances")),
            events=split_names(self._value("f-f-events")),
            headers=tuple(h.strip() for h in self._value("f-headers").split(",") if h.strip()),
            text=self._value("f-text"),
            jsonpath=self._value("f-jsonpath"),
        )
        spec.compile()
        title = self._value("f-title") or selection.describe()
        return PaneSpec(title[:60], selection, start, spec)

    def action_accept(self) -> None:
        """Check the form and open the pane, or say in one line what is wrong."""
        try:
            spec = self.build_spec()
        except (ViewError, FilterError) as exc:
            self._say(str(exc))
            return
        self.dismiss(spec)

    def action_cancel(self) -> None:
        """Close without a pane."""
        self.dismiss(None)

    @on(Button.Pressed, "#dialog-ok")
    def _ok(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#dialog-cancel-button")
    def _cancel(self) -> None:
        self.action_cancel()
