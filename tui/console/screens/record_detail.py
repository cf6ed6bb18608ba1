"""The detail of one record: headers, key, partition, offset, both timestamps, and the value.

The value is shown as pretty JSON with highlighting, or as text, or as a hex dump (``v`` cycles). Decoding and
formatting run in a worker, off the screen's event loop, and only the first ``SHOWN_CHARS`` characters are
drawn (``m`` shows more), so a 5 MB value opens at once. Everything from the record is shown literally:
:class:`~rich.text.Text` objects only, control characters as visible escapes. Secrets (the envelope's
``apikey``) are masked unless revealed (``r``); ``c`` copies the value as shown to the clipboard; ``n``/``p`` show
the next/previous record of the pane it was opened from (the pane's cursor follows). The hex view puts as many
bytes on a line as fit the width whole (16, 8 or 4), so its ASCII column never wraps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.console.screens.flow_actions import redrive_record
from tui.envelope import Decoded, decode
from tui.masking import redact, redact_bytes, redact_headers, redact_text
from tui.records import Record
from tui.summaries import one_line, visible

SHOWN_CHARS = 64 * 1024
"""Characters of the value drawn at first; ``m`` doubles it."""
HEX_BYTES = 16 * 1024
"""Bytes of a hex dump drawn at first; ``m`` doubles it."""
MODES = ("json", "text", "hex")

Neighbour = Callable[[Record, int], "Record | None"]
"""The record ``step`` rows away from a record in the pane the detail was opened from."""


def _time(millis: int | None) -> str:
    if millis is None:
        return "-"
    try:
        return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{millis} (out of range)"


def hex_line_bytes(width: int) -> int:
    """Bytes per hex dump line that fit ``width`` columns whole (16, 8 or 4): the ASCII column never wraps."""
    for count in (16, 8):
        if 8 + 2 + 3 * count - 1 + 2 + count + 2 <= width:
            return count
    return 4


def hex_dump(data: bytes, limit: int, per_line: int = 16) -> str:
    """``offset  hex bytes  |ascii|`` lines for the first ``limit`` bytes (non-printables as ``.``)."""
    lines: list[str] = []
    for start in range(0, min(len(data), limit), per_line):
        chunk = data[start : start + per_line]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start:08x}  {hexes:<{3 * per_line - 1}}  |{ascii_part}|")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes (m: show more)")
    return "\n".join(lines)


def safe_text(text: str) -> str:
    """Text with every control character but newlines shown as a visible escape."""
    return "\n".join(visible(line) for line in text.split("\n"))


def meta_text(record: Record, decoded: Decoded) -> Text:
    """Topic, partition, offset, both timestamps, key, headers and problems, as plain text pieces."""
    out = Text()

    def field(name: str, value: str, style: str = "") -> None:
        out.append(f"{name:>10} ", style="bold")
        out.append(value, style=style)
        out.append("\n")

    field("topic", one_line(record.topic, 300), "cyan")
    field("partition", str(record.partition))
    field("offset", str(record.offset))
    kind = "create" if record.timestamp_type == 0 else "log append"
    field("timestamp", f"{_time(record.timestamp)} ({kind} time, {record.timestamp})")
    body = decoded.body if isinstance(decoded.body, dict) else {}
    inner = body.get("timestamp")
    date_time = body.get("date_time")
    if inner is not None or date_time is not None:
        millis = inner if isinstance(inner, int) and not isinstance(inner, bool) else None
        # Evolution 2.3.6 writes date_time as the server's local time with a "Z": only timestamp is reliable.
        field("event time", f"{_time(millis)} (envelope timestamp; date_time {one_line(str(date_time), 40)})")
    field("key", one_line(decoded.key, 300) if decoded.key is not None else "(null)")
    field("size", f"{decoded.size:,} bytes")
    if decoded.headers:
        for index, (name, value) in enumerate(redact_headers(decoded.headers)):
            field("headers" if index == 0 else "", f"{one_line(name, 80)} = {one_line(value, 300)}")
    else:
        field("headers", "(none)")
    for problem in decoded.problems:
        field("problem", one_line(problem, 200), "bold red")
    return out


class RecordDetailScreen(ModalScreen[None]):
    """One record in full. ``escape`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="detail-close"),
        Binding("v", "cycle_mode", "JSON/text/hex", id="detail-mode"),
        Binding("m", "more", "Show more", id="detail-more"),
        Binding("r", "reveal", "Reveal secrets", id="detail-reveal"),
        Binding("c", "copy", "Copy value", id="detail-copy"),
        Binding("R", "resend", "Re-send", show=False, id="detail-resend"),
        Binding("n,right_square_bracket", "step(1)", "Next", key_display="n", id="detail-next"),
        Binding("p,left_square_bracket", "step(-1)", "Previous", key_display="p", id="detail-previous"),
    ]

    def __init__(self, record: Record, neighbour: Neighbour | None = None) -> None:
        """``neighbour(record, step)`` gives the record ``step`` rows away in the pane (None: no such row)."""
        super().__init__(classes="record-detail")
        self.record = record
        self._neighbour = neighbour
        self.decoded: Decoded | None = None
        self.mode = "json"
        self.limit = SHOWN_CHARS
        self.reveal = False
        self.rendered = ""
        """The value text as drawn (what ``c`` copies), for tests too."""
        self.ready = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="record-detail-scroll"):
            yield Static(Text("decoding…"), id="record-meta", markup=False)
            yield Static(Text(""), id="record-value", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="record-detail", exit_on_error=False)
    def _load(self) -> None:
        # A full decode of a large value is CPU work: done off the event loop, then handed back.
        decoded = decode(self.record.value, self.record.headers, self.record.key)
        if not decoded.is_json:
            self.mode = "text" if decoded.text is not None else "hex"
        meta = meta_text(self.record, decoded)
        self.app.call_from_thread(self._loaded, decoded, meta)

    def _loaded(self, decoded: Decoded, meta: Text) -> None:
        self.decoded = decoded
        self.query_one("#record-meta", Static).update(meta)
        self._draw()

    def value_text(self) -> Text:
        """The value in the current mode, cut to the current limit."""
        decoded = self.decoded
        if decoded is None:
            return Text("decoding…")
        if decoded.is_null:
            self.rendered = ""
            return Text("(null value)", style="dim")
        if self.mode == "json" and decoded.is_json:
            pretty = orjson.dumps(redact(decoded.body, self.reveal), option=orjson.OPT_INDENT_2).decode()
            # orjson escapes control characters in strings; visible() guards the rest anyway.
            shown = safe_text(pretty[: self.limit])
            self.rendered = pretty
            text = Text(shown)
            JSONHighlighter().highlight(text)
            if len(pretty) > self.limit:
                text.append(f"\n… {len(pretty) - self.limit:,} more characters (m: show more)", style="bold")
            return text
        if self.mode == "hex" or decoded.text is None:
            raw = redact_bytes(self.record.value or b"", self.reveal)
            # The value's width less its padding and the scroll bar: a line that fits is never wrapped.
            width = self.query_one("#record-value", Static).size.width or self.size.width - 4
            dump = hex_dump(raw, max(self.limit // 4, HEX_BYTES), hex_line_bytes(width - 2))
            self.rendered = dump
            return Text(dump, no_wrap=True, overflow="ellipsis")
        text_value = redact_text(decoded.text, self.reveal)
        if decoded.is_json and not self.reveal:
            text_value = orjson.dumps(redact(decoded.body, False)).decode()
        self.rendered = text_value
        out = Text(safe_text(text_value[: self.limit]))
        if len(text_value) > self.limit:
            out.append(f"\n… {len(text_value) - self.limit:,} more characters (m: show more)", style="bold")
        return out

    def _draw(self) -> None:
        self.query_one("#record-value", Static).update(self.value_text())
        self.ready = True

    def action_cycle_mode(self) -> None:
        """JSON → text → hex."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        if self.mode == "json" and self.decoded is not None and not self.decoded.is_json:
            self.mode = "text"
        self._draw()

    def action_more(self) -> None:
        """Draw twice as much of the value."""
        self.limit *= 2
        self._draw()

    def action_reveal(self) -> None:
        """Show or mask the secrets."""
        self.reveal = not self.reveal
        self._draw()
        self.notify("secrets shown" if self.reveal else "secrets masked", timeout=2)

    def action_step(self, step: int) -> None:
        """Show the next (``n``) or previous (``p``) record of the pane, with the same view mode."""
        found = self._neighbour(self.record, step) if self._neighbour is not None else None
        if found is None:
            self.notify("no next record" if step > 0 else "no previous record", timeout=2)
            return
        self.record = found
        self.decoded = None
        self.ready = False
        self.limit = SHOWN_CHARS
        self.mode = "json"
        self.query_one("#record-meta", Static).update(Text("decoding…"))
        self.query_one("#record-detail-scroll", VerticalScroll).scroll_home(animate=False)
        self._load()

    def action_copy(self) -> None:
        """Copy the value (as shown: secrets masked unless revealed) to the clipboard."""
        self.app.copy_to_clipboard(self.rendered)
        self.notify(f"copied {len(self.rendered):,} characters", timeout=2)

    def action_resend(self) -> None:
        """Send this record again through the publisher, marked re-sent (refused when read-only)."""
        redrive_record(self, self.record)
