"""The doctor's checks of the cluster as a whole: the registry's instances, the planned topics, the consumer
group's lag and whether the broker hands out producer ids. None of them writes to the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from aiokafka.protocol.transaction import InitProducerIdRequest

from tui import catalog
from tui.brokers import split_broker
from tui.config import KafkaSettings
from tui.diagnosis import CheckResult, Status
from tui.instance_settings import InstanceSettings
from tui.kafka.doctor.probe import kwargs_with_sasl, open_broker_connection, step_timeout
from tui.kafka.doctor.results import failed_check
from tui.kafka.errors import diagnose
from tui.kafka.lag import group_lag
from tui.kafka.options import ConnectionOptions
from tui.routing import evolution_route, stored_events
from tui.topology import parse_topic, topic_plan

if TYPE_CHECKING:
    from tui.kafka.registry import InstanceRegistry

LAG_WARN = 1000
"""Total lag of the consumer group above which the doctor warns."""


RESTORE_FIX = (
    "if instances were configured before, the cluster lost them (a broker restarted without its data): restore "
    "them with `evokafka instances import FILE` (a copy from `evokafka instances export`) or from a console that "
    "still holds them; otherwise enable instances: evokafka instances enable <name>"
)


def check_instances(
    instances: Mapping[str, InstanceSettings] | None, registry_note: str = "", *, topic_exists: bool | None = None
) -> list[CheckResult]:
    """Each instance of the registry: enabled or not, and for which events.

    ``topic_exists`` (from the cluster's metadata) tells an unreadable or missing registry topic apart from an
    empty one, so the fix names the real cause.
    """
    if instances is None and topic_exists is not False:
        return [
            CheckResult(
                "registry.instances", Status.WARN,
                f"the registry topic{registry_note} exists but could not be read to its end: its partitions do "
                "not answer with the records they claim (the cluster may have lost their data)",
                "check that the broker serving it is up and kept its storage; if its data is gone, restore the "
                "registry with `evokafka instances import FILE` (from `evokafka instances export`)",
            )
        ]
    if not instances and topic_exists is False:  # None too: a console whose registry was lost
        return [
            CheckResult(
                "registry.instances", Status.WARN,
                f"the registry topic{registry_note} does not exist: no instance settings are stored in this cluster",
                RESTORE_FIX,
            )
        ]
    if not instances:
        return [
            CheckResult(
                "registry.instances", Status.WARN, "no instance has Kafka settings: per-instance topics get nothing",
                "enable instances: evokafka instances enable <name> (or POST /kafka/set/<name>)",
            )
        ]
    out: list[CheckResult] = []
    for name in sorted(instances):
        cfg = instances[name]
        if not cfg.enabled:
            out.append(
                CheckResult(
                    "registry.instance", Status.WARN, "disabled: nothing goes to its per-instance topics",
                    f"evokafka instances enable {name}", name,
                )
            )
        elif cfg.all_events:
            out.append(CheckResult("registry.instance", Status.PASS, "enabled for every event", "", name))
        else:
            shown = ", ".join(cfg.events[:4]) + (" …" if len(cfg.events) > 4 else "")
            out.append(
                CheckResult("registry.instance", Status.PASS, f"enabled for {len(cfg.events)} events: {shown}", "", name)
            )
        groups = catalog.lookup("groups.update")
        if cfg.enables(groups):
            why = evolution_route(groups, name, instance_enabled=True, instance_events=stored_events(cfg)).per_instance
            out.append(CheckResult("evolution.instance-route", Status.WARN, why.reason, "", name))
    return out


def check_planned_topics(
    settings: KafkaSettings, instances: Mapping[str, InstanceSettings], existing: Mapping[str, int]
) -> list[CheckResult]:
    """The planned topics against the cluster; missing ones fail when auto-creation is off."""
    plan = topic_plan(settings, instances)
    if not plan:
        return [CheckResult("topics.planned", Status.PASS, "the configuration plans no topic")]
    missing = [p.topic for p in plan if p.topic not in existing]
    out: list[CheckResult] = []
    if not missing:
        out.append(CheckResult("topics.planned", Status.PASS, f"all {len(plan)} planned topics exist"))
    elif settings.auto_create_topics:
        out.append(
            CheckResult(
                "topics.planned", Status.PASS,
                f"{len(missing)} of {len(plan)} planned topics missing; KAFKA_AUTO_CREATE_TOPICS=true creates them",
            )
        )
    else:
        shown = ", ".join(missing[:3]) + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else "")
        out.append(
            CheckResult(
                "topics.planned", Status.FAIL,
                f"{len(missing)} of {len(plan)} planned topics missing with KAFKA_AUTO_CREATE_TOPICS=false: {shown}",
                "evokafka topics create --yes (or set KAFKA_AUTO_CREATE_TOPICS=true)",
            )
        )
    short = [p.topic for p in plan if p.topic in existing and existing[p.topic] < p.partitions]
    if short:
        out.append(
            CheckResult(
                "topics.partitions", Status.WARN,
                f"{len(short)} topics have fewer partitions than KAFKA_NUM_PARTITIONS={settings.num_partitions}: "
                + ", ".join(short[:3]),
                "add partitions with your Kafka tools (evokafka topics diff lists them)",
            )
        )
    misnamed = [t for t in existing if (ref := parse_topic(t, settings.topic_prefix)) is not None and ref.misnamed]
    if misnamed:
        out.append(
            CheckResult(
                "topics.misnamed", Status.WARN,
                f"{', '.join(sorted(misnamed)[:3])}: Evolution API's auto-created name; events go to "
                f"'{catalog.BY_NAME['GROUP_PARTICIPANTS_UPDATE'].wire}'",
                "consumers must read group-participants.update; the misnamed topic stays empty",
            )
        )
    return out


async def check_lag(
    settings: KafkaSettings, options: ConnectionOptions, existing: Mapping[str, int]
) -> CheckResult:
    """Consumer lag of ``KAFKA_CONSUMER_GROUP_ID`` on the event topics under the prefix."""
    group = settings.consumer_group_id
    topics = {t: n for t, n in existing.items() if parse_topic(t, settings.topic_prefix) is not None}
    if not topics:
        return CheckResult("consumer.lag", Status.SKIP, f"no event topic under {settings.topic_prefix!r} yet", "", group)
    found = await group_lag(options, group, sorted(topics))
    committed = len(found.partitions)
    total = found.total
    per_topic: dict[str, int] = {}
    for row in found.partitions:
        per_topic[row.topic] = per_topic.get(row.topic, 0) + (row.lag or 0)
    if committed == 0:
        return CheckResult(
            "consumer.lag", Status.WARN, f"group {group!r} has committed no offset on {len(topics)} event topics",
            "start a consumer with this group id, or set KAFKA_CONSUMER_GROUP_ID to the consumers' group", group,
        )
    worst = max(per_topic.items(), key=lambda item: item[1])
    if total > LAG_WARN:
        return CheckResult(
            "consumer.lag", Status.WARN, f"lag {total} records (most on {worst[0]}: {worst[1]})",
            "add consumers to the group, speed up processing, or add partitions", group,
        )
    return CheckResult("consumer.lag", Status.PASS, f"lag {total} records over {committed} partitions", "", group)


async def check_idempotence(options: ConnectionOptions) -> CheckResult:
    """Whether the broker hands out producer ids (what ``enable_idempotence`` needs). Writes nothing."""
    host, port = split_broker(options.bootstrap_servers[0])
    budget = step_timeout(options) + options.request_timeout_ms / 1000
    fix = (
        "the publisher carries on with acks=all and one request in flight; enable idempotent producers "
        "on the broker for exactly-once"
    )
    try:
        conn = await open_broker_connection(host, port, kwargs_with_sasl(options), budget)
    except Exception as exc:
        return failed_check("producer.idempotence", exc, None)
    try:
        response = await asyncio.wait_for(conn.send(InitProducerIdRequest(None, 60000)), timeout=budget)
        code = int(getattr(response, "error_code", -1))
    except Exception as exc:
        return CheckResult("producer.idempotence", Status.WARN, f"InitProducerId failed ({diagnose(exc).summary})", fix)
    finally:
        conn.close()
    if code != 0:
        from aiokafka.errors import for_code

        return CheckResult(
            "producer.idempotence", Status.WARN, f"the broker refuses producer ids ({for_code(code).__name__})", fix
        )
    return CheckResult("producer.idempotence", Status.PASS, "the broker hands out producer ids")


InstancesSource = Callable[[], Awaitable[Mapping[str, InstanceSettings] | None]]
"""Where the doctor reads the instances from: the registry topic by default, or the console's own registry."""


class RegistryReading:
    """An :data:`InstancesSource` reading the registry topic once (read-only: the doctor never creates it), or
    asking a registry already followed (:meth:`following`), and keeping what the registry skipped:
    ``(key, offset, why)`` of each record it could not use."""

    def __init__(
        self, settings: KafkaSettings, options: ConnectionOptions, topic: str, *, running: InstanceRegistry | None = None
    ) -> None:
        self.settings, self.options, self.topic = settings, options, topic
        self.running = running
        self.skipped: list[tuple[str | None, int, str]] = []

    @classmethod
    def following(cls, registry: InstanceRegistry) -> RegistryReading:
        """Answer from ``registry``, started and followed by its owner (the console's): no second reader."""
        return cls(registry.settings, registry.options, registry.topic, running=registry)

    async def __call__(self) -> Mapping[str, InstanceSettings] | None:
        from tui.kafka.registry import InstanceRegistry

        if self.running is not None:
            self.skipped = [(p.key, p.offset, p.reason) for p in self.running.problems]
            return self.running.all() if self.running.synced else None
        registry = InstanceRegistry(self.settings, topic=self.topic, options=self.options, read_only=True)
        try:
            await registry.start()
        except Exception:
            return None
        try:
            self.skipped = [(p.key, p.offset, p.reason) for p in registry.problems]
            return registry.all()
        finally:
            await registry.stop()


def registry_source(settings: KafkaSettings, options: ConnectionOptions, topic: str) -> RegistryReading:
    """Read the instance registry (read-only: the doctor never creates its topic)."""
    return RegistryReading(settings, options, topic)


def check_skipped(skipped: list[tuple[str | None, int, str]], topic: str) -> list[CheckResult]:
    """One warning per registry record skipped (key, offset, why): an instance there may be missing its
    settings."""
    return [
        CheckResult(
            "registry.record", Status.WARN, f"record at offset {offset} of {topic} skipped: {why}",
            "rewrite the instance's settings (evokafka instances set …); a null value deletes the record",
            key if key is not None else "(no key)",
        )
        for key, offset, why in skipped
    ]
