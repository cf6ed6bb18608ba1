"""A WhatsApp message's life as a timeline: every record of the instance's topics, in both layouts, that refers to
one message id (or chat), in order, with the gaps flagged ("READ without an upsert", "upsert never acknowledged").

The same :class:`tui.flow.Timeline` as ``evokafka trace``, found by a time-bounded read (``flow_of(session).trace``).
``r`` reads again (a receipt may have come since), ``escape`` goes back.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.console.screens.base import ConsoleScreen
from tui.console.session_flow import flow_of
from tui.failures import reason
from tui.flow import Timeline, TraceQuery
from tui.summaries import one_line

_TONE = {
    "send.message": "cyan",
    "messages.upsert": "green",
    "messages.update": "blue",
    "send.message.update": "blue",
    "messages.edited": "magenta",
    "messages.delete": "red",
}


def _clock(millis: int) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(millis / 1000)) + f".{millis % 1000:03d}"


def timeline_text(result: Timeline) -> Text:
    """A heading, one line per record (time, offset from the first, event, layout, text, where), the gaps."""
    query = result.query
    if not result.found:
        text = Text(f"No record refers to {query.describe()}", style="bold yellow")
        text.append(f"\n{result.scanned:,} records read on {len(result.topics)} topics in the window")
        for note in result.notes:
            text.append(f"\nnote: {one_line(note, 300)}", style="dim")
        return text
    first = result.steps[0].timestamp
    text = Text(no_wrap=True, overflow="ignore")
    text.append(f"{one_line(query.describe(), 100)}: {len(result.steps)} records on "
                f"{len({s.topic for s in result.steps})} topics", style="bold")
    text.append(f" ({result.scanned:,} read)", style="dim")
    for step in result.steps:
        text.append(f"\n{_clock(step.timestamp)} +{(step.timestamp - first) / 1000:6.1f}s ")
        text.append(f"{step.label:<26}", style=_TONE.get(step.event, ""))
        text.append(f" {step.layout.value:<8}")
        if step.text:
            text.append(f" {one_line(step.text, 24)!s:<24}", style="italic")
        text.append(f" {step.topic}[{step.partition}]@{step.offset}", style="dim")
    if result.gaps:
        text.append("\ngaps:", style="bold red")
        for gap in result.gaps:
            text.append(f"\n  ! {one_line(gap.text, 300)}", style="red")
    else:
        text.append("\nno gaps", style="green")
    return text


class TraceScreen(ConsoleScreen):
    """One message's (or chat's) life; see the module docstring for the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="trace-back"),
        Binding("r", "reread", "Read again", id="trace-reread"),
    ]

    def __init__(self, query: TraceQuery, result: Timeline | None = None) -> None:
        """``result``: a fixed timeline to show (snapshots); else it is read from the topics."""
        super().__init__(classes="trace-screen")
        self.query_ = query
        self.result = result
        self.reads = 0
        """Reads finished (tests wait on it)."""
        self.error: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Trace {one_line(self.query_.describe(), 100)}", style="bold"), id="trace-title")
        with VerticalScroll(id="trace-scroll"):
            yield Static(Text("reading…", style="italic"), id="trace-body")

    def on_mount(self) -> None:
        self.query_one("#trace-scroll").focus()
        if self.result is not None:
            self._show()
        elif self.session.connect:
            self.action_reread()

    def action_reread(self) -> None:
        """Read the window again."""
        if self.session.connect:
            self._read()

    @work(group="trace", exclusive=True, exit_on_error=False, name="trace")
    async def _read(self) -> None:
        try:
            self.result = await flow_of(self.session).trace(self.query_)
            self.error = None
        except Exception as exc:
            self.error = one_line(reason(exc), 200)
        self.reads += 1
        self._show()

    def _show(self) -> None:
        body = self.query_one("#trace-body", Static)
        if self.result is None:
            body.update(Text(f"cannot read: {self.error}", style="red") if self.error else Text("reading…"))
            return
        text = timeline_text(self.result)
        if self.error:
            text.append(f"\n(last read failed: {self.error})", style="red")
        body.update(text)
