"""The keys of the screen underneath and the global ones (``?`` / F1), with what each does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

KEY_WIDTH = 12
"""Columns given to the key names."""


SCREEN, EVERYWHERE, FOCUSED = 0, 1, 2
"""Where a key is bound: the screen itself, the app (every screen), the focused widget (moving around)."""
HEADINGS = {SCREEN: "This screen", EVERYWHERE: "Everywhere", FOCUSED: "In the focused list or field"}


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One key as the help lists it."""

    key: str
    description: str
    scope: int
    """:data:`SCREEN`, :data:`EVERYWHERE` or :data:`FOCUSED`."""


def key_rows(app: App[Any], screen: Screen[Any]) -> list[KeyRow]:
    """The keys active on ``screen``: its own first, then the app's, then the focused widget's; one row per
    action, with a description."""
    rows: list[KeyRow] = []
    seen: dict[tuple[str, int], int] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.system or binding.key.startswith("super+"):
            continue
        scope = EVERYWHERE if active.node is app else SCREEN if active.node is screen else FOCUSED
        if "focus_next" in binding.action or "focus_previous" in binding.action:
            scope = FOCUSED  # moving between fields: with the focused widget's keys, last
        display = app.get_key_display(binding)
        slot = (binding.description, scope)
        if slot in seen:  # several keys doing one thing (``?`` and F1, q and Ctrl-C): one row
            index = seen[slot]
            row = rows[index]
            rows[index] = KeyRow(f"{row.key} {display}", row.description, scope)
            continue
        seen[slot] = len(rows)
        rows.append(KeyRow(display, binding.description, scope))
    return sorted(rows, key=lambda r: r.scope)


class KeysHelpScreen(ModalScreen[None]):
    """Every key that works here, the screen's own and the global ones; any of Esc, ``?``, F1, ``q`` closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close", id="keys-close"),
    ]

    DEFAULT_CSS = """
    KeysHelpScreen { align: center middle; }
    KeysHelpScreen > #keys-box { width: 76; max-width: 100%; height: auto; max-height: 100%;
                                 border: round $primary; background: $surface; padding: 0 1; }
    KeysHelpScreen #keys-list { height: auto; max-height: 1fr; }
    """

    def __init__(self, title: str, rows: list[KeyRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-box"):
            yield Static(Content.from_markup("[b]Keys · $t[/b]  [$text-muted](Esc closes)[/]", t=self.title_text),
                         id="keys-title")
            with VerticalScroll(id="keys-list"):
                yield Static(self._text(), id="keys-text")

    def on_mount(self) -> None:
        # Focused, the list scrolls with the arrows and page keys when it is longer than the screen.
        self.query_one("#keys-list", VerticalScroll).focus()

    def _text(self) -> Content:
        lines: list[Content] = []
        for scope, heading in HEADINGS.items():
            rows = [r for r in self.rows if r.scope == scope]
            if not rows:
                continue
            lines.append(Content.from_markup("[b $accent]$h[/]", h=heading))
            for row in rows:
                lines.append(
                    Content.from_markup("[b]$k[/b]", k=row.key.ljust(KEY_WIDTH)) + Content(row.description)
                )
        return Content("\n").join(lines)
