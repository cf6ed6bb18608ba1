"""Why an event of an instance did or did not arrive: the verdict line and the reasons, checked live.

The same facts as ``evokafka explain INSTANCE EVENT`` (:class:`tui.explanation.Explanation`): Evolution API
2.3.6's routing, each topic it would go to (exists, partitions, last record of that instance and event, age),
the consumer group's lag there, the brokers, and the console publisher's state. Checked again every
:data:`RECHECK_S` seconds while the screen is open, and at once with ``r``. ``escape`` goes back.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import catalog
from tui.console.screens.base import ConsoleScreen
from tui.console.session_flow import flow_of
from tui.explanation import PUBLISHED, Explanation
from tui.failures import reason
from tui.summaries import one_line

RECHECK_S = 5.0
"""How often the reasons are checked again while the screen is open."""


def explanation_text(result: Explanation) -> Text:
    """The verdict line (coloured by the answer), then one line per reason and fact."""
    lines = result.lines()
    if not result.cluster.reachable:
        tone = "bold red"
    elif result.verdict == PUBLISHED and result.arrived is not None:
        tone = "bold green"
    else:
        tone = "bold yellow"
    text = Text(one_line(lines[0], 400), style=tone)
    for line in lines[1:]:
        style = "dim" if line.startswith("      ") else ""
        if "not sent to" in line or "does not exist" in line or "never" in line:
            style = "yellow"
        text.append("\n" + one_line(line, 400), style=style)
    return text


class ExplainScreen(ConsoleScreen):
    """One instance and event, explained; see the module docstring for the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="explain-back"),
        Binding("r", "recheck", "Check again", id="explain-recheck"),
    ]

    def __init__(self, instance: str, event: catalog.Event, result: Explanation | None = None) -> None:
        """``result``: a fixed answer to show (snapshots); else it is checked live."""
        super().__init__(classes="explain-screen")
        self.instance = instance
        self.event = event
        self.result = result
        self.checks = 0
        """Checks finished (tests wait on it)."""
        self.error: str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Explain {self.event.wire} of {self.instance}", style="bold"), id="explain-title")
        with VerticalScroll(id="explain-scroll"):
            yield Static(Text("checking…", style="italic"), id="explain-body")

    def on_mount(self) -> None:
        self.query_one("#explain-scroll").focus()
        if self.result is not None:
            self._show()
        if self.session.connect and self.result is None:
            self.action_recheck()
            self.set_interval(RECHECK_S, self.action_recheck)

    def action_recheck(self) -> None:
        """Check every reason again now."""
        if self.session.connect:
            self._check()

    @work(group="explain", exclusive=True, exit_on_error=False, name="explain")
    async def _check(self) -> None:
        try:
            self.result = await flow_of(self.session).explain(self.instance, self.event)
            self.error = None
        except Exception as exc:
            self.error = one_line(reason(exc), 200)
        self.checks += 1
        self._show()

    def _show(self) -> None:
        body = self.query_one("#explain-body", Static)
        if self.result is None:
            body.update(Text(f"cannot check: {self.error}", style="red") if self.error else Text("checking…"))
            return
        text = explanation_text(self.result)
        if self.error:
            text.append(f"\n(last check failed: {self.error}; showing the one before)", style="red")
        body.update(text)
