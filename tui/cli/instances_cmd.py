"""``evokafka instances``: instances and their Kafka settings, from the chosen instance source.

The source is Evolution API (``EVOLUTION_API_URL``, ``EVOLUTION_API_KEY``) or the cluster registry
(``EVOKAFKA_REGISTRY_TOPIC``): ``--source auto|evolution|registry`` [``EVOKAFKA_INSTANCE_SOURCE``], where ``auto``
takes Evolution API when ``EVOLUTION_API_URL`` is set. Instances seen in the cluster's topics but unknown to the
source are listed too, marked ``discovered``.

The write commands follow the reference's ``POST /kafka/set/<instance>``: disabled is stored with no events,
enabled with no event list means every event; on Evolution they are that call, followed by a re-read. Bad input
and events the source refuses exit 2 with one line before anything is sent; an unreachable cluster or server, or
a refused API key, exits 1 with one line.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from tui import catalog
from tui.cli.common import Context, fail, parse_event_names, pass_context, run
from tui.config import AppSettings, KafkaSettings
from tui.evolution.client import EvolutionConfigError
from tui.evolution.models import EVOLUTION_ALL_EVENTS, evolution_rejects
from tui.evolution.source import (
    SOURCE_CHOICES,
    SOURCE_ERRORS,
    EventRefusedError,
    EvolutionSource,
    RegistrySource,
    SourceConfigError,
    choose_source,
)
from tui.instance_settings import InstanceSettings
from tui.instance_source import DiscoveredInstance, InstanceSource, Origin, SourceInstance
from tui.kafka.admin import Admin, ReadOnlyError
from tui.kafka.discovery import discover
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError
from tui.kafka.registry import InstanceRegistry
from tui.topology import InstanceNameError, Layout, validate_instance

T = TypeVar("T")

SOURCE_REGISTRY = Origin.REGISTRY.value
SOURCE_EVOLUTION = Origin.EVOLUTION.value
SOURCE_DISCOVERED = Origin.DISCOVERED.value

_SOURCE_META = "evokafka.instances.source"
"""Where the group's ``--source`` is kept for its subcommands (click's per-invocation ``meta``)."""

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


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
            "whatsapp": item.connection_status.value if item.connection_status else None,
            "number": item.number,
            "profile_name": item.profile_name,
            "stored_events": list(record.events) if record is not None else None,
            "missed": [e.wire for e in item.missed],
            "warning": item.warning,
            "seen": _seen_json(self.seen),
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
        if _covers_catalog(cfg):
            return "all"
        return str(len(cfg.events))

    def updated_cell(self) -> str:
        """The settings' ``updated_at``; without settings, the newest record seen in the topics."""
        if self.settings is not None:
            return self.settings.updated_at or "-"
        if self.seen is not None and self.seen.last_seen_ms is not None:
            return _iso(self.seen.last_seen_ms)
        return "-"

    def whatsapp_cells(self) -> list[str]:
        """WHATSAPP, NUMBER, PROFILE (Evolution's columns), ``-`` where unknown."""
        item = self.item
        status = item.connection_status.value if item.connection_status else "-"
        return [status, item.number or "-", item.profile_name or "-"]


@click.group()
@click.option(
    "--source",
    "source_choice",
    type=click.Choice(SOURCE_CHOICES, case_sensitive=False),
    default=None,
    help="Where instances come from [EVOKAFKA_INSTANCE_SOURCE; auto: Evolution API when EVOLUTION_API_URL "
    "is set, else the cluster registry].",
)
@click.pass_context
def command(click_ctx: click.Context, source_choice: str | None) -> None:
    """Instances and their Kafka event toggles, from Evolution API (EVOLUTION_API_URL) or the registry in the
    cluster (EVOKAFKA_REGISTRY_TOPIC), plus instances seen in topics but unknown to the source."""
    click_ctx.meta[_SOURCE_META] = source_choice


@command.command("list")
@json_option
@pass_context
def list_command(ctx: Context, as_json: bool) -> None:
    """List every instance: NAME, ENABLED, EVENTS (count or "all"), with Evolution API also WHATSAPP, NUMBER and
    PROFILE, then SOURCE (evolution/registry/discovered) and UPDATED. The first line names the source."""
    env = _Env.load(ctx)
    source = env.source(writable=False)
    views = env.views(source)
    if as_json:
        click.echo(json.dumps([v.to_json(source.label) for v in views], indent=2))
        return
    click.echo(f"# source: {source.label}")
    if not views:
        click.echo(f"no instances: none {_where(source)}, none seen in topics")
        return
    whatsapp = isinstance(source, EvolutionSource)
    header = ["NAME", "ENABLED", "EVENTS", *(["WHATSAPP", "NUMBER", "PROFILE"] if whatsapp else []), "SOURCE", "UPDATED"]
    rows = [header]
    for v in views:
        extra = v.whatsapp_cells() if whatsapp else []
        rows.append([v.name, v.enabled_cell(), v.events_cell(), *extra, v.source, v.updated_cell()])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row, view in zip(rows, [None, *views], strict=True):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        # The warning goes right under the row it concerns, where an operator reading the table will see it.
        if view is not None and view.item.warning:
            click.echo(f"  ! {view.item.warning}")


@command.command("show")
@click.argument("name")
@json_option
@pass_context
def show_command(ctx: Context, name: str, as_json: bool) -> None:
    """Show NAME's settings, its WhatsApp side (Evolution API) and the events seen for it in the topics (exit 1
    when unknown)."""
    env = _Env.load(ctx)
    env.check_name(name)
    source = env.source(writable=False)
    view = next((v for v in env.views(source) if v.name == name), None)
    if view is None:
        fail(f"no instance {name!r}: not {_where(source)} and not seen in any topic", code=1)
    if as_json:
        click.echo(json.dumps(view.to_json(source.label), indent=2))
        return
    item = view.item
    click.echo(f"# source: {source.label}")
    click.echo(f"name:     {view.name}")
    click.echo(f"source:   {view.source}")
    if item.origin is Origin.EVOLUTION:
        click.echo(f"whatsapp: {item.connection_status.value if item.connection_status else '-'}")
        click.echo(f"number:   {item.number or '-'}")
        click.echo(f"owner:    {item.owner_jid or '-'}")
        click.echo(f"profile:  {item.profile_name or '-'}")
        if item.integration:
            click.echo(f"integration: {item.integration}")
    cfg = view.settings
    if cfg is not None:
        click.echo(f"enabled:  {view.enabled_cell()}")
        click.echo(f"events:   {_events_text(cfg)}")
        click.echo(f"updated:  {cfg.updated_at or '-'}")
    else:
        click.echo(f"settings: none {_where(source)} (nothing goes to its per-instance topics)")
    if item.record is not None and item.record.enabled:
        click.echo(f"stored:   {', '.join(item.record.events) or '(none)'}")
    if item.warning:
        click.echo(f"warning:  {item.warning}")
    if view.seen is not None:
        layouts = ", ".join(sorted(str(layout) for layout in view.seen.layouts))
        click.echo(f"seen in:  {layouts} topics")
        click.echo(f"seen:     {', '.join(sorted(view.seen.events))}")
        if view.seen.last_seen_ms is not None:
            click.echo(f"last seen: {_iso(view.seen.last_seen_ms)}")


@command.command("set")
@click.argument("name")
@click.option("--enabled/--disabled", "enabled", default=None, help="Turn the instance's Kafka on or off.")
@click.option("--events", "events", metavar="A,B,…", help="The events to publish (either name form).")
@click.option("--all-events", is_flag=True, help="Publish every event (an empty list, as the reference).")
@json_option
@pass_context
def set_command(
    ctx: Context, name: str, enabled: bool | None, events: str | None, all_events: bool, as_json: bool
) -> None:
    """Set NAME as POST /kafka/set does: --disabled stores no events; --enabled with --all-events (or no
    list) publishes every event, with --events only those."""
    env = _Env.load(ctx)
    env.check_name(name)
    if enabled is None:
        fail("give --enabled or --disabled")
    if events is not None and all_events:
        fail("give --events or --all-events, not both")
    if not enabled and (events is not None or all_events):
        fail("--disabled stores no events; drop --events/--all-events")
    names = parse_event_names(events) if events is not None else []
    if events is not None and not names:
        fail("--events is empty; use --all-events for every event")
    for event in names:
        if event not in EVOLUTION_ALL_EVENTS:
            catalog.lookup(event)  # unknown names exit 2 with the nearest ones, before anything is sent
    source = env.source(writable=True)
    env.check_writable(name, source)

    async def change(src: InstanceSource) -> SourceInstance:
        if isinstance(src, EvolutionSource) and src.client.server_is_evokafka is None and _any_rejected(names):
            # Whether Evolution refuses these depends on the server (``evokafka serve`` takes every event):
            # one read tells which server it is, and that the instance exists.
            await src.get(name)
        return await src.set(name, enabled, names)

    _print_item(env.apply(source, change), source, as_json)


@command.command("enable")
@click.argument("name")
@json_option
@pass_context
def enable_command(ctx: Context, name: str, as_json: bool) -> None:
    """Enable NAME, keeping its event list (an instance without one gets every event)."""
    env = _Env.load(ctx)
    env.check_name(name)
    source = env.source(writable=True)
    env.check_writable(name, source)
    _print_item(env.apply(source, lambda src: src.enable(name)), source, as_json)


@command.command("disable")
@click.argument("name")
@json_option
@pass_context
def disable_command(ctx: Context, name: str, as_json: bool) -> None:
    """Disable NAME (stored with no events)."""
    env = _Env.load(ctx)
    env.check_name(name)
    source = env.source(writable=True)
    env.check_writable(name, source)
    _print_item(env.apply(source, lambda src: src.disable(name)), source, as_json)


@command.command("toggle")
@click.argument("name")
@click.argument("event")
@json_option
@pass_context
def toggle_command(ctx: Context, name: str, event: str, as_json: bool) -> None:
    """Switch one EVENT of NAME on or off (either name form, e.g. MESSAGES_UPSERT or messages.upsert)."""
    env = _Env.load(ctx)
    env.check_name(name)
    resolved = catalog.lookup(event)
    source = env.source(writable=True)
    env.check_writable(name, source)
    _print_item(env.apply(source, lambda src: src.toggle(name, resolved)), source, as_json)


@command.command("delete")
@click.argument("name")
@json_option
@pass_context
def delete_command(ctx: Context, name: str, as_json: bool) -> None:
    """Delete NAME's registry entry (exit 1 when it has none; not available on the Evolution API source)."""
    env = _Env.load(ctx)
    env.check_name(name)
    source = env.source(writable=True)
    if not isinstance(source, RegistrySource):
        fail(
            f"delete is not available on the {source.label} source (it has no call for it); "
            f"use 'disable {name}', or --source registry"
        )
    env.check_writable(name, source)
    registry = source.registry

    async def remove(_: InstanceSource) -> bool:
        if registry.get(name) is None:
            return False
        await registry.delete(name)
        return True

    if not env.apply(source, remove):
        fail(f"no registry entry for instance {name!r}", code=1)
    if as_json:
        click.echo(json.dumps({"name": name, "deleted": True}))
    else:
        click.echo(f"{name}: deleted")


@dataclass(frozen=True)
class _Env:
    """The effective settings of one command run."""

    settings: KafkaSettings
    app: AppSettings
    options: ConnectionOptions
    choice: str

    @classmethod
    def load(cls, ctx: Context) -> _Env:
        settings = ctx.settings()
        app = ctx.app_settings()
        try:
            options = ConnectionOptions.from_settings(settings)
        except ConnectionSetupError as exc:
            fail(str(exc))
        given = click.get_current_context().meta.get(_SOURCE_META)
        return cls(settings, app, options, (given or app.instance_source).lower())

    def check_name(self, name: str) -> None:
        validate_instance(name, self.settings.topic_prefix)  # InstanceNameError: exit 2, one line

    def check_writable(self, name: str, source: InstanceSource) -> None:
        if self.app.read_only:
            fail(str(ReadOnlyError(f"change instance {name!r} ({source.label})")))

    def source(self, *, writable: bool) -> InstanceSource:
        """The chosen source, not started yet; a choice that cannot work exits 2 with one line."""
        # Reading never creates the registry topic: a cluster without one simply has no entries.
        registry = InstanceRegistry(
            self.settings,
            topic=self.app.registry_topic,
            options=self.options,
            read_only=self.app.read_only or not writable,
        )
        try:
            return choose_source(self.app, registry, self.choice, timeout=self.app.evolution_api_timeout)
        except (SourceConfigError, EvolutionConfigError) as exc:
            fail(str(exc))

    def views(self, source: InstanceSource) -> list[InstanceView]:
        """The source's instances and the discovered ones, by name."""

        async def read(src: InstanceSource) -> list[InstanceView]:
            seen, trouble = await self._discover(required=isinstance(src, RegistrySource))
            items = await src.instances(seen)
            if trouble:
                # Said only once the source answered: a failing source is the one line that matters then.
                click.echo(f"evokafka: warning: topics not scanned for instances: {trouble}", err=True)
            return [InstanceView(item, seen.get(item.name)) for item in items]

        return self.apply(source, read)

    async def _discover(self, *, required: bool) -> tuple[dict[str, DiscoveredInstance], str | None]:
        """Instances seen in topics, and why none could be looked for; with a source outside the cluster, an
        unreachable cluster is only a warning (``required``: exit 1)."""
        admin = Admin(self.options)
        try:
            await admin.start()
            try:
                return await discover(admin, self.options, self.settings.topic_prefix), None
            finally:
                await admin.close()
        except ClusterUnreachableError as exc:
            if required:
                fail(str(exc), code=1)
            return {}, str(exc)

    def apply(self, source: InstanceSource, work: Callable[[InstanceSource], Awaitable[T]]) -> T:
        """Start ``source``, run ``work`` on it, stop it; every source error is one line (exit 2: the input's
        fault — a refused event, a bad name, read-only; exit 1: the server's or the cluster's)."""

        async def main() -> T:
            try:
                await _open(source)
                try:
                    return await work(source)
                finally:
                    await _close(source)
            except (EventRefusedError, EvolutionConfigError, ReadOnlyError) as exc:
                fail(str(exc))
            except (catalog.UnknownEventError, InstanceNameError) as exc:
                fail(str(exc))
            except SOURCE_ERRORS as exc:
                fail(str(exc), code=1)

        return run(main)


async def _open(source: InstanceSource) -> None:
    if isinstance(source, RegistrySource):
        await source.registry.start()  # the registry's lifecycle is this command's
    await source.start()


async def _close(source: InstanceSource) -> None:
    try:
        await source.stop()
    finally:
        if isinstance(source, RegistrySource):
            await source.registry.stop()


def _where(source: InstanceSource) -> str:
    return "in the registry" if isinstance(source, RegistrySource) else f"on {source.label}"


def _any_rejected(names: list[str]) -> bool:
    return any(n not in EVOLUTION_ALL_EVENTS and evolution_rejects(catalog.lookup(n)) for n in names)


def _print_item(item: SourceInstance, source: InstanceSource, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(InstanceView(item).to_json(source.label), indent=2))
        return
    cfg = item.settings
    if cfg is None:
        click.echo(f"{item.name}: no Kafka settings {_where(source)}")
    else:
        state = "enabled" if cfg.enabled else "disabled"
        click.echo(f"{item.name}: {state}, events: {_events_text(cfg)} (updated {cfg.updated_at or '-'})")
    if item.warning:
        click.echo(f"  ! {item.warning}")


def _covers_catalog(cfg: InstanceSettings) -> bool:
    """Every catalog event goes (the registry's empty list, or Evolution's record spelling them all out)."""
    return cfg.enabled and (cfg.all_events or len(cfg.enabled_events()) == len(catalog.EVENTS))


def _events_text(cfg: InstanceSettings) -> str:
    if not cfg.enabled:
        return "none"
    if _covers_catalog(cfg):
        return f"all ({len(catalog.EVENTS)})"
    return f"{len(cfg.events)}: {', '.join(cfg.events)}"


def _seen_json(seen: DiscoveredInstance | None) -> dict[str, Any] | None:
    if seen is None:
        return None
    return {
        "layouts": sorted(str(layout) for layout in seen.layouts if isinstance(layout, Layout)),
        "events": sorted(seen.events),
        "last_seen": _iso(seen.last_seen_ms) if seen.last_seen_ms is not None else None,
    }


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
