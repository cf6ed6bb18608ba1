"""An instance's event toggles, grouped by the reference's categories, each with where it goes now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui import catalog
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.topology import Route, route

_WHERE_COLOUR = {"both": "$success", "per-instance": "$success", "global": "$accent", "nowhere": "$text-muted"}
_NAME_WIDTH = max(len(e.name) for e in catalog.EVENTS) + 1
_WIRE_WIDTH = max(len(e.wire) for e in catalog.EVENTS) + 1


def toggle_line(
    event: catalog.Event, settings: InstanceSettings | None, where: Route, refused: bool = False
) -> Content:
    """``[x] MESSAGES_UPSERT  messages.upsert  → both``; ``[-] … refused by the source`` when it cannot be on."""
    on = settings is not None and settings.enables(event)
    if on:
        mark = Content.from_markup("[$success]\\[x][/]")
    elif refused:
        mark = Content.from_markup("[$error]\\[-][/]")
    else:
        mark = Content("[ ]")
    colour = _WHERE_COLOUR.get(where.where, "$text")
    line = Content.assemble(
        mark,
        " ",
        event.name.ljust(_NAME_WIDTH),
        Content.from_markup(f"[$text-muted]$wire[/] [{colour}]→ $where[/]", wire=event.wire.ljust(_WIRE_WIDTH),
                            where=where.where),
    )
    if refused:
        line += Content.from_markup("  [$error]refused by the source[/]")
    return line


class EventToggles(OptionList):
    """Every event of the catalog under its category header; Enter or Space toggles the highlighted one.

    A view of the source's state: toggling posts :class:`Toggled` and changes nothing by itself; the
    screen writes the change and calls :meth:`show` with what the source then holds. Events the source refuses
    (Evolution API's ``/kafka/set`` does not accept them) are marked ``[-]``; the screen explains why.
    """

    BINDINGS = [Binding("space", "select", "Toggle", id="toggle-event")]

    @dataclass
    class Toggled(Message):
        """The operator asked to switch ``event`` on or off."""

        event: catalog.Event

    @dataclass
    class Highlighted(Message):
        """The highlighted event changed (for the panel that explains where it goes)."""

        event: catalog.Event

    def __init__(self, settings: KafkaSettings, instance: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._kafka = settings
        self._instance = instance
        self._current: InstanceSettings | None = None
        self._refused: Mapping[str, str] = {}
        self._build()

    def _build(self) -> None:
        options: list[Option] = []
        for category, events in catalog.by_category().items():
            options.append(Option(Content.from_markup("[b $accent]$c[/]", c=str(category)), disabled=True))
            for event in events:
                options.append(Option(self._line(event), id=event.name))
        self.set_options(options)

    def _line(self, event: catalog.Event) -> Content:
        where = route(self._kafka, self._instance, event, self._current)
        return toggle_line(event, self._current, where, event.name in self._refused)

    def show(self, settings: InstanceSettings | None, refused: Mapping[str, str] | None = None) -> None:
        """Redraw every toggle for ``settings`` (None: the instance has no Kafka settings); ``refused`` maps the
        events the source cannot switch on to why."""
        self._current = settings
        if refused is not None:
            self._refused = dict(refused)
        for event in catalog.EVENTS:
            self.replace_option_prompt(event.name, self._line(event))

    def refusal(self, event: catalog.Event) -> str | None:
        """Why the source cannot switch ``event`` on, or None."""
        return self._refused.get(event.name)

    @property
    def event(self) -> catalog.Event | None:
        """The highlighted event."""
        option = self.highlighted_option
        if option is None or option.id is None:
            return None
        return catalog.BY_NAME.get(option.id)

    def on_mount(self) -> None:
        if self.highlighted is None:
            self.highlighted = 1  # the first event, below the first category header

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        if message.option.id is not None:
            self.post_message(self.Toggled(catalog.BY_NAME[message.option.id]))

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        message.stop()
        if message.option.id is not None:
            self.post_message(self.Highlighted(catalog.BY_NAME[message.option.id]))
