"""The subscription dialog of the streams area: what a pane reads (layout pick lists, raw topics, a regex), where it
starts, and its filters."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection as Pick

from tui import catalog
from tui.console.session_app import apply_cursor_blink
from tui.filters import FilterError, FilterSpec, split_names
from tui.selection import PaneSpec, Selection, StartPosition, ViewError
from tui.summaries import one_line


class SubscriptionDialog(ModalScreen[PaneSpec | None]):
    """What a pane reads (layout pick lists, raw topics, a regex), where it starts, and its filters."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
        Binding("ctrl+s", "accept", "Open pane", id="dialog-accept"),
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
                yield Input(spec.title, placeholder="title", id="f-title")
                yield Label("instances x events (per-instance topics) · events on global topics", classes="field-label")
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
                yield Input(", ".join(unknown), placeholder="more instances (comma-separated)", id="f-instances")
                yield Input(", ".join(sel.topics), placeholder="raw topics (comma-separated)", id="f-topics")
                yield Input(sel.pattern, placeholder="topic regex, e.g. evolution\\..*\\.call", id="f-pattern")
                yield Input(spec.start, placeholder="start: latest | earliest | -N | @millis | ISO time", id="f-start")
                yield Label("filters", classes="field-label")
                yield Input(flt.key, placeholder="key (glob)", id="f-key")
                yield Input(", ".join(flt.instances), placeholder="instance(s)", id="f-f-instances")
                yield Input(", ".join(flt.events), placeholder="event(s)", id="f-f-events")
                yield Input(", ".join(flt.headers), placeholder="header name=value, …", id="f-headers")
                yield Input(flt.text, placeholder="free text", id="f-text")
                yield Input(flt.jsonpath, placeholder='JSONPath, e.g. $[?(@.data.pushName == "John")]', id="f-jsonpath")
            yield Static("", id="dialog-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Open (ctrl+s)", variant="primary", id="dialog-ok")
                yield Button("Cancel (esc)", id="dialog-cancel-button")

    def on_mount(self) -> None:
        apply_cursor_blink(self)

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
            self.query_one("#dialog-error", Static).update(Text(one_line(str(exc), 300), style="bold red"))
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
