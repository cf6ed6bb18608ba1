"""The console's first screen, shown while its settings are read and its session is built
(:class:`tui.console.app.OpeningConsole`): what is being read, and that ``q`` leaves.

It needs nothing of the session, so the first frame waits neither for pydantic nor for evokafka's session; the
console turns to its home (or to the panes ``evokafka watch`` asked for) as soon as the session is open,
a fraction of a second later. Settings that do not validate close the console with their lines (exit 2).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui import __version__


class OpeningScreen(Screen[None]):
    """``evokafka · opening``: the settings being read, and where from."""

    screen_name = "Opening"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.request_quit(False)", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(f"evokafka {__version__} · opening", id="opening-title")
        with Vertical(id="body"):
            yield Static("Reading the settings and opening the session…", id="opening-state")
        yield Footer(show_command_palette=False)

    def show_state(self, text: str) -> None:
        """Say what the opening is doing now."""
        self.query_one("#opening-state", Static).update(text)
