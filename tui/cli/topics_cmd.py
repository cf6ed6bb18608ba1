"""``evokafka topics plan|diff|create``: the topics the configuration and the registry imply, against the cluster."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, NoReturn, TypeVar

import click

from tui import catalog
from tui.cli.common import Context, fail, pass_context, run
from tui.config import AppSettings, KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.kafka.doctor.probe import unreachable_reason
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError, ReadOnlyError
from tui.kafka.topics import (
    TopicDiff,
    cluster_diff,
    create_missing,
    plan,
    planned_json,
    registry_diff,
    registry_instances,
)
from tui.topology import Layout, PlannedTopic

T = TypeVar("T")

_LAYOUTS: dict[str, tuple[Layout, ...] | None] = {
    "configured": None,
    "instance": (Layout.INSTANCE,),
    "global": (Layout.GLOBAL,),
    "both": (Layout.INSTANCE, Layout.GLOBAL),
}

layout_option = click.option(
    "--layout",
    type=click.Choice(list(_LAYOUTS)),
    default="configured",
    show_default=True,
    help="Which layouts to plan: the configured ones (global only with KAFKA_GLOBAL_ENABLED), or as named.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


class _Env:
    """Settings, options and the read-only flag of one invocation."""

    def __init__(self, ctx: Context) -> None:
        self.settings: KafkaSettings = ctx.settings()
        self.app: AppSettings = ctx.app_settings()
        try:
            self.options = ConnectionOptions.from_settings(self.settings)
        except ConnectionSetupError as exc:
            fail(str(exc))

    def call(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run Kafka work; an unreachable cluster is one line (with the first broker's reason), exit 1."""

        async def guarded() -> T:
            try:
                return await factory()
            except ClusterUnreachableError as exc:
                if str(exc).startswith("SASL authentication"):  # the step is named already: no second probe
                    fail(str(exc), code=1)
                reason = await unreachable_reason(self.options)
                self._unreachable(str(exc), reason)

        return run(guarded)

    def _unreachable(self, message: str, reason: str | None) -> NoReturn:
        servers = ",".join(self.settings.brokers)
        if reason:
            fail(f"cannot reach the cluster at {servers} ({reason})", code=1)
        fail(message, code=1)

    async def instances(self) -> dict[str, InstanceSettings]:
        return await registry_instances(self.settings, self.options, self.app.registry_topic)


def _rows(topics: Iterable[PlannedTopic]) -> list[str]:
    items = list(topics)
    width = max((len(t.topic) for t in items), default=5)
    lines = [f"{'TOPIC':<{width}}  {'LAYOUT':<8}  {'INSTANCE':<16}  PARTITIONS  REPLICATION"]
    for t in items:
        lines.append(
            f"{t.topic:<{width}}  {t.layout.value:<8}  {(t.instance or '-'):<16}  {t.partitions:>10}  {t.replication:>11}"
        )
    return lines


@click.group()
def command() -> None:
    """The topics the configuration and the instance registry imply: plan, diff against the cluster,
    create the missing ones."""


@command.command("plan")
@layout_option
@json_option
@pass_context
def plan_command(ctx: Context, layout: str, as_json: bool) -> None:
    """List the planned topics with partitions (KAFKA_NUM_PARTITIONS) and replication
    (KAFKA_REPLICATION_FACTOR)."""
    env = _Env(ctx)
    instances = env.call(env.instances)
    topics = plan(env.settings, instances, _LAYOUTS[layout])
    if as_json:
        click.echo(
            json.dumps(
                {
                    "prefix": env.settings.topic_prefix,
                    "instances": sorted(instances),
                    "topics": [planned_json(t) for t in topics],
                },
                indent=2,
            )
        )
        return
    if not env.settings.enabled:
        click.echo("KAFKA_ENABLED=false: no topic is planned")
        return
    click.echo(
        f"# {len(topics)} topics planned under {env.settings.topic_prefix!r} for {len(instances)} instances"
        f" (layout: {layout})"
    )
    if topics:
        for line in _rows(topics):
            click.echo(line)
    evolution_names = [
        (f"{env.settings.topic_prefix}.global.{catalog.EVOLUTION_MISNAMED_TOPIC[t.event.wire]}", t.topic)
        for t in topics
        if t.layout is Layout.GLOBAL and t.event.wire in catalog.EVOLUTION_MISNAMED_TOPIC
    ]
    for made, used in evolution_names:
        click.echo(f"note: with KAFKA_AUTO_CREATE_TOPICS=true Evolution API creates {made}, but publishes to {used}")


def _print_diff(result: TopicDiff) -> None:
    if result.missing:
        click.echo(f"missing ({len(result.missing)}):")
        for t in result.missing:
            click.echo(f"  {t.topic}  (partitions {t.partitions}, replication {t.replication})")
    if result.unexpected:
        click.echo(f"unexpected ({len(result.unexpected)}): event topics under the prefix that the plan does not hold")
        for name in result.unexpected:
            click.echo(f"  {name}")
    if result.wrong_partitions:
        click.echo(f"wrong partition count ({len(result.wrong_partitions)}):")
        for m in result.wrong_partitions:
            click.echo(f"  {m.topic.topic}: {m.actual} partitions, planned {m.topic.partitions}")
    if result.misnamed:
        click.echo(
            f"misnamed ({len(result.misnamed)}): Evolution API 2.3.6 auto-creates global topics named from its "
            "settings keys, not the names it publishes to"
        )
        for n in result.misnamed:
            click.echo(
                f"  {n.topic}: Evolution API auto-creates this name but publishes to {n.published_to}"
            )
    summary = f"{len(result.present)} of {len(result.plan)} planned topics present"
    click.echo(f"in sync: {summary}" if result.in_sync else f"not in sync: {summary}")


@command.command("diff")
@layout_option
@json_option
@pass_context
def diff_command(ctx: Context, layout: str, as_json: bool) -> None:
    """Compare the plan with the cluster: missing, unexpected, wrong partition count, misnamed.
    Exit 0 when in sync, 1 otherwise."""
    env = _Env(ctx)

    async def work() -> TopicDiff:
        return await registry_diff(env.settings, env.options, env.app.registry_topic, _LAYOUTS[layout])

    result = env.call(work)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_diff(result)
    sys.exit(0 if result.in_sync else 1)


@command.command("create")
@layout_option
@click.option("--yes", is_flag=True, help="Create them (without it, only show what would be created).")
@json_option
@pass_context
def create_command(ctx: Context, layout: str, yes: bool, as_json: bool) -> None:
    """Create the planned topics that are missing, with KAFKA_NUM_PARTITIONS and KAFKA_REPLICATION_FACTOR.
    Refused in read-only mode."""
    env = _Env(ctx)
    read_only = env.app.read_only

    async def work() -> tuple[TopicDiff, list[str]]:
        result = await cluster_diff(env.settings, env.options, await env.instances(), _LAYOUTS[layout])
        created: list[str] = []
        if yes and result.missing:
            created = await create_missing(env.options, result.missing, read_only=read_only)
        return result, created

    try:
        result, created = env.call(work)
    except ReadOnlyError as exc:
        fail(str(exc), code=1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "dry_run": not yes,
                    "to_create": [planned_json(t) for t in result.missing],
                    "created": created,
                },
                indent=2,
            )
        )
        return
    if not result.missing:
        click.echo(f"nothing to create: all {len(result.plan)} planned topics exist")
        return
    verb = "creating" if yes else "would create"
    click.echo(f"{verb} {len(result.missing)} topics:")
    for t in result.missing:
        click.echo(f"  {t.topic}  (partitions {t.partitions}, replication {t.replication})")
    if not yes:
        click.echo("dry run: nothing created; run again with --yes to create them")
        return
    click.echo(f"created {len(created)} topics")
