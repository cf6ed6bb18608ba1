"""``evokafka publish``: send an Evolution API event the way Evolution API would, and say where it went.

Per-instance settings come from the cluster's instance registry, so the route is the one every publisher of
the cluster takes: the per-instance topic only when the instance is enabled for the event, the global topic
when ``KAFKA_GLOBAL_ENABLED`` and ``KAFKA_EVENTS_<NAME>`` hold. When neither holds nothing is sent; that is not
an error (exit 0), but the command says which rule stopped it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson

from tui import catalog
from tui.cli.common import Context, fail, pass_context, run
from tui.cli.publish_report import Report, route_line
from tui.config import KafkaSettings
from tui.envelope import DEFAULT_SERVER_URL
from tui.instance_settings import SettingsLookup
from tui.kafka.errors import explain
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError
from tui.kafka.publish.delivery import PublishTicket
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry
from tui.routing import name_problem
from tui.status import PublisherState
from tui.templates import template
from tui.topology import InstanceNameError, Route, route, validate_instance

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


class _Unreachable(Exception):
    """The cluster did not answer within the connection timeout."""


def _read_data(spec: str | None) -> tuple[Any, bool]:
    """``--data``: inline JSON, ``@file`` or ``-`` (stdin). Returns (data, given)."""
    if spec is None:
        return None, False
    if spec == "-":
        text, source = sys.stdin.read(), "stdin"
    elif spec.startswith("@"):
        path = spec[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            fail(f"--data {spec}: cannot read the file ({exc.strerror or exc})")
        except UnicodeDecodeError:
            fail(f"--data {spec}: the file is not UTF-8 text")
        source = path
    else:
        text, source = spec, "--data"
    try:
        return orjson.loads(text), True
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        fail(f"invalid JSON in {source} ({where}): {exc.msg}")


MAX_COUNT = 10**9
RATE_MIN, RATE_MAX = 0.001, 1_000_000.0
"""``--rate`` bounds, records per second: one every 1000 s at the slowest."""


def _check_rate(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and RATE_MIN <= value <= RATE_MAX):
        raise click.BadParameter(f"{value} is not a rate from {RATE_MIN} to {RATE_MAX:,.0f} records per second")
    return value


@click.command()
@click.argument("event")
@click.option("--instance", "-i", required=True, help="The instance the event belongs to.")
@click.option(
    "--data",
    "data_spec",
    metavar="JSON|@FILE|-",
    help="The event's data: inline JSON, @file, or - for stdin. Default: a realistic template for EVENT.",
)
@click.option(
    "--count", "-n", type=click.IntRange(min=1, max=MAX_COUNT),
    help=f"Send N events, 1 to {MAX_COUNT:,} (progress bar, a line per record, a summary that accounts for each).",
)
@click.option(
    "--rate", type=float, callback=_check_rate,
    help=f"At most R events per second ({RATE_MIN} to {RATE_MAX:,.0f}).",
)
@click.option("--sender", help="The body's sender field (e.g. 5511999999999).")
@click.option("--server-url", default=DEFAULT_SERVER_URL, show_default=True, help="The body's server_url.")
@click.option("--apikey", help="The body's apikey field.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per record on stdout.")
@pass_context
def command(
    ctx: Context,
    event: str,
    instance: str,
    data_spec: str | None,
    count: int | None,
    rate: float | None,
    sender: str | None,
    server_url: str,
    apikey: str | None,
    as_json: bool,
) -> None:
    """Publish EVENT (MESSAGES_UPSERT or messages.upsert) of an instance, as Evolution API does.

    Prints one line per record: topic, partition, offset, key. Where the event goes follows the instance's
    settings in the cluster registry and KAFKA_GLOBAL_ENABLED / KAFKA_EVENTS_<NAME>.
    """
    settings = ctx.settings()
    app = ctx.app_settings()
    try:
        resolved = catalog.lookup(event)
        if not instance.strip():
            validate_instance(instance, settings.topic_prefix)  # an empty name: refused at once
    except (catalog.UnknownEventError, InstanceNameError) as exc:
        fail(str(exc))
    data, given = _read_data(data_spec)
    if app.read_only:
        fail("read-only mode: refusing to publish (run without --read-only / EVOKAFKA_READ_ONLY)")
    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))

    job = _Job(
        settings=settings,
        options=options,
        registry_topic=app.registry_topic,
        event=resolved,
        instance=instance,
        data=data if given else None,
        count=count,
        rate=rate,
        sender=sender,
        server_url=server_url,
        apikey=apikey,
        as_json=as_json,
    )
    try:
        code = run(job.run)
    except _Unreachable as exc:
        _exit_unreachable(str(exc))
    sys.exit(code)


def _exit_unreachable(message: str) -> NoReturn:
    fail(message, code=1)


class _Job:
    """One ``evokafka publish`` run."""

    def __init__(
        self,
        *,
        settings: KafkaSettings,
        options: ConnectionOptions,
        registry_topic: str,
        event: catalog.Event,
        instance: str,
        data: Any,
        count: int | None,
        rate: float | None,
        sender: str | None,
        server_url: str,
        apikey: str | None,
        as_json: bool,
    ) -> None:
        self.settings = settings
        self.options = options
        self.registry_topic = registry_topic
        self.event = event
        self.instance = instance
        self.data = data
        self.count = count
        self.rate = rate
        self.sender = sender
        self.server_url = server_url
        self.apikey = apikey
        self.as_json = as_json

    def _data_for(self, n: int) -> Any:
        return self.data if self.data is not None else template(self.event, self.instance, seq=n)

    async def run(self) -> int:
        registry: InstanceRegistry | None = None
        if self.settings.enabled:
            # Publishing only reads the registry: never create its topic as a side effect.
            registry = InstanceRegistry(
                self.settings, topic=self.registry_topic, options=self.options, read_only=True
            )
            try:
                await registry.start()
            except ClusterUnreachableError as exc:
                raise _Unreachable(explain(exc)) from None
        try:
            lookup: SettingsLookup = registry if registry is not None else _NoSettings()
            found = route(self.settings, self.instance, self.event, lookup.get(self.instance))
            self._check_name(found)
            if not found.targets:
                # Not an error: the reference sends nothing in this case either. Say which rule held.
                click.echo(f"nowhere: {'; '.join(found.reasons)}", err=True)
                click.echo(f"evokafka: nothing sent; {self._how_to_send()}", err=True)
                return 0
            click.echo(f"route: {route_line(found)}", err=True)
            return await self._publish(lookup)
        finally:
            if registry is not None:
                await registry.stop()

    def _check_name(self, found: Route) -> None:
        """Evolution API allows instance names a Kafka topic cannot hold ("Loja Centro"): fine for global topics;
        one line (exit 2) when the route needs the per-instance topic, or goes nowhere (the name is the news)."""
        problem = name_problem(self.instance, self.settings.topic_prefix, found)
        if problem is not None:
            fail(problem)

    def _how_to_send(self) -> str:
        if not self.settings.enabled:
            return "KAFKA_ENABLED=false publishes nothing"
        ways = [f"enable the instance for {self.event.name} (evokafka instances)"]
        if not self.settings.global_enabled:
            ways.append("set KAFKA_GLOBAL_ENABLED=true")
        elif not self.settings.event_enabled(self.event):
            ways.append(f"set {self.event.setting}=true")
        return "to send it: " + " or ".join(ways)

    async def _publish(self, lookup: SettingsLookup) -> int:
        if not os.environ.get("EVOKAFKA_DEBUG"):
            # This command reports the publisher's state itself, in its own lines.
            logging.getLogger("tui.kafka.publish.publisher").setLevel(logging.ERROR)
        publisher = EventPublisher(self.settings, lookup, options=self.options, server_url=self.server_url)
        report = Report(as_json=self.as_json)
        await publisher.start()
        unsubscribe = publisher.subscribe(report.state)
        unsubscribe_losses = publisher.subscribe_losses(report.loss)
        checked: str | None = None
        try:
            await self._wait_connected(publisher)
            if publisher.status.idempotence is False:
                click.echo(
                    "publisher: the broker refused idempotence; sending with acks=all, one request in flight",
                    err=True,
                )
            total = self.count or 1
            started = time.monotonic()
            tickets: asyncio.Queue[tuple[int, PublishTicket] | None] = asyncio.Queue()
            printer = asyncio.create_task(self._print(tickets, total, report))
            for n in range(total):
                if self.rate is not None:
                    # Pacing, not waiting for a condition: the operator asked for this rate.
                    due = started + n / self.rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                ticket = await publisher.publish(
                    self.event, self.instance, self._data_for(n), sender=self.sender, apikey=self.apikey
                )
                report.route(n, ticket.route)
                tickets.put_nowait((n, ticket))
            tickets.put_nowait(None)
            await publisher.flush()
            await printer
            # Acknowledged is not enough: is it all still there? (A broker that restarted empty lost it.)
            try:
                await publisher.verify(timeout=max(self.options.request_timeout_ms / 1000, 30.0))
            except Exception as exc:
                checked = explain(exc)
            elapsed = max(time.monotonic() - started, 1e-6)
            status = publisher.status
        finally:
            unsubscribe()
            unsubscribe_losses()
            await publisher.stop()
        if self.count is not None:
            report.summary(total, status, elapsed, checked=checked)
        elif report.lost:
            click.echo(f"publisher: {status.describe()}", err=True)
        return 0 if report.all_acknowledged() and checked is None else 1

    async def _wait_connected(self, publisher: EventPublisher) -> None:
        changed = asyncio.Event()
        unsubscribe = publisher.subscribe(lambda _status: changed.set())
        # Admin, then an idempotent producer, then (when refused) a plain one: each bounded by the timeout.
        bound = 3 * max(self.options.connect_timeout_s, 1.0) + 2.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        try:
            while publisher.status.state is PublisherState.CONNECTING and loop.time() < deadline:
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), timeout=max(deadline - loop.time(), 0.01))
                except TimeoutError:
                    break
        finally:
            unsubscribe()
        status = publisher.status
        if status.state is not PublisherState.CONNECTED:
            servers = ",".join(self.options.bootstrap_servers)
            why = status.last_error or "no answer within the connection timeout"
            if why.startswith("cannot reach the cluster"):
                raise _Unreachable(why)
            raise _Unreachable(f"cannot reach the cluster at {servers}: {why}")

    async def _print(
        self, tickets: asyncio.Queue[tuple[int, PublishTicket] | None], total: int, report: Report
    ) -> None:
        if self.count is None:
            await self._print_records(tickets, None, report)
            return
        with click.progressbar(
            length=total, label="publishing", file=sys.stderr, show_pos=True, show_eta=False
        ) as bar:
            await self._print_records(tickets, bar, report)

    async def _print_records(
        self, tickets: asyncio.Queue[tuple[int, PublishTicket] | None], bar: ProgressBar[Any] | None, report: Report
    ) -> None:
        # In hand-over order, so the lines of one key come out in the order they were sent.
        while True:
            item = await tickets.get()
            if item is None:
                return
            n, ticket = item
            if not ticket.route.targets:
                report.skip(n, ticket.route)
            else:
                report.settled(n, await ticket.wait())
            if bar is not None:
                bar.update(1)


class _NoSettings:
    """The lookup when Kafka is off: nothing is published, no registry is read."""

    def get(self, instance: str) -> None:
        """No settings for anyone."""
        return None
