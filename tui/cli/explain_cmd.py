"""``evokafka explain INSTANCE EVENT``: why an event of an instance did or did not arrive, checked live."""

from __future__ import annotations

import json

import click

from tui.cli.common import Context, fail, pass_context, run


@click.command()
@click.argument("instance")
@click.argument("event")
@click.option(
    "-g", "--group", "groups", multiple=True, metavar="GROUP",
    help="Also this consumer group's lag (KAFKA_CONSUMER_GROUP_ID always; repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with the same facts.")
@pass_context
def command(ctx: Context, instance: str, event: str, groups: tuple[str, ...], as_json: bool) -> None:
    """One verdict line, then the reasons, each checked live: would Evolution API 2.3.6 publish EVENT of
    INSTANCE, where, and why not; each topic it would go to (exists? partitions; the last record of that
    instance and event: partition, offset, time, age); how far behind the consumer groups are; whether the
    brokers answer. EVENT by either name (MESSAGES_UPSERT, messages.upsert).

    Exit status: 0 when the event is published (or would be), 1 when not, or the cluster does not answer.
    """
    from tui.catalog import lookup
    from tui.topology import validate_instance

    settings = ctx.settings()
    resolved = lookup(event)
    validate_instance(instance, settings.topic_prefix)
    app = ctx.app_settings()

    from tui.evolution.client import EvolutionConfigError
    from tui.evolution.source import SOURCE_ERRORS, RegistrySource, SourceConfigError, choose_source
    from tui.explanation import Explanation
    from tui.kafka.explain import explain
    from tui.kafka.options import ConnectionOptions, ConnectionSetupError
    from tui.kafka.registry import InstanceRegistry

    try:
        options = ConnectionOptions.from_settings(settings)
        # The instance's settings from the instance source: a running Evolution API when EVOLUTION_API_URL is set
        # (what the real server stored), else the cluster registry, read only (its topic is never created here).
        registry = InstanceRegistry(settings, topic=app.registry_topic, options=options, read_only=True)
        source = choose_source(app, registry)
    except (ConnectionSetupError, SourceConfigError, EvolutionConfigError) as exc:
        fail(str(exc))

    async def work() -> Explanation:
        notes: list[str] = []
        found = None
        try:
            if isinstance(source, RegistrySource):
                await registry.start()
            try:
                await source.start()
                found = (await source.get(instance)).settings
            finally:
                await source.stop()
                if isinstance(source, RegistrySource):
                    await registry.stop()
        except SOURCE_ERRORS as exc:
            notes.append(f"the instance source ({source.label}) could not be read: {exc}")
        else:
            if found is None:
                notes.append(f"{instance} has no Kafka settings in {source.label}")
        return await explain(options, settings, instance, resolved, found, groups=groups, notes=notes)

    result = run(work)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            click.echo(line)
    if result.verdict != "published" or not result.cluster.reachable:
        raise SystemExit(1)
