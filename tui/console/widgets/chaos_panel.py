"""Chaos controls of the demo: the link between clients and broker, and the broker itself.

:class:`ChaosPanel` shows whether the link is up or cut and whether the broker runs, with the keys that change
them; the keys themselves are the demo app's (they work on every screen). It reads the session's chaos state
(the demo runner's controls, handed to the session), so the console never reaches into the broker or the proxy.
"""

from __future__ import annotations

from textual import on
from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.console.bridge import listen
from tui.console.messages import ChaosChanged
from tui.console.session import Session
from tui.listeners import Unsubscribe
from tui.status import ChaosState

LINK_KEY = "f7"
BROKER_KEY = "f8"


def describe(state: ChaosState) -> Content:
    """One line: the link, the broker, and the keys."""
    if not state.available:
        return Content.from_markup("[$text-muted]Chaos: not available on an existing cluster[/]")
    link = "[$error]cut[/]" if state.link_cut else "[$success]up[/]"
    broker = "[$success]running[/]" if state.broker_running else "[$error]stopped[/]"
    link_action = "restore" if state.link_cut else "cut"
    broker_action = "start" if not state.broker_running else "stop"
    line = Content.from_markup(
        f"[b]Chaos[/b]  link {link} [$text-muted]($lk {link_action})[/]"
        f" · broker {broker} [$text-muted]($bk {broker_action})[/]",
        lk=LINK_KEY,
        bk=BROKER_KEY,
    )
    if state.last_error:
        line = line + Content.from_markup(" · [$warning]$error[/]", error=state.last_error)
    return line


class ChaosPanel(Widget):
    """One line of chaos state, kept current by the controls' notifications."""

    DEFAULT_CSS = """
    ChaosPanel { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    state: reactive[ChaosState | None] = reactive(None)

    def __init__(self, session: Session, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._session = session
        self._unsubscribe: Unsubscribe | None = None

    def on_mount(self) -> None:
        self.state = self._session.chaos_state
        self._unsubscribe = listen(self._session, self, ChaosChanged)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(ChaosChanged)
    def _chaos_changed(self, message: ChaosChanged) -> None:
        self.state = message.chaos

    def render(self) -> RenderResult:
        state = self.state
        return describe(state) if state is not None else Content("Chaos: …")
