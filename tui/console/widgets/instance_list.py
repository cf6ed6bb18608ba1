"""The instances table: from the instance source (Evolution API or the registry) and discovered in topics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import DataTable

from tui import catalog
from tui.instance_settings import InstanceSettings
from tui.instance_source import DiscoveredInstance, Origin, SourceInstance

WARNING_MARK = " ⚠"
"""Appended to the events column when the source silently misses events for the instance."""


@dataclass(frozen=True)
class InstanceRow:
    """One instance as the table shows it."""

    item: SourceInstance
    layouts: tuple[str, ...] = ()
    """Layouts it was seen in (``instance``, ``global``)."""

    @property
    def name(self) -> str:
        """The instance name."""
        return self.item.name

    @property
    def settings(self) -> InstanceSettings | None:
        """What goes to its per-instance topics (None: the source has no Kafka settings for it)."""
        return self.item.settings

    @property
    def source(self) -> str:
        """``evolution`` / ``registry`` (``+topics`` when also seen in topics), or ``discovered``."""
        origin = self.item.origin
        if origin is Origin.DISCOVERED:
            return origin.value
        return f"{origin.value}+topics" if self.item.in_topics else origin.value

    @property
    def kafka(self) -> str:
        """``enabled``, ``disabled`` or ``—`` (no settings)."""
        if self.settings is None:
            return "—"
        return "enabled" if self.settings.enabled else "disabled"

    @property
    def events(self) -> str:
        """``all``, ``n/31`` or ``—``; marked when the source silently misses some."""
        mark = WARNING_MARK if self.item.warning else ""
        if self.settings is None or not self.settings.enabled:
            return "—" + mark
        if self.item.covers_every_event:
            return "all" + mark
        return f"{len(self.settings.events)}/{len(catalog.EVENTS)}{mark}"

    @property
    def whatsapp(self) -> str:
        """WhatsApp connection status (Evolution only), else ``—``."""
        status = self.item.connection_status
        return status.value if status is not None else "—"

    @property
    def number(self) -> str:
        """The number (or owner) and profile name (Evolution only), else ``—``."""
        parts = [p for p in (self.item.number, self.item.profile_name) if p]
        return " ".join(parts) or "—"


def rows_of(
    items: Iterable[SourceInstance], discovered: Mapping[str, DiscoveredInstance] | None = None
) -> list[InstanceRow]:
    """The source's instances as rows, with the layouts each was seen in, sorted by name."""
    seen = discovered or {}
    rows: list[InstanceRow] = []
    for item in sorted(items, key=lambda i: i.name):
        found = seen.get(item.name)
        layouts = tuple(sorted(str(layout) for layout in found.layouts)) if found else ()
        rows.append(InstanceRow(item, layouts))
    return rows


def matches(row: InstanceRow, text: str) -> bool:
    """Whether any column of ``row`` (name, source, Kafka state, events, WhatsApp status, number, layouts)
    contains ``text`` (any case); empty text matches every row."""
    needle = text.strip().casefold()
    if not needle:
        return True
    columns = (row.name, row.source, row.kafka, row.events, row.whatsapp, row.number, ",".join(row.layouts))
    return any(needle in column.casefold() for column in columns)


class InstanceList(DataTable[str]):
    """A table of instances; Enter (or a click) chooses one. With ``whatsapp=True`` (Evolution API source)
    it also shows the WhatsApp connection status, number and profile name."""

    @dataclass
    class Chosen(Message):
        """An instance was chosen (Enter or click)."""

        name: str

    def __init__(self, *, whatsapp: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._whatsapp = whatsapp

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("instance", key="name")
        self.add_column("source", key="source")
        if self._whatsapp:
            self.add_column("whatsapp", key="whatsapp")
            self.add_column("number / profile", key="number")
        self.add_column("kafka", key="kafka")
        self.add_column("events", key="events")
        self.add_column("seen in", key="layouts")

    def show(self, rows: Iterable[InstanceRow]) -> None:
        """Replace the rows, keeping the cursor on the same instance when it is still listed."""
        current = self.current
        self.clear()
        for row in rows:
            cells = [row.name, row.source]
            if self._whatsapp:
                cells += [row.whatsapp, row.number]
            cells += [row.kafka, row.events, ",".join(row.layouts) or "—"]
            self.add_row(*cells, key=row.name)
        if current is not None and current in self.rows:
            self.move_cursor(row=self.get_row_index(current))

    @property
    def current(self) -> str | None:
        """The instance under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor sits outside a table that just shrank
            return None
        return key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))
