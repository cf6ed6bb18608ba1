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

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import click

from tui import catalog
from tui.cli.common import Context, fail, parse_event_names, pass_context, run
from tui.cli.instance_view import InstanceView, print_detail, print_item, print_table, where
from tui.config import AppSettings, KafkaSettings
from tui.console.session import Session
from tui.evolution.client import EvolutionConfigError
from tui.evolution.models import evolution_rejects
from tui.evolution.source import (
    SOURCE_CHOICES,
    SOURCE_ERRORS,
    EventRefusedError,
    EvolutionSource,
    RegistrySource,
)
from tui.instance_source import DiscoveredInstance, InstanceSource, Origin, SourceInstance
from tui.kafka.admin import Admin
from tui.kafka.discovery import discover, discover_in
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError, ReadOnlyError
from tui.kafka.registry import InstanceRegistry
from tui.routing import EVOLUTION_ALL_EVENTS
from tui.topology import InstanceNameError, validate_instance

T = TypeVar("T")

SOURCE_REGISTRY = Origin.REGISTRY.value
SOURCE_EVOLUTION = Origin.EVOLUTION.value
SOURCE_DISCOVERED = Origin.DISCOVERED.value

_SOURCE_META = "evokafka.instances.source"
"""Where the group's ``--source`` is kept for its subcommands (click's per-invocation ``meta``)."""

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


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
    print_table(views, source)


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
        fail(f"no instance {name!r}: not {where(source)} and not seen in any topic", code=1)
    if as_json:
        click.echo(json.dumps(view.to_json(source.label), indent=2))
        return
    print_detail(view, source)


@command.command("set")
@click.argument("name")
@click.option("--enabled/--disabled", "enabled", default=None, help="Turn the instance's Kafka on or off.")
@click.option("--events", "events", metavar="A,B,…", help="The events to publish (either name form).")
@click.option("--all-events", is_flag=True, help="Publish every event (an empty list, as the reference).")
@click.option(
    "--token", metavar="TOKEN",
    help="The instance's own API key, kept with its registry entry: evokafka serve accepts it for this instance "
    "(never printed unmasked).",
)
@json_option
@pass_context
def set_command(
    ctx: Context,
    name: str,
    enabled: bool | None,
    events: str | None,
    all_events: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Set NAME as POST /kafka/set does: --disabled stores no events; --enabled with --all-events (or no
    list) publishes every event, with --events only those."""
    env = _Env.load(ctx)
    env.check_name(name)
    if enabled is None and token is None:
        fail("give --enabled or --disabled (or --token)")
    if token is not None and not token.strip():
        fail("--token is empty")
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

    if token is not None and not isinstance(source, RegistrySource):
        fail("--token is kept with evokafka's registry entry; Evolution API keeps its instances' tokens itself")

    async def change(src: InstanceSource) -> SourceInstance:
        if token is not None and isinstance(src, RegistrySource):
            await src.set_token(name, token)
            if enabled is None:
                return await src.get(name)
        assert enabled is not None
        if isinstance(src, EvolutionSource) and src.client.server_is_evokafka is None and _any_rejected(names):
            # Whether Evolution refuses these depends on the server (``evokafka serve`` takes every event):
            # one read tells which server it is, and that the instance exists.
            await src.get(name)
        return await src.set(name, enabled, names)

    print_item(env.apply(source, change), source, as_json)


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
    print_item(env.apply(source, lambda src: src.enable(name)), source, as_json)


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
    print_item(env.apply(source, lambda src: src.disable(name)), source, as_json)


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
    print_item(env.apply(source, lambda src: src.toggle(name, resolved)), source, as_json)


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
        """Evolution API allows names a Kafka topic cannot hold ("Loja Centro"): with its source they are taken,
        with a line saying that per-instance topics cannot exist; evokafka's registry needs legal ones."""
        evolution = self.choice == "evolution" or (self.choice == "auto" and bool(self.app.evolution_api_url))
        if not evolution or not name.strip():
            validate_instance(name, self.settings.topic_prefix)  # InstanceNameError: exit 2, one line
            return
        try:
            validate_instance(name, self.settings.topic_prefix)
        except InstanceNameError as exc:
            click.echo(
                f"evokafka: note: {exc}; global topics are fine, but no per-instance topic can carry it", err=True
            )

    def check_writable(self, name: str, source: InstanceSource) -> None:
        if self.app.read_only:
            fail(str(ReadOnlyError(f"change instance {name!r} ({source.label})")))

    def source(self, *, writable: bool) -> InstanceSource:
        """The chosen source, not started yet, from the console's own session construction; a choice that cannot
        work exits 2 with one line. Reading never creates the registry topic: a cluster without one simply has no
        entries."""
        try:
            session = Session.build(
                self.settings,
                self.app,
                options=self.options,
                read_only=self.app.read_only or not writable,
                source_choice=self.choice,
            )
        except ConnectionSetupError as exc:  # SourceSetupError among them
            fail(str(exc))
        return session.instance_source

    def views(self, source: InstanceSource) -> list[InstanceView]:
        """The source's instances and the discovered ones, by name."""

        scan: asyncio.Task[tuple[dict[str, DiscoveredInstance], ClusterUnreachableError | None]] | None = None

        def start_scan() -> None:
            nonlocal scan
            # Alongside the source's start (the registry's replay): both mostly wait for the cluster.
            registry = source.registry if isinstance(source, RegistrySource) else None
            scan = asyncio.create_task(self._discover(registry))

        async def read(src: InstanceSource) -> list[InstanceView]:
            assert scan is not None
            seen, unreachable = await scan
            trouble = None
            if unreachable is not None:
                if isinstance(src, RegistrySource):  # the registry is in the cluster: an unreachable one is fatal
                    fail(str(unreachable), code=1)
                trouble = str(unreachable)
            items = await src.instances(seen)
            if trouble:
                # Said only once the source answered: a failing source is the one line that matters then.
                click.echo(f"evokafka: warning: topics not scanned for instances: {trouble}", err=True)
            if isinstance(src, RegistrySource):  # every record the registry skipped, on stderr (stdout stays data)
                for skipped in src.registry.problems:
                    click.echo(
                        f"evokafka: warning: registry record skipped: key {skipped.key!r} at offset "
                        f"{skipped.offset}: {skipped.reason}",
                        err=True,
                    )
            return [InstanceView(item, seen.get(item.name)) for item in items]

        return self.apply(source, read, before=start_scan)  # a scan left running is cancelled with the loop

    async def _discover(
        self, registry: InstanceRegistry | None = None
    ) -> tuple[dict[str, DiscoveredInstance], ClusterUnreachableError | None]:
        """Instances seen in topics, or why none could be looked for (with a source outside the cluster an
        unreachable cluster is only a warning; with the registry, exit 1).

        With the registry as the source, its reader's connection is waited for first: when that answer listed
        the cluster's topics they are taken from it (the test broker lists every topic there; each answer took
        ~100 ms to decode at 6,200 topics), else they are asked for through an admin client as before."""
        if registry is not None:
            topics = await registry.topics_at_connect()
            if topics is not None:
                return await discover_in(topics, self.options, self.settings.topic_prefix), None
        admin = Admin(self.options)
        try:
            await admin.start()
            try:
                return await discover(admin, self.options, self.settings.topic_prefix), None
            finally:
                await admin.close()
        except ClusterUnreachableError as exc:
            return {}, exc

    def apply(
        self,
        source: InstanceSource,
        work: Callable[[InstanceSource], Awaitable[T]],
        *,
        before: Callable[[], None] | None = None,
    ) -> T:
        """Start ``source``, run ``work`` on it, stop it; every source error is one line (exit 2: the input's
        fault — a refused event, a bad name, read-only; exit 1: the server's or the cluster's). ``before`` runs
        in the event loop first (to start work that goes on while the source starts)."""

        async def main() -> T:
            if before is not None:
                before()
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


def _any_rejected(names: list[str]) -> bool:
    return any(n not in EVOLUTION_ALL_EVENTS and evolution_rejects(catalog.lookup(n)) for n in names)


# A copy of the registry and its restore (after a broker lost its data): tui/cli/instances_backup.py.
from tui.cli.instances_backup import export_command, import_command  # noqa: E402

command.add_command(export_command)
command.add_command(import_command)
