"""The frame every console screen shares: cluster header on top, producer status and footer at the bottom.

Screens of other areas can subclass :class:`ConsoleScreen` and implement :meth:`compose_body` to get the
same frame; :func:`session_of` gives any widget typed access to the app's :class:`~tui.console.session.Session`
through :class:`~tui.console.session_app.SessionApp`, the base of every app that carries one (the console, the demo, the bench).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from textual.worker import Worker

from tui.console.session import Session
from tui.console.session_app import console_app, report_worker_failure, session_of
from tui.console.widgets.cluster_header import ClusterHeader
from tui.console.widgets.producer_status import ProducerStatus

HELP_KEY = "question_mark"
"""The key that lists every key (:class:`tui.console.screens.keys_help.KeysHelpScreen`); the footer always shows it."""


def footer_width(key_display: str, description: str) -> int:
    """Columns a footer key takes: `` key description `` and the gap after it."""
    return len(key_display) + len(description) + 3


class ConsoleFooter(Footer):
    """Textual's footer, showing what fits (in binding order: what matters first) and never a word cut; the
    keys that do not fit are behind ``?``, which is always shown last. Rebuilt only when what it shows changes.

    The footer recomposes (removes and mounts every key, then a layout pass) each time the screen's bindings
    may have changed, which is on every focus move. Moving between widgets that bind the same keys (a stream
    pane's table to the next one's) changes nothing it shows: that rebuild cost tens of milliseconds of a
    busy event loop under a flood, on every pane switch.
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._shown: tuple[object, ...] | None = None
        self.hidden_keys = 0
        """Keys with ``show`` set that did not fit (listed by ``?``)."""

    def _shown_bindings(self, screen: Screen[Any]) -> tuple[object, ...]:
        return (
            self.app.size.width,
            *(
                (key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
                for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                if binding.show or key == self.app.COMMAND_PALETTE_BINDING
            ),
        )

    def fitting(self) -> list[tuple[Binding, bool, str]]:
        """The shown bindings that fit the width, in order, with ``?`` last; one per action."""
        active = self.screen.active_bindings
        help_key = active.get(HELP_KEY)
        room = self.app.size.width - (footer_width("?", help_key[1].description) if help_key else 0)
        chosen: list[tuple[Binding, bool, str]] = []
        actions: set[str] = set()
        self.hidden_keys = 0
        for _, binding, enabled, tooltip in active.values():
            if not binding.show or binding.id == "keys" or binding.action in actions:
                continue
            actions.add(binding.action)
            need = footer_width(self.app.get_key_display(binding), binding.description)
            if need > room:
                self.hidden_keys += 1
                room = 0  # keep the order: nothing after a key that did not fit jumps ahead of it
                continue
            room -= need
            chosen.append((binding, enabled, tooltip))
        if help_key is not None:
            areas = self.area_keys()
            if areas and not self.hidden_keys and footer_width(areas, "areas") <= room:
                chosen.append((Binding(HELP_KEY, help_key[1].action, "areas", key_display=areas), True, ""))
            chosen.append((help_key[1], help_key[2], help_key[3]))
        return chosen

    def area_keys(self) -> str:
        """The keys that open the console's areas (``h i p s l g d``), as bound on the app."""
        return " ".join(
            binding.key for _, binding, _, _ in self.screen.active_bindings.values()
            if binding.id and binding.id.startswith("area-")
        )

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        for binding, enabled, tooltip in self.fitting():
            description = binding.description
            if binding.id == "keys":
                description = f"{description} (+{self.hidden_keys})" if self.hidden_keys else description
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)

    def on_resize(self) -> None:
        if self._bindings_ready and self.is_attached:
            self.bindings_changed(self.screen)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen and self.is_attached and screen.app.app_focus:
            shown = self._shown_bindings(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)


class ConsoleScreen(Screen[None]):
    """A screen with the console frame: header, body (:meth:`compose_body`), producer status, footer."""

    SCREEN_NAME: ClassVar[str] = ""
    """What the header calls this screen."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """As Textual's, without repainting the whole screen when the focus moves: the widgets that lose and gain it
    restyle and repaint themselves. Textual's repaint redrew every cell of the screen on each focus change — the
    most of a ``]`` under a flood (20-50 ms a frame), and a whole screen of bytes per Tab over SSH."""

    @property
    def screen_name(self) -> str:
        """What the header calls this screen (the class's :attr:`SCREEN_NAME`; a screen may say more)."""
        return self.SCREEN_NAME

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
        yield ClusterHeader(session, screen_name=self.screen_name, id="cluster-header")
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
