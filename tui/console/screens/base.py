"""The frame every console screen shares: cluster header on top, producer status and footer at the bottom.

Screens of other areas can subclass :class:`ConsoleScreen` and implement :meth:`compose_body` to get the
same frame; :func:`session_of` gives any widget typed access to the app's :class:`~tui.console.session.Session`
through :class:`~tui.console.session_app.SessionApp`, the base of every app that carries one (the console, the demo, the bench).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from tui.console.session import Session
from tui.console.session_app import console_app, session_of
from tui.console.widgets.cluster_header import ClusterHeader
from tui.console.widgets.producer_status import ProducerStatus


def report_worker_failure(app: App[Any], event: Worker.StateChanged) -> None:
    """Turn a worker's failure into a visible notification (``Worker.StateChanged`` does not bubble, so
    the app and every console screen call this from their one handler)."""
    error = event.worker.error
    if event.state is WorkerState.ERROR and error is not None:
        text = str(error) or error.__class__.__name__
        app.notify(f"{event.worker.name}: {text}", title=error.__class__.__name__, severity="error", timeout=8)


class ConsoleFooter(Footer):
    """Textual's footer, rebuilt only when what it shows changes.

    The footer recomposes (removes and mounts every key, then a layout pass) each time the screen's bindings
    may have changed, which is on every focus move. Moving between widgets that bind the same keys (a stream
    pane's table to the next one's) changes nothing it shows: that rebuild cost tens of milliseconds of a
    busy event loop under a flood, on every pane switch.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] | None = None

    def _shown_bindings(self, screen: Screen[Any]) -> tuple[object, ...]:
        return tuple(
            (key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
            if binding.show or key == self.app.COMMAND_PALETTE_BINDING
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen and self.is_attached and screen.app.app_focus:
            shown = self._shown_bindings(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)


class ConsoleScreen(Screen[None]):
    """A screen with the console frame: header, body (:meth:`compose_body`), producer status, footer."""

    @property
    def session(self) -> Session:
        """The console's session: its I/O and the state it reports."""
        return session_of(self)

    @property
    def cursor_blink(self) -> bool:
        """Whether cursors blink (off for snapshots)."""
        return console_app(self).cursor_blink

    def compose(self) -> ComposeResult:
        session = self.session
        yield ClusterHeader(session, id="cluster-header")
        with Vertical(id="body"):
            yield from self.compose_body()
        yield ProducerStatus(session, id="producer-status")
        yield ConsoleFooter()

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self.app, event)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between header and producer status."""
        yield from ()
