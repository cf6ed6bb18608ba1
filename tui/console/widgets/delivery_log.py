"""The outcome of sends: topic, partition and offset per record, or the error."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.status import Delivery

MAX_LINES = 200
"""Older lines fall out; the burst summary says how many records there were in all."""


def delivery_line(delivery: Delivery) -> Content:
    """``✓ p0 @ 12  topic  key k`` or ``✗ topic: error``: where it landed first, so a narrow screen cuts the
    topic's end (with an ellipsis), never the offset."""
    if delivery.error is None:
        return Content.from_markup(
            "[$success]✓[/] [b]p$partition[/b] @ [b]$offset[/b]  $topic  key $key",
            topic=delivery.topic,
            partition=str(delivery.partition),
            offset=str(delivery.offset),
            key=delivery.key,
        )
    return Content.from_markup("[$error]✗ $topic: $error[/]", topic=delivery.topic, error=delivery.error)


class DeliveryLog(VerticalScroll):
    """A bounded, scrollable list of what was sent and what failed."""

    DEFAULT_CSS = """
    DeliveryLog > Static { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: deque[Content] = deque(maxlen=MAX_LINES)
        self._waiting: Content | None = None
        """The last line while a send waits for the cluster; replaced in place by its outcome."""

    def compose(self) -> ComposeResult:
        yield Static("[dim]results of sends appear here[/]")

    @property
    def lines(self) -> list[str]:
        """The lines as plain text (for tests and copy)."""
        return [line.plain for line in self._shown()]

    def waiting(self, text: str) -> None:
        """Show (or update) the line of a send still waiting: ``queued — waiting for the cluster (…)``."""
        self._waiting = Content.from_markup("[$warning]⧗ $t[/]", t=text)
        self._add([])

    def _shown(self) -> list[Content]:
        return [*self._lines, self._waiting] if self._waiting is not None else list(self._lines)

    def deliveries(self, items: Iterable[Delivery]) -> None:
        """Add one line per record (in place of the waiting line, if any)."""
        self._waiting = None
        self._add(delivery_line(d) for d in items)

    def note(self, text: str, *, error: bool = False) -> None:
        """Add a line of text (an error in the error colour)."""
        self._add([Content.from_markup("[$error]$t[/]" if error else "$t", t=text)])

    def _add(self, lines: Iterable[Content]) -> None:
        self._lines.extend(lines)
        self.query_one(Static).update(Content("\n").join(self._shown()))
        self.scroll_end(animate=False)
