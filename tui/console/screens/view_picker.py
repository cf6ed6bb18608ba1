"""The saved views of the streams area, to reopen one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList

from tui.summaries import one_line


class ViewPicker(ModalScreen[str | None]):
    """The saved views, to reopen one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="views-cancel")]

    def __init__(self, names: list[str]) -> None:
        super().__init__(classes="prompt-dialog")
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label("Open a saved view" if self.names else "No saved views yet (ctrl+s saves one)")
            yield OptionList(*(one_line(n, 60) for n in self.names), id="view-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_cancel(self) -> None:
        """Close without a view."""
        self.dismiss(None)
