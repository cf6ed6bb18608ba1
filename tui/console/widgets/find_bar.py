"""The ``/`` field of a pane or a table: it narrows what is shown as the operator types.

Hidden until :meth:`FindBar.open`; ``Enter`` keeps the text and gives the focus back, ``Esc`` clears it and
hides. The owner listens to :class:`FindBar.Narrowed` (each keystroke) and :class:`FindBar.Done`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FindBar(Input):
    """A one-line filter field, hidden until opened."""

    DEFAULT_CSS = """
    FindBar { display: none; height: 1; border: none; padding: 0 1; background: $boost; }
    FindBar.-open { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_and_close", "Clear", id="find-clear"),
    ]

    @dataclass
    class Narrowed(Message):
        """The text changed (each keystroke)."""

        bar: FindBar
        text: str

    @dataclass
    class Done(Message):
        """The operator left the field: ``cleared`` when with Esc (the text is gone)."""

        bar: FindBar
        cleared: bool

    def __init__(self, placeholder: str = "/ type to narrow · Enter keep · Esc clear", *, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, compact=True, classes="find-bar")

    def open(self) -> None:
        """Show the field and put the focus in it (the text stays: typing refines it)."""
        self.add_class("-open")
        # At once, not on the next turn (Widget.focus): the letters typed right after ``/`` are the field's.
        self.screen.set_focus(self)

    def close(self) -> None:
        """Hide the field (the text stays in force unless cleared)."""
        if not self.value:
            self.remove_class("-open")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input is self:
            event.stop()
            self.post_message(self.Narrowed(self, self.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input is self:
            event.stop()
            self.close()
            self.post_message(self.Done(self, cleared=False))

    def action_clear_and_close(self) -> None:
        """Clear the text, hide the field."""
        self.value = ""  # posts Input.Changed, hence Narrowed("")
        self.remove_class("-open")
        self.post_message(self.Done(self, cleared=True))
