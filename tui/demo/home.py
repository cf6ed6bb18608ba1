"""The demo's home screen: what is running, where, how to reach it from a second terminal, and which keys.

The ordinary home (overview and areas) with the demo's guide on top. The app supplies the facts
(:class:`DemoFacts`, through :class:`GuidedApp`); the guide is redrawn every second, so it follows the demo
from "starting" to running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from tui.console.screens.main import MainScreen

GUIDE_REFRESH_S = 1.0


@dataclass(frozen=True, slots=True)
class DemoFacts:
    """What the guide says about the running demo."""

    bootstrap: str
    embedded: bool
    """The embedded broker behind the link proxy (else an existing cluster)."""
    instances: int
    rate: float
    global_enabled: bool
    group: str
    """The demo's own consumer group."""
    second_terminal: str
    """The command that opens a console on the demo from another terminal."""
    started: bool
    events: int = 0


@runtime_checkable
class GuidedApp(Protocol):
    """An app that can say what its demo is doing."""

    def demo_facts(self) -> DemoFacts:
        """The demo's facts now."""
        ...


def guide(facts: DemoFacts) -> Content:
    """The guide's lines: what runs where, the second terminal's command, the keys that show it."""
    where = f"embedded broker (Tansu) at {facts.bootstrap}" if facts.embedded else f"cluster {facts.bootstrap}"
    state = f"{facts.events:,} events so far" if facts.started else "starting…"
    layouts = "both layouts" if facts.global_enabled else "per-instance topics"
    lines = [
        Content.from_markup("[b $accent]Demo[/] on the $where · $state", where=where, state=state),
        Content.from_markup(
            "$n WhatsApp instances, $rate events/s, $layouts. Group [b]$group[/b] lags behind, then catches up.",
            n=str(facts.instances), rate=f"{facts.rate:g}", layouts=layouts, group=facts.group,
        ),
        Content.from_markup("[b]Second terminal:[/b] $cmd", cmd=facts.second_terminal),
        Content.from_markup(
            "[b]s[/b] live panes · [b]g[/b] groups, lag · [b]i[/b] instances"
            + (" · [b]F7[/b] cut link · [b]F8[/b] stop broker" if facts.embedded else "")
            + " · [b]?[/b] keys · [b]q[/b] quit"
        ),
    ]
    return Content("\n").join(lines)


class DemoHomeScreen(MainScreen):
    """Home, with the demo's guide above the overview."""

    SCREEN_NAME = "Demo"

    def compose_body(self) -> ComposeResult:
        yield Static(id="demo-guide")
        yield from super().compose_body()

    def on_mount(self) -> None:
        super().on_mount()
        self._show_guide()
        self.set_interval(GUIDE_REFRESH_S, self._show_guide)

    def _show_guide(self) -> None:
        app = self.app
        if isinstance(app, GuidedApp):
            self.query_one("#demo-guide", Static).update(guide(app.demo_facts()))
