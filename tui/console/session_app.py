"""The base of every app that carries the console's session (the console, the demo, the bench), and typed access
to it from any screen or widget: :func:`session_of`, :func:`console_app`."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input

from tui.console import strip_cycles
from tui.console.session import Session


class SessionApp(App[None]):
    """An app that carries the console's session; screens reach it through :func:`session_of`."""

    def __init__(self, session: Session, *, cursor_blink: bool = True) -> None:
        """``cursor_blink=False`` freezes cursors (snapshots)."""
        super().__init__()
        # Painted lines freed by reference counting, not by collector pauses under a flood (see the module).
        strip_cycles.install()
        self.session = session
        self.cursor_blink = cursor_blink


def console_app(node: DOMNode) -> SessionApp:
    """The app ``node`` runs in, typed; a screen outside a console is a programming error."""
    app = node.app
    if not isinstance(app, SessionApp):
        raise RuntimeError("this screen runs only inside the evokafka console")
    return app


def session_of(node: DOMNode) -> Session:
    """The console's session, typed."""
    return console_app(node).session


def apply_cursor_blink(screen: Screen[Any]) -> None:
    """Every input of ``screen`` blinks as the app says (off for snapshots)."""
    blink = console_app(screen).cursor_blink
    for widget in screen.query(Input):
        widget.cursor_blink = blink
