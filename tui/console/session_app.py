"""The base of every app that carries the console's session (the console, the demo, the bench), and typed access
to it from any screen or widget: :func:`session_of`, :func:`console_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from tui.console import strip_cycles

if TYPE_CHECKING:  # the console's first frame comes before the session (tui.console.app.OpeningConsole)
    from tui.console.session import Session


class SessionNotOpen(RuntimeError):
    """The console's session was asked for before it was opened (a programming error)."""


class OpeningFailed(Exception):
    """The console's session cannot be opened (settings that do not validate…): the lines to print on the way out,
    and the exit code (2: the user's input)."""

    def __init__(self, lines: list[str], code: int = 2) -> None:
        self.lines = lines
        self.code = code
        super().__init__("\n".join(lines))


class SessionApp(App[None]):
    """An app that carries the console's session; screens reach it through :func:`session_of`.

    The session is given at construction, or later with :meth:`open_session` (the console paints its first frame
    while its settings are still being read: :class:`tui.console.app.OpeningConsole`)."""

    def __init__(self, session: Session | None, *, cursor_blink: bool = True) -> None:
        """``cursor_blink=False`` freezes cursors (snapshots)."""
        super().__init__()
        # Painted lines freed by reference counting, not by collector pauses under a flood (see the module).
        strip_cycles.install()
        self._session = session
        self.cursor_blink = cursor_blink

    @property
    def session(self) -> Session:
        """The console's session; :class:`SessionNotOpen` before it is open."""
        if self._session is None:
            raise SessionNotOpen("the console's session is not open yet")
        return self._session

    @property
    def session_open(self) -> bool:
        """Whether the session is open (screens other than the opening one exist only then)."""
        return self._session is not None

    def open_session(self, session: Session) -> None:
        """Give the app its session (once)."""
        if self._session is not None:
            raise RuntimeError("the console's session is already open")
        self._session = session


def report_worker_failure(app: App[Any], event: Worker.StateChanged) -> None:
    """Turn a worker's failure into a visible notification (``Worker.StateChanged`` does not bubble, so
    the app and every console screen call this from their one handler)."""
    error = event.worker.error
    if event.state is WorkerState.ERROR and error is not None:
        text = str(error) or error.__class__.__name__
        app.notify(f"{event.worker.name}: {text}", title=error.__class__.__name__, severity="error", timeout=8)


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
