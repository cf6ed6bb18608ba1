"""The topic plan against the cluster: what is missing, unexpected, wrongly partitioned or misnamed.

The plan is :func:`tui.topology.topic_plan` over the configuration and the registry's instances. The diff
compares it with the cluster's topics under the prefix; Evolution API's own ``group.participants.update``
(it creates that name but publishes to ``group-participants.update``) is reported as *misnamed*, not as an
unexpected topic. Creating the missing topics goes through :class:`tui.kafka.admin.Admin`, which refuses in
read-only mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui import catalog
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.topology import Layout, PlannedTopic, parse_topic, topic_name, topic_plan

if TYPE_CHECKING:
    from tui.kafka.registry import InstanceRegistry


def planned_json(topic: PlannedTopic) -> dict[str, Any]:
    """A planned topic as plain JSON."""
    return {
        "topic": topic.topic,
        "layout": topic.layout.value,
        "instance": topic.instance,
        "event": topic.event.wire,
        "setting": topic.event.name,
        "partitions": topic.partitions,
        "replication": topic.replication,
    }


@dataclass(frozen=True, slots=True)
class PartitionMismatch:
    """A planned topic that exists with another partition count."""

    topic: PlannedTopic
    actual: int

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"topic": self.topic.topic, "planned": self.topic.partitions, "actual": self.actual}


@dataclass(frozen=True, slots=True)
class MisnamedTopic:
    """A topic under Evolution API's auto-created name; the events go to ``published_to``."""

    topic: str
    published_to: str
    event: catalog.Event

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "topic": self.topic,
            "published_to": self.published_to,
            "event": self.event.wire,
            "why": "Evolution API auto-creates this name but publishes to the other one",
        }


@dataclass(frozen=True, slots=True)
class TopicDiff:
    """The plan against the cluster."""

    plan: tuple[PlannedTopic, ...]
    present: tuple[PlannedTopic, ...]
    missing: tuple[PlannedTopic, ...]
    unexpected: tuple[str, ...]
    """Event topics under the prefix that the plan does not hold."""
    wrong_partitions: tuple[PartitionMismatch, ...]
    misnamed: tuple[MisnamedTopic, ...]

    @property
    def in_sync(self) -> bool:
        """Nothing missing, unexpected, wrongly partitioned or misnamed."""
        return not (self.missing or self.unexpected or self.wrong_partitions or self.misnamed)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "in_sync": self.in_sync,
            "planned": len(self.plan),
            "present": [t.topic for t in self.present],
            "missing": [planned_json(t) for t in self.missing],
            "unexpected": list(self.unexpected),
            "wrong_partitions": [m.to_json() for m in self.wrong_partitions],
            "misnamed": [m.to_json() for m in self.misnamed],
        }


def plan(
    settings: KafkaSettings,
    instances: Mapping[str, InstanceSettings],
    layouts: Iterable[Layout] | None = None,
) -> list[PlannedTopic]:
    """The topics the configuration and ``instances`` imply (``layouts`` None: the configured ones)."""
    return topic_plan(settings, instances, layouts)


def diff(planned: Iterable[PlannedTopic], existing: Mapping[str, int], prefix: str) -> TopicDiff:
    """Compare ``planned`` with ``existing`` (topic → partition count) under ``prefix``."""
    wanted = {p.topic: p for p in planned}
    present: list[PlannedTopic] = []
    missing: list[PlannedTopic] = []
    wrong: list[PartitionMismatch] = []
    for name in sorted(wanted):
        topic = wanted[name]
        if name not in existing:
            missing.append(topic)
            continue
        present.append(topic)
        if existing[name] != topic.partitions:
            wrong.append(PartitionMismatch(topic, existing[name]))
    unexpected: list[str] = []
    misnamed: list[MisnamedTopic] = []
    for name in sorted(existing):
        if name in wanted:
            continue
        ref = parse_topic(name, prefix)
        if ref is None:
            continue
        if ref.misnamed:
            target = topic_name(prefix, ref.layout, ref.instance or "", ref.event)
            misnamed.append(MisnamedTopic(name, target, ref.event))
        else:
            unexpected.append(name)
    return TopicDiff(tuple(wanted[k] for k in sorted(wanted)), tuple(present), tuple(missing), tuple(unexpected),
                     tuple(wrong), tuple(misnamed))


def specs(topics: Iterable[PlannedTopic]) -> list[TopicSpec]:
    """What :meth:`Admin.create_topics` is given for ``topics``."""
    return [TopicSpec(t.topic, t.partitions, t.replication) for t in topics]


async def registry_instances(
    settings: KafkaSettings, options: ConnectionOptions, registry_topic: str
) -> dict[str, InstanceSettings]:
    """The registry's instances, read without writing (a missing registry topic means no instance).

    :class:`ClusterUnreachableError` when the cluster does not answer.
    """
    async with _read_registry(settings, options, registry_topic) as registry:
        return registry.all()


@contextlib.asynccontextmanager
async def _read_registry(
    settings: KafkaSettings, options: ConnectionOptions, registry_topic: str
) -> AsyncIterator[InstanceRegistry]:
    """The registry, started read-only (replayed to its end), stopped on the way out."""
    from tui.kafka.registry import InstanceRegistry

    registry = InstanceRegistry(settings, topic=registry_topic, options=options, read_only=True)
    await registry.start()
    try:
        yield registry
    finally:
        await registry.stop()


async def registry_diff(
    settings: KafkaSettings,
    options: ConnectionOptions,
    registry_topic: str,
    layouts: Iterable[Layout] | None = None,
) -> TopicDiff:
    """:func:`cluster_diff` of the registry's instances (read as :func:`registry_instances` reads them).

    The cluster's topics are the ones the registry reader's connection was answered with, when that answer
    listed them (the test broker lists every topic there): one connection and one decode of a list that takes
    ~20-70 ms to decode at 6,200 topics, instead of a second client asking again after the replay. Else they
    are asked through an admin client, as :func:`cluster_diff` does."""
    async with _read_registry(settings, options, registry_topic) as registry:
        instances = registry.all()
        topics = await registry.topics_at_connect()
    if topics is None:
        return await cluster_diff(settings, options, instances, layouts)
    return diff(plan(settings, instances, layouts), topics, settings.topic_prefix)


async def cluster_diff(
    settings: KafkaSettings,
    options: ConnectionOptions,
    instances: Mapping[str, InstanceSettings],
    layouts: Iterable[Layout] | None = None,
) -> TopicDiff:
    """The plan against the cluster's topics now."""
    async with Admin(options) as admin:
        existing = await admin.topics()
    return diff(plan(settings, instances, layouts), existing, settings.topic_prefix)


async def create_missing(
    options: ConnectionOptions, missing: Iterable[PlannedTopic], *, read_only: bool = False
) -> list[str]:
    """Create ``missing``; returns the names created. :class:`tui.kafka.admin.ReadOnlyError` when read-only."""
    async with Admin(options, read_only=read_only) as admin:
        return await admin.create_topics(specs(missing))


