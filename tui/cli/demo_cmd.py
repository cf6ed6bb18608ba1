"""``evokafka demo``: an embedded broker, seeded instances and live WhatsApp traffic, the console on top.

Without ``--no-ui`` it opens the console in demo mode (chaos keys included); when the console is not part of
this build it prints the live traffic instead. ``--no-ui`` publishes only, printing a status line now and then,
to feed a console started elsewhere (``evokafka --brokers <the printed address>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from tui.cli.common import Context, fail, pass_context, run
from tui.config import KafkaSettings
from tui.demo.broker import BrokerError
from tui.demo.runner import DemoConfig, DemoDelivery, DemoRunner
from tui.demo.traffic import MAX_INSTANCES
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.kafka.options import ClusterUnreachableError, ConnectionSetupError
from tui.summaries import summarize

STATUS_EVERY_S = 5.0
"""How often ``--no-ui`` prints its status line."""

# Demo-friendly numbers, used only where the user's configuration leaves them unset: a cut link shows up as
# reconnecting within seconds rather than after the 30 s request timeout, and topics get a few partitions.
DEMO_DEFAULTS: dict[str, Any] = {
    "num_partitions": 3,
    "request_timeout": 3000,
    "connection_timeout": 2000,
    "reconnect_initial_delay_ms": 1000,
    # The document's KAFKA_EVENTS_* block (Evolution reads a missing one as false: the global topics would be empty).
    **{field: value == "true" for field, value in DOCUMENT_EVENT_FIELDS.items()},
}


def demo_settings(ctx: Context, brokers: str | None, global_enabled: bool) -> KafkaSettings:
    """The user's settings, with the demo's overrides: topics auto-created, the chosen layouts, and the
    demo-friendly defaults where the user set nothing."""
    overrides: dict[str, Any] = {"auto_create_topics": True, "global_enabled": global_enabled}
    if brokers:
        overrides["brokers"] = brokers
    settings = ctx.settings(**overrides)
    unset = {k: v for k, v in DEMO_DEFAULTS.items() if k not in settings.model_fields_set}
    return settings.model_copy(update=unset) if unset else settings


def refuse_when_read_only(ctx: Context) -> None:
    """Exit 2 with one line in read-only mode: the demo's traffic is nothing but writes (``ctx.settings()`` or
    ``ctx.app_settings()`` must have run, so that ``EVOKAFKA_READ_ONLY`` is known)."""
    if ctx.read_only:
        fail(
            "read-only mode: refusing to start the demo (it creates topics, seeds the registry and publishes); "
            "to watch a cluster without writing: evokafka --read-only --brokers HOST:PORT"
        )


@click.command()
@click.option("--rate", type=click.FloatRange(min=0.1, max=100_000), default=10.0, show_default=True,
              help="Events per second (an event may go to two topics).")
@click.option("--instances", type=click.IntRange(1, MAX_INSTANCES), default=5, show_default=True,
              help="How many seeded instances (one has dots in its name, one is disabled).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same traffic.")
@click.option("--global/--no-global", "global_enabled", default=True, show_default=True,
              help="Publish to the global topics too: both layouts side by side.")
@click.option("--no-ui", is_flag=True, help="Traffic only, with a status line now and then.")
@click.option("--brokers", metavar="HOST:PORT,…",
              help="Send the traffic to this existing cluster instead of the embedded broker (no chaos).")
@click.option("--duration", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Stop after this many seconds (default: until Ctrl-C / quit).")
@pass_context
def command(
    ctx: Context,
    rate: float,
    instances: int,
    seed: int,
    global_enabled: bool,
    no_ui: bool,
    brokers: str | None,
    duration: float | None,
) -> None:
    """Start an embedded broker, seed instances and publish realistic WhatsApp traffic through the real
    publisher; then open the console on it, with chaos keys (F7 cut/restore the link, F8 stop/start the
    broker)."""
    external = brokers or ctx.brokers
    settings = demo_settings(ctx, external, global_enabled)
    refuse_when_read_only(ctx)
    app_settings = ctx.app_settings()
    config = DemoConfig(rate, instances, seed, global_enabled, duration, external=bool(external))
    try:
        runner = DemoRunner(settings, config, registry_topic=app_settings.registry_topic)
    except ConnectionSetupError as exc:
        fail(str(exc))
    if not no_ui:
        from tui.demo.console import run_console

        try:
            run_console(runner, app_settings)
        except (BrokerError, ClusterUnreachableError, ConnectionSetupError) as exc:
            fail(str(exc), code=1)
        return
    printer = None if no_ui else _live_printer(f"{runner.settings.topic_prefix}.global.", runner.request_stop)
    try:
        run(lambda: _traffic_only(runner, printer))
    except (BrokerError, ClusterUnreachableError, ConnectionSetupError) as exc:
        fail(str(exc), code=1)


async def _traffic_only(runner: DemoRunner, printer: Callable[[DemoDelivery], None] | None) -> None:
    config = runner.config
    where = "existing cluster" if config.external else "embedded broker"
    await runner.start()  # on failure it stops what it started, and there is nothing to report
    try:
        _echo(
            f"evokafka demo: {where} at {runner.bootstrap} · prefix {runner.settings.topic_prefix} · "
            f"{len(runner.instances)} instances · global {'on' if config.global_enabled else 'off'} · "
            f"{config.rate:g} events/s · seed {config.seed}"
        )
        _echo(f"evokafka demo: watch it from a second terminal with: {runner.second_terminal}   (Ctrl-C stops)")
        if printer is not None:
            _echo("time     instance        event               to  what   (I instance topic, G global)")
            runner.subscribe(printer)
        status = asyncio.create_task(_status_lines(runner))
        try:
            await runner.run()
        finally:
            status.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await status
    finally:
        await runner.stop()
        _echo(f"evokafka demo: stopped · {runner.describe()}")


async def _status_lines(runner: DemoRunner) -> None:
    while True:
        # A heartbeat for the terminal, not a wait for a condition.
        await asyncio.sleep(STATUS_EVERY_S)
        if not _echo(f"{datetime.now():%H:%M:%S} {runner.describe()}"):
            runner.request_stop()


def _live_printer(global_head: str, stop: Callable[[], None]) -> Callable[[DemoDelivery], None]:
    """One line per event, 80 columns: time, instance, event, where it went, what it says."""

    def line(delivery: DemoDelivery) -> None:
        item = delivery.item
        # Where it went: I = the instance's topic, G = the global topic, I+G both, - nowhere, ! failed.
        if not delivery.deliveries:
            where = "-"
        elif not delivery.ok:
            where = "!"
        elif len(delivery.deliveries) == 2:
            where = "I+G"
        else:
            where = "G" if delivery.deliveries[0].topic.startswith(global_head) else "I"
        head = f"{time.strftime('%H:%M:%S')} {item.instance[:15]:<15} {item.event.wire[:19]:<19} {where:<3} "
        if not _echo(head + summarize(item.event.wire, item.data, limit=max(79 - len(head), 10))):
            stop()  # the reader went away: stop cleanly (the broker too)

    return line


class _Output:
    """stdout that notices when its reader went away (``| head``) instead of raising from a callback."""

    closed = False

    @classmethod
    def echo(cls, line: str) -> bool:
        if cls.closed:
            return False
        try:
            click.echo(line)
            sys.stdout.flush()
        except BrokenPipeError:
            cls.closed = True
            # Python would complain again at exit when flushing the dead pipe: point stdout at nothing.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return False
        return True


_echo = _Output.echo
