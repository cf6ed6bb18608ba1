"""Chaos controls of the demo: the link between clients and broker, and the broker itself.

:class:`ChaosPanel` shows whether the link is up or cut and whether the broker runs, with the keys that change
them; the keys themselves are the demo app's (they work on every screen). It reads a :class:`ChaosControls`
(the demo runner), so the console never reaches into the broker or the proxy directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.app import RenderResult
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.demo.runner import ChaosState

LINK_KEY = "f7"
BROKER_KEY = "f8"


class ChaosControls(Protocol):
    """What the panel and the demo app's chaos keys drive (:class:`tui.demo.runner.DemoRunner`)."""

    @property
    def chaos(self) -> ChaosState:
        """The state now."""
        ...

    def subscribe_chaos(self, listener: Callable[[ChaosState], None]) -> Callable[[], None]:
        """Be told of every change; returns unsubscribe."""
        ...

    async def toggle_link(self) -> None:
        """Cut the link when up, restore it when cut."""
        ...

    async def toggle_broker(self) -> None:
        """Stop the broker when running, start it when stopped."""
        ...


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

    @dataclass
    class Changed(Message):
        """The link or the broker changed (a burst collapses into the latest)."""

        state: ChaosState

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ChaosPanel.Changed)

    state: reactive[ChaosState | None] = reactive(None)

    def __init__(self, controls: ChaosControls, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.controls = controls
        self._unsubscribe: Callable[[], None] | None = None

    def on_mount(self) -> None:
        self.state = self.controls.chaos
        self._unsubscribe = self.controls.subscribe_chaos(self._changed)

    def _changed(self, state: ChaosState) -> None:
        # Called by the runner, possibly from inside its own await: hand over as a message.
        self.post_message(self.Changed(state))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_chaos_panel_changed(self, message: ChaosPanel.Changed) -> None:
        self.state = message.state

    def render(self) -> RenderResult:
        state = self.state
        return describe(state) if state is not None else Content("Chaos: …")
