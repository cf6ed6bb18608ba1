"""``evokafka instances``: per-instance Kafka settings in the cluster registry, and instances seen in topics.

The write commands follow the reference's ``POST /kafka/set/<instance>``: disabled is stored with no events,
enabled with no event list means every event. Bad input exits 2 with one line before anything is sent; an
unreachable cluster exits 1 with one line.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from tui import events as catalog
from tui.cli.common import Context, fail, parse_event_names, pass_context, run
from tui.config import AppSettings, KafkaSettings
from tui.instances import InstanceSettings
from tui.kafka.admin import Admin, ClusterUnreachableError, ReadOnlyError
from tui.kafka.discovery import DiscoveredInstance, discover
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.kafka.registry import InstanceRegistry, RegistryError
from tui.layout import Layout, validate_instance

T = TypeVar("T")

SOURCE_REGISTRY = "registry"
SOURCE_DISCOVERED = "discovered"

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@dataclass(frozen=True)
class InstanceView:
    """One instance as the command shows it: its registry settings and/or what the topics show."""

    name: str
    settings: InstanceSettings | None
    seen: DiscoveredInstance | None

    @property
    def source(self) -> str:
        """``registry`` when the registry has an entry, else ``discovered``."""
        return SOURCE_REGISTRY if self.settings is not None else SOURCE_DISCOVERED

    def to_json(self) -> dict[str, Any]:
        """The JSON form: settings (null for discovered instances) and what was seen in the topics."""
        cfg = self.settings
        return {
            "name": self.name,
            "source": self.source,
            "enabled": cfg.enabled if cfg else None,
            "all_events": cfg.all_events if cfg else None,
            "events": list(cfg.events) if cfg else None,
            "updated_at": (cfg.updated_at or None) if cfg else None,
            "seen": _seen_json(self.seen),
        }

    def enabled_cell(self) -> str:
        """``yes`` / ``no``, ``-`` when the registry has no entry."""
        if self.settings is None:
            return "-"
        return "yes" if self.settings.enabled else "no"

    def events_cell(self) -> str:
        """``all``, the number of events, or for a discovered instance the number seen."""
        cfg = self.settings
        if cfg is None:
            return f"{len(self.seen.events)} seen" if self.seen else "-"
        if cfg.all_events:
            return "all"
        return str(len(cfg.events))

    def updated_cell(self) -> str:
        """The registry's ``updated_at``; for a discovered instance the newest record seen."""
        if self.settings is not None:
            return self.settings.updated_at or "-"
        if self.seen is not None and self.seen.last_seen_ms is not None:
            return _iso(self.seen.last_seen_ms)
        return "-"


@click.group()
def command() -> None:
    """Instances and their Kafka event toggles, stored in the cluster (the registry topic,
    EVOKAFKA_REGISTRY_TOPIC), plus instances seen in topics but unknown to the registry."""


@command.command("list")
@json_option
@pass_context
def list_command(ctx: Context, as_json: bool) -> None:
    """List every instance: NAME, ENABLED, EVENTS (count or "all"), SOURCE (registry/discovered), UPDATED."""
    env = _Env.load(ctx)

    async def work() -> list[InstanceView]:
        return await env.views()

    views = run(work)
    if as_json:
        click.echo(json.dumps([v.to_json() for v in views], indent=2))
        return
    if not views:
        click.echo("no instances: none in the registry, none seen in topics")
        return
    rows = [["NAME", "ENABLED", "EVENTS", "SOURCE", "UPDATED"]]
    rows += [[v.name, v.enabled_cell(), v.events_cell(), v.source, v.updated_cell()] for v in views]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@command.command("show")
@click.argument("name")
@json_option
@pass_context
def show_command(ctx: Context, name: str, as_json: bool) -> None:
    """Show NAME's settings and the events seen for it in the topics (exit 1 when unknown)."""
    env = _Env.load(ctx)
    env.check_name(name)

    async def work() -> list[InstanceView]:
        return await env.views()

    view = next((v for v in run(work) if v.name == name), None)
    if view is None:
        fail(f"no instance {name!r}: not in the registry and not seen in any topic", code=1)
    if as_json:
        click.echo(json.dumps(view.to_json(), indent=2))
        return
    click.echo(f"name:     {view.name}")
    click.echo(f"source:   {view.source}")
    cfg = view.settings
    if cfg is not None:
        click.echo(f"enabled:  {view.enabled_cell()}")
        click.echo(f"events:   {_events_text(cfg)}")
        click.echo(f"updated:  {cfg.updated_at or '-'}")
    else:
        click.echo("settings: none in the registry (nothing goes to its per-instance topics)")
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
        catalog.lookup(event)  # unknown names exit 2 with the nearest ones, before anything is sent
    env.check_writable(name)
    stored = env.write(lambda registry: registry.set_request(name, enabled, names))
    _print_settings(name, stored, as_json)


@command.command("enable")
@click.argument("name")
@json_option
@pass_context
def enable_command(ctx: Context, name: str, as_json: bool) -> None:
    """Enable NAME, keeping its event list (an instance without one gets every event)."""
    env = _Env.load(ctx)
    env.check_name(name)
    env.check_writable(name)
    _print_settings(name, env.write(lambda registry: registry.enable(name)), as_json)


@command.command("disable")
@click.argument("name")
@json_option
@pass_context
def disable_command(ctx: Context, name: str, as_json: bool) -> None:
    """Disable NAME (stored with no events)."""
    env = _Env.load(ctx)
    env.check_name(name)
    env.check_writable(name)
    _print_settings(name, env.write(lambda registry: registry.disable(name)), as_json)


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
    env.check_writable(name)
    _print_settings(name, env.write(lambda registry: registry.toggle(name, resolved)), as_json)


@command.command("delete")
@click.argument("name")
@json_option
@pass_context
def delete_command(ctx: Context, name: str, as_json: bool) -> None:
    """Delete NAME's registry entry (exit 1 when it has none)."""
    env = _Env.load(ctx)
    env.check_name(name)
    env.check_writable(name)

    async def remove(registry: InstanceRegistry) -> bool:
        if registry.get(name) is None:
            return False
        await registry.delete(name)
        return True

    if not env.write(remove):
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

    @classmethod
    def load(cls, ctx: Context) -> _Env:
        settings = ctx.settings()
        app = ctx.app_settings()
        try:
            options = ConnectionOptions.from_settings(settings)
        except ConnectionSetupError as exc:
            fail(str(exc))
        return cls(settings, app, options)

    def check_name(self, name: str) -> None:
        validate_instance(name, self.settings.topic_prefix)  # InstanceNameError: exit 2, one line

    def check_writable(self, name: str) -> None:
        if self.app.read_only:
            fail(str(ReadOnlyError(f"change instance {name!r} in the registry")))

    def registry(self, *, read_only: bool) -> InstanceRegistry:
        return InstanceRegistry(
            self.settings, topic=self.app.registry_topic, options=self.options, read_only=read_only
        )

    async def views(self) -> list[InstanceView]:
        """Registry entries and discovered instances, by name."""
        admin = await _admin(self.options)
        try:
            # Reading never creates the registry topic: a cluster without one simply has no entries.
            registry = self.registry(read_only=True)
            await _start(registry)
            try:
                entries = registry.all()
            finally:
                await registry.stop()
            seen = await discover(admin, self.options, self.settings.topic_prefix)
        finally:
            await admin.close()
        names = sorted(set(entries) | set(seen))
        return [InstanceView(n, entries.get(n), seen.get(n)) for n in names]

    def write(self, change: Callable[[InstanceRegistry], Awaitable[T]]) -> T:
        """Start a writable registry, apply ``change``, stop; cluster trouble exits 1 with one line."""

        async def work() -> T:
            registry = self.registry(read_only=self.app.read_only)
            await _start(registry)
            try:
                return await change(registry)
            except ReadOnlyError as exc:
                fail(str(exc))
            except (ClusterUnreachableError, RegistryError) as exc:
                fail(str(exc), code=1)
            finally:
                await registry.stop()

        return run(work)


async def _admin(options: ConnectionOptions) -> Admin:
    admin = Admin(options)
    try:
        return await admin.start()
    except ClusterUnreachableError as exc:
        fail(str(exc), code=1)


async def _start(registry: InstanceRegistry) -> None:
    try:
        await registry.start()
    except ClusterUnreachableError as exc:
        fail(str(exc), code=1)


def _print_settings(name: str, stored: InstanceSettings, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(InstanceView(name, stored, None).to_json(), indent=2))
        return
    state = "enabled" if stored.enabled else "disabled"
    click.echo(f"{name}: {state}, events: {_events_text(stored)} (updated {stored.updated_at})")


def _events_text(cfg: InstanceSettings) -> str:
    if not cfg.enabled:
        return "none"
    if cfg.all_events:
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
