"""The body editor: a TextArea with JSON highlighting that says where the JSON is wrong."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from textual.message import Message
from textual.widgets import TextArea


@dataclass(frozen=True)
class JsonProblem:
    """Where the text stops being JSON: 1-based line and column, and why."""

    line: int
    column: int
    reason: str
    excerpt: str
    """The offending line, for showing with a caret under the column."""

    def describe(self) -> str:
        """``line 3, column 5: Expecting ',' delimiter``."""
        return f"line {self.line}, column {self.column}: {self.reason}"


def check_json(text: str) -> tuple[Any, JsonProblem | None]:
    """Parse ``text``; the value, or None and where it went wrong."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        lines = text.splitlines() or [""]
        excerpt = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        return None, JsonProblem(exc.lineno, exc.colno, exc.msg, excerpt)


TREE_SITTER_TESTED = ((0, 25), (0, 26))
"""tree-sitter versions the highlighting runs with: Textual 8.2 segfaults with tree-sitter 0.26."""


def _json_language_available() -> bool:
    try:
        version = tuple(int(part) for part in metadata.version("tree-sitter").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    low, high = TREE_SITTER_TESTED
    if not low <= version < high:
        return False  # an untested binding can crash the process; plain text is the safe side
    try:
        from textual._tree_sitter import get_language
    except ImportError:
        return False
    return get_language("json") is not None


class JsonEditor(TextArea):
    """Edits JSON; after every change posts :class:`Checked` with the value or the problem."""

    @dataclass
    class Checked(Message):
        """The text was parsed: ``problem`` is None when it is valid JSON."""

        editor: JsonEditor
        value: Any
        problem: JsonProblem | None

        @property
        def control(self) -> JsonEditor:
            return self.editor

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        # Highlighting needs the tree-sitter JSON grammar; without it the editor still works, uncoloured.
        language = "json" if _json_language_available() else None
        super().__init__(text, language=language, id=id, show_line_numbers=True, tab_behavior="indent")
        self.problem: JsonProblem | None = None
        self.value: Any = None

    def on_mount(self) -> None:
        self._check()

    def on_text_area_changed(self, message: TextArea.Changed) -> None:
        message.stop()
        self._check()

    def _check(self) -> None:
        self.value, self.problem = check_json(self.text)
        self.set_class(self.problem is not None, "-invalid")
        self.post_message(self.Checked(self, self.value, self.problem))

    def jump_to_problem(self) -> None:
        """Move the cursor to where the JSON is wrong."""
        if self.problem is not None:
            self.cursor_location = (self.problem.line - 1, max(self.problem.column - 1, 0))
            self.focus()
