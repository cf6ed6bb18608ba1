"""The instances table: from the registry and discovered in topics, with their source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from textual.message import Message
from textual.widgets import DataTable

from tui import events as catalog
from tui.instances import InstanceSettings
from tui.kafka.discovery import DiscoveredInstance


class Source(StrEnum):
    """Where an instance is known from."""

    REGISTRY = "registry"
    DISCOVERED = "discovered"
    BOTH = "registry+topics"


@dataclass(frozen=True)
class InstanceRow:
    """One instance as the table shows it."""

    name: str
    source: Source
    settings: InstanceSettings | None
    layouts: tuple[str, ...] = ()
    """Layouts it was seen in (``instance``, ``global``)."""

    @property
    def kafka(self) -> str:
        """``enabled``, ``disabled`` or ``—`` (no settings)."""
        if self.settings is None:
            return "—"
        return "enabled" if self.settings.enabled else "disabled"

    @property
    def events(self) -> str:
        """``all``, ``n/31`` or ``—``."""
        if self.settings is None or not self.settings.enabled:
            return "—"
        if self.settings.all_events:
            return "all"
        return f"{len(self.settings.events)}/{len(catalog.EVENTS)}"


def merge(
    registry: Mapping[str, InstanceSettings], discovered: Mapping[str, DiscoveredInstance]
) -> list[InstanceRow]:
    """Registry entries and discovered instances as rows, sorted by name."""
    rows: list[InstanceRow] = []
    for name in sorted(set(registry) | set(discovered)):
        found = discovered.get(name)
        layouts = tuple(sorted(str(layout) for layout in found.layouts)) if found else ()
        if name in registry:
            source = Source.BOTH if found else Source.REGISTRY
            rows.append(InstanceRow(name, source, registry[name], layouts))
        else:
            rows.append(InstanceRow(name, Source.DISCOVERED, None, layouts))
    return rows


def matches(row: InstanceRow, text: str) -> bool:
    """Whether ``row``'s name contains ``text`` (any case); empty text matches every row."""
    return text.strip().lower() in row.name.lower()


class InstanceList(DataTable[str]):
    """A table of instances; Enter (or a click) chooses one."""

    @dataclass
    class Chosen(Message):
        """An instance was chosen (Enter or click)."""

        name: str

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("instance", key="name")
        self.add_column("source", key="source")
        self.add_column("kafka", key="kafka")
        self.add_column("events", key="events")
        self.add_column("seen in", key="layouts")

    def show(self, rows: Iterable[InstanceRow]) -> None:
        """Replace the rows, keeping the cursor on the same instance when it is still listed."""
        current = self.current
        self.clear()
        for row in rows:
            self.add_row(row.name, str(row.source), row.kafka, row.events, ",".join(row.layouts) or "—", key=row.name)
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
