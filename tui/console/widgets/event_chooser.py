"""Choosing an event: fuzzy search by either name (``MESSAGES_UPSERT`` or ``messages.upsert``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui import catalog


def rank(query: str) -> list[catalog.Event]:
    """Events matching ``query`` by either name, best first; every event (catalog order) for no query."""
    text = query.strip()
    if not text:
        return list(catalog.EVENTS)
    matcher = Matcher(text)
    scored: list[tuple[float, int, catalog.Event]] = []
    for index, event in enumerate(catalog.EVENTS):
        score = max(matcher.match(event.name), matcher.match(event.wire))
        if score > 0:
            scored.append((-score, index, event))
    return [event for _, _, event in sorted(scored, key=lambda item: (item[0], item[1]))]


class EventChooser(Vertical):
    """A search box over the event list; Enter in either chooses the highlighted event."""

    DEFAULT_CSS = """
    EventChooser { height: 1fr; }
    EventChooser > OptionList { height: 1fr; }
    """

    @dataclass
    class Chosen(Message):
        """An event was chosen."""

        event: catalog.Event

    def __init__(self, event: catalog.Event | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.event = event

    def compose(self) -> ComposeResult:
        yield Input(placeholder="event (fuzzy, either name)", id="event-search", compact=True)
        yield OptionList(id="event-options")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        options = self.query_one("#event-options", OptionList)
        matches = rank(query)
        options.set_options(
            Option(e.wire, id=e.name)
            for e in matches
        )
        if matches:
            chosen = self.event
            index = next((i for i, e in enumerate(matches) if chosen is not None and e is chosen), 0)
            options.highlighted = index

    @on(Input.Changed, "#event-search")
    def _search(self, message: Input.Changed) -> None:
        message.stop()
        self._fill(message.value)
        # The best match is preselected so Enter in the search box picks it.
        options = self.query_one("#event-options", OptionList)
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#event-search")
    def _submit(self, message: Input.Submitted) -> None:
        message.stop()
        option = self.query_one("#event-options", OptionList).highlighted_option
        if option is not None and option.id is not None:
            self.choose(catalog.BY_NAME[option.id])

    @on(OptionList.OptionSelected, "#event-options")
    def _selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        if message.option.id is not None:
            self.choose(catalog.BY_NAME[message.option.id])

    def choose(self, event: catalog.Event) -> None:
        """Make ``event`` the chosen one and tell the screen."""
        self.event = event
        self.post_message(self.Chosen(event))
