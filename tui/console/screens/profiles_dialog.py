"""The profile switcher: the named connection profiles of the configuration directory, secrets masked.

Choosing one closes the console and opens it again on that profile's settings (the command line does it).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.profiles import PRODUCTION_VARIABLE, ProfileError, ProfileStore, masked


class ProfilesDialog(ModalScreen[str | None]):
    """Pick a profile (Enter) or keep the current one (Esc); the highlighted one's settings are shown masked."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="profiles-cancel")]

    DEFAULT_CSS = """
    ProfilesDialog { align: center middle; }
    ProfilesDialog > #profiles-box { width: 76; max-width: 100%; height: auto; max-height: 100%;
                                     border: round $primary; background: $surface; padding: 0 1; }
    ProfilesDialog #profiles-list { height: auto; max-height: 8; }
    ProfilesDialog #profiles-values { height: auto; max-height: 10; color: $text-muted; }
    """

    def __init__(self, current: str | None, store: ProfileStore | None = None) -> None:
        super().__init__()
        self.current = current
        self._store = store

    @property
    def store(self) -> ProfileStore:
        """Where the profiles are (the configuration directory's, unless given)."""
        return self._store if self._store is not None else ProfileStore()

    def compose(self) -> ComposeResult:
        store = self.store
        names = store.names()
        with Vertical(id="profiles-box"):
            yield Static(Content.from_markup("[b]Connection profiles[/b]"), id="profiles-title")
            options = []
            for name in names:
                try:
                    production = store.get(name).production
                except ProfileError:
                    production = False
                label = Content.from_markup(
                    "$name$now$prod", name=name, now=" (current)" if name == self.current else "",
                    prod=" · PRODUCTION (opens read-only)" if production else "",
                )
                options.append(Option(label, id=name))
            yield OptionList(*options, id="profiles-list")
            yield Static(id="profiles-values")
            hint = (
                "Enter switches (the console opens again on it) · Esc keeps this one"
                if names else f"No profiles yet: write NAME.env files (KAFKA_*=… lines; "
                f"{PRODUCTION_VARIABLE}=true marks production) in {store.directory}"
            )
            yield Static(Content.from_markup("[$text-muted]$h[/]", h=hint), id="profiles-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionHighlighted)
    def _show_values(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        values = self.query_one("#profiles-values", Static)
        if name is None:
            return
        try:
            shown = masked(self.store.values(name))
        except ProfileError as exc:
            values.update(Content(str(exc)))
            return
        values.update(Content("\n".join(f"{k}={v}" for k, v in shown.items()) or "(sets nothing)"))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Keep the current profile."""
        self.dismiss(None)
