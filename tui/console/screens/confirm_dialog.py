"""A yes/no question answered in one keystroke: ``y`` or Enter says yes, ``n`` or Esc says no."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmDialog(ModalScreen[bool]):
    """Asks before a change that cannot be taken back (or not easily); dismissed with True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > #confirm-box { width: 64; max-width: 100%; height: auto; border: thick $warning;
                                   background: $surface; padding: 0 1; }
    ConfirmDialog #confirm-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, question: str, detail: str = "", *, yes: str = "yes", yes_keys: tuple[str, ...] = ()) -> None:
        """``question`` on the first line, ``detail`` (what changes) under it; ``yes`` names the action;
        ``yes_keys`` say yes too (``q`` pressed again in "Quit?")."""
        super().__init__(classes="confirm-dialog")
        self.question = question
        self.detail = detail
        self.yes = yes
        self.yes_keys = yes_keys

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.from_markup("[b]$q[/b]", q=self.question), id="confirm-question")
            if self.detail:
                yield Static(Content(self.detail), id="confirm-detail")
            yield Static(
                Content.from_markup(
                    "[b]$keys[/b] $yes · [b]n[/b]/Esc keep as it is", keys="/".join(("y", *self.yes_keys, "Enter")),
                    yes=self.yes,
                ),
                id="confirm-keys",
            )

    def on_key(self, event: events.Key) -> None:
        if event.key in self.yes_keys:
            event.stop()
            self.dismiss(True)

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
