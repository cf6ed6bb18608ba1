"""How ``evokafka instances`` shows instances: :class:`InstanceView` (the source's view of one instance and what
the topics show), as a table, in detail, or as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from tui import catalog
from tui.instance_settings import InstanceSettings
from tui.instance_source import DiscoveredInstance, InstanceSource, Origin, SourceInstance
from tui.summaries import visible
from tui.topology import Layout


@dataclass(frozen=True)
class InstanceView:
    """One instance as the command shows it: the source's view of it and what the topics show."""

    item: SourceInstance
    seen: DiscoveredInstance | None = None

    @property
    def name(self) -> str:
        """The instance name."""
        return self.item.name

    @property
    def settings(self) -> InstanceSettings | None:
        """What goes to its per-instance topics (None: the source holds no Kafka settings for it)."""
        return self.item.settings

    @property
    def source(self) -> str:
        """``evolution`` / ``registry`` when the source knows it, else ``discovered``."""
        return self.item.origin.value

    def to_json(self, source_label: str) -> dict[str, Any]:
        """The JSON form: settings (null when none), the WhatsApp side (Evolution), what the topics show."""
        cfg = self.settings
        item = self.item
        record = item.record
        return {
            "name": self.name,
            "source": self.source,
            "origin": item.origin.value,
            "instance_source": source_label,
            "enabled": cfg.enabled if cfg else None,
            "all_events": cfg.all_events if cfg else None,
            "events": list(cfg.events) if cfg else None,
            "updated_at": (cfg.updated_at or None) if cfg else None,
            "token": ("********" if cfg.token else None) if cfg else None,
            "whatsapp": item.connection_status.value if item.connection_status else None,
            "number": item.number,
            "profile_name": item.profile_name,
            "stored_events": list(record.events) if record is not None else None,
            "missed": [e.wire for e in item.missed],
            "warning": item.warning,
            "seen": seen_json(self.seen),
        }

    def enabled_cell(self) -> str:
        """``yes`` / ``no``, ``-`` when the source has no Kafka settings for it."""
        if self.settings is None:
            return "-"
        return "yes" if self.settings.enabled else "no"

    def events_cell(self) -> str:
        """``all``, the number of events, or for an instance without settings the number seen."""
        cfg = self.settings
        if cfg is None:
            return f"{len(self.seen.events)} seen" if self.seen else "-"
        if self.item.covers_every_event:
            return "all"
        return str(len(cfg.events))

    def updated_cell(self) -> str:
        """The settings' ``updated_at``; without settings, the newest record seen in the topics."""
        if self.settings is not None:
            return self.settings.updated_at or "-"
        if self.seen is not None and self.seen.last_seen_ms is not None:
            return iso(self.seen.last_seen_ms)
        return "-"

    def whatsapp_cells(self) -> list[str]:
        """WHATSAPP, NUMBER, PROFILE (Evolution's columns), ``-`` where unknown."""
        item = self.item
        status = item.connection_status.value if item.connection_status else "-"
        return [status, item.number or "-", item.profile_name or "-"]


def print_table(views: list[InstanceView], source: InstanceSource) -> None:
    """The list as a table under a line naming the source; each warning right under its row."""
    click.echo(f"# source: {source.label}")
    if not views:
        click.echo(f"no instances: none {where(source)}, none seen in topics")
        return
    whatsapp = source.origin is Origin.EVOLUTION
    header = ["NAME", "ENABLED", "EVENTS", *(["WHATSAPP", "NUMBER", "PROFILE"] if whatsapp else []), "SOURCE", "UPDATED"]
    rows = [header]
    for v in views:
        extra = v.whatsapp_cells() if whatsapp else []
        # Cells from a remote server (names, WhatsApp profile names) may hold escapes or bidi controls: shown escaped.
        rows.append([visible(c) for c in (v.name, v.enabled_cell(), v.events_cell(), *extra, v.source, v.updated_cell())])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row, view in zip(rows, [None, *views], strict=True):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        # The warning goes right under the row it concerns, where an operator reading the table will see it.
        if view is not None and view.item.warning:
            click.echo(f"  ! {visible(view.item.warning)}")


def print_detail(view: InstanceView, source: InstanceSource) -> None:
    """One instance, a field a line: the source's side, its WhatsApp side (Evolution), what the topics show."""
    item = view.item
    click.echo(f"# source: {source.label}")
    click.echo(f"name:     {visible(view.name)}")
    click.echo(f"source:   {view.source}")
    if item.origin is Origin.EVOLUTION:
        click.echo(f"whatsapp: {item.connection_status.value if item.connection_status else '-'}")
        click.echo(f"number:   {visible(item.number or '-')}")
        click.echo(f"owner:    {visible(item.owner_jid or '-')}")
        click.echo(f"profile:  {visible(item.profile_name or '-')}")
        if item.integration:
            click.echo(f"integration: {visible(item.integration)}")
    cfg = view.settings
    if cfg is not None:
        click.echo(f"enabled:  {view.enabled_cell()}")
        click.echo(f"events:   {events_text(item)}")
        click.echo(f"updated:  {cfg.updated_at or '-'}")
    else:
        click.echo(f"settings: none {where(source)} (nothing goes to its per-instance topics)")
    if item.record is not None and item.record.enabled:
        click.echo(f"stored:   {', '.join(item.record.events) or '(none)'}")
    if item.warning:
        click.echo(f"warning:  {visible(item.warning)}")
    if view.seen is not None:
        layouts = ", ".join(sorted(str(layout) for layout in view.seen.layouts))
        click.echo(f"seen in:  {layouts} topics")
        click.echo(f"seen:     {', '.join(sorted(view.seen.events))}")
        if view.seen.last_seen_ms is not None:
            click.echo(f"last seen: {iso(view.seen.last_seen_ms)}")


def print_item(item: SourceInstance, source: InstanceSource, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(InstanceView(item).to_json(source.label), indent=2))
        return
    cfg = item.settings
    if cfg is None:
        click.echo(f"{item.name}: no Kafka settings {where(source)}")
    else:
        state = "enabled" if cfg.enabled else "disabled"
        click.echo(f"{item.name}: {state}, events: {events_text(item)} (updated {cfg.updated_at or '-'})")
    if item.warning:
        click.echo(f"  ! {visible(item.warning)}")


def events_text(item: SourceInstance) -> str:
    cfg = item.settings
    if cfg is None or not cfg.enabled:
        return "none"
    if item.covers_every_event:
        return f"all ({len(catalog.EVENTS)})"
    return f"{len(cfg.events)}: {', '.join(cfg.events)}"


def seen_json(seen: DiscoveredInstance | None) -> dict[str, Any] | None:
    if seen is None:
        return None
    return {
        "layouts": sorted(str(layout) for layout in seen.layouts if isinstance(layout, Layout)),
        "events": sorted(seen.events),
        "last_seen": iso(seen.last_seen_ms) if seen.last_seen_ms is not None else None,
    }


def iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def where(source: InstanceSource) -> str:
    return "in the registry" if source.origin is Origin.REGISTRY else f"on {source.label}"
