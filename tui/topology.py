"""Topic layouts: topic names, message keys, parsing a topic back, routing and the topic plan.

- per-instance: ``<prefix>.<instance>.<wire name>``, key ``<instance>``
- global: ``<prefix>.global.<wire name>``, key ``<instance>-<wire name>``

Pure domain module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tui import catalog
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings

MAX_TOPIC_LENGTH = 249
GLOBAL = "global"
_LEGAL = re.compile(r"^[A-Za-z0-9._-]+$")
_LONGEST_WIRE = max(len(e.wire) for e in catalog.EVENTS)
_TOPIC_SUFFIXES: dict[str, tuple[catalog.Event, bool]] = {
    **{made: (catalog.BY_WIRE[real], True) for real, made in catalog.EVOLUTION_MISNAMED_TOPIC.items()},
    **{wire: (catalog.BY_WIRE[wire], False) for wire in catalog.WIRE_NAMES},
}
"""Every topic suffix an event topic can end with: the event and whether it is Evolution API's misnamed one."""


class Layout(StrEnum):
    """The two topic layouts of the integration."""

    INSTANCE = "instance"
    GLOBAL = "global"


class InstanceNameError(ValueError):
    """An instance name that cannot form a legal Kafka topic name."""


def validate_instance(name: str, prefix: str = "evolution") -> str:
    """Return ``name`` if it forms legal topics for every event under ``prefix``; else a clear error."""
    if not name:
        raise InstanceNameError("illegal instance name '': it is empty")
    if not _LEGAL.match(name):
        bad = sorted({c for c in name if not re.match(r"[A-Za-z0-9._-]", c)})
        shown = " ".join(repr(c) for c in bad[:5])
        raise InstanceNameError(
            f"illegal instance name {name!r}: {shown} not allowed; use letters, digits, '.', '_', '-'"
        )
    if name == GLOBAL:
        raise InstanceNameError("illegal instance name 'global': it is the global topics' namespace")
    longest = len(prefix) + 1 + len(name) + 1 + _LONGEST_WIRE
    if longest > MAX_TOPIC_LENGTH:
        limit = MAX_TOPIC_LENGTH - len(prefix) - 2 - _LONGEST_WIRE
        raise InstanceNameError(
            f"illegal instance name {name[:20]!r}…: {len(name)} characters, at most {limit} with prefix {prefix!r}"
        )
    return name


def topic_name(prefix: str, layout: Layout, instance: str, event: catalog.Event) -> str:
    """The topic ``event`` of ``instance`` goes to in ``layout``."""
    middle = GLOBAL if layout is Layout.GLOBAL else instance
    return f"{prefix}.{middle}.{event.wire}"


def message_key(layout: Layout, instance: str, event: catalog.Event) -> str:
    """The record key: the instance name, or ``<instance>-<wire name>`` on global topics."""
    return f"{instance}-{event.wire}" if layout is Layout.GLOBAL else instance


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A topic parsed back into its layout, instance (None on global topics) and event."""

    topic: str
    layout: Layout
    instance: str | None
    event: catalog.Event
    misnamed: bool = False
    """Evolution API's auto-created ``group.participants.update`` instead of the published name."""


def parse_topic(topic: str, prefix: str) -> TopicRef | None:
    """Parse ``topic`` using the known prefix and event suffix; None when it is not an event topic."""
    head = prefix + "."
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :]
    # The longest known suffix after a non-empty middle: the first dot from the left whose tail is one (one
    # dictionary look-up per dot, not a comparison per event: discovery parses every topic of the cluster).
    dot = rest.find(".", 1)
    while dot != -1:
        found = _TOPIC_SUFFIXES.get(rest[dot + 1 :])
        if found is not None:
            event, misnamed = found
            middle = rest[:dot]
            if middle == GLOBAL:
                return TopicRef(topic, Layout.GLOBAL, None, event, misnamed)
            if not _LEGAL.match(middle):
                return None
            return TopicRef(topic, Layout.INSTANCE, middle, event, misnamed)
        dot = rest.find(".", dot + 1)
    return None


class Reason(StrEnum):
    """Why an event goes, or does not go, to a topic."""

    KAFKA_DISABLED = "KAFKA_ENABLED=false"
    INSTANCE_ENABLED = "instance enabled for this event"
    INSTANCE_ALL = "instance enabled for all events"
    INSTANCE_DISABLED = "instance disabled"
    INSTANCE_UNKNOWN = "instance has no Kafka settings"
    INSTANCE_EVENT_OFF = "event not in the instance's list"
    GLOBAL_OFF = "KAFKA_GLOBAL_ENABLED=false"
    GLOBAL_EVENT_ON = "KAFKA_EVENTS_{name}=true"
    GLOBAL_EVENT_OFF = "KAFKA_EVENTS_{name}=false"


@dataclass(frozen=True, slots=True)
class Target:
    """One record to send: topic and key in a layout."""

    layout: Layout
    topic: str
    key: str


@dataclass(frozen=True, slots=True)
class Route:
    """Where an event of an instance goes now, and why."""

    targets: tuple[Target, ...]
    reasons: tuple[str, ...]

    @property
    def where(self) -> str:
        """``per-instance``, ``global``, ``both`` or ``nowhere``."""
        layouts = {t.layout for t in self.targets}
        if layouts == {Layout.INSTANCE, Layout.GLOBAL}:
            return "both"
        if layouts == {Layout.INSTANCE}:
            return "per-instance"
        if layouts == {Layout.GLOBAL}:
            return "global"
        return "nowhere"


def route(
    settings: KafkaSettings, instance: str, event: catalog.Event, instance_settings: InstanceSettings | None
) -> Route:
    """The design's routing rule: per-instance when the instance enables the event, global when
    ``KAFKA_GLOBAL_ENABLED`` and ``KAFKA_EVENTS_<NAME>`` hold, both when both, nothing when Kafka is off."""
    if not settings.enabled:
        return Route((), (Reason.KAFKA_DISABLED.value,))
    targets: list[Target] = []
    reasons: list[str] = []
    prefix = settings.topic_prefix
    if instance_settings is None:
        reasons.append(Reason.INSTANCE_UNKNOWN.value)
    elif not instance_settings.enabled:
        reasons.append(Reason.INSTANCE_DISABLED.value)
    elif instance_settings.enables(event):
        reasons.append((Reason.INSTANCE_ALL if instance_settings.all_events else Reason.INSTANCE_ENABLED).value)
        targets.append(
            Target(
                Layout.INSTANCE,
                topic_name(prefix, Layout.INSTANCE, instance, event),
                message_key(Layout.INSTANCE, instance, event),
            )
        )
    else:
        reasons.append(Reason.INSTANCE_EVENT_OFF.value)
    if not settings.global_enabled:
        reasons.append(Reason.GLOBAL_OFF.value)
    elif settings.event_enabled(event):
        reasons.append(Reason.GLOBAL_EVENT_ON.value.format(name=event.name))
        targets.append(
            Target(
                Layout.GLOBAL,
                topic_name(prefix, Layout.GLOBAL, instance, event),
                message_key(Layout.GLOBAL, instance, event),
            )
        )
    else:
        reasons.append(Reason.GLOBAL_EVENT_OFF.value.format(name=event.name))
    return Route(tuple(targets), tuple(reasons))


@dataclass(frozen=True, slots=True)
class PlannedTopic:
    """A topic the configuration and the instances' settings imply."""

    topic: str
    layout: Layout
    instance: str | None
    event: catalog.Event
    partitions: int
    replication: int


def topic_plan(
    settings: KafkaSettings,
    instances: Mapping[str, InstanceSettings],
    layouts: Iterable[Layout] | None = None,
) -> list[PlannedTopic]:
    """The topics that ``settings`` and ``instances`` imply, sorted by name.

    ``layouts`` None means: the ones the configuration uses (global only when ``KAFKA_GLOBAL_ENABLED``).
    """
    chosen = set(layouts) if layouts is not None else {Layout.INSTANCE} | (
        {Layout.GLOBAL} if settings.global_enabled else set()
    )
    plan: dict[str, PlannedTopic] = {}
    prefix = settings.topic_prefix
    parts, rf = settings.num_partitions, settings.replication_factor
    if not settings.enabled:
        return []
    if Layout.GLOBAL in chosen:
        for event in catalog.EVENTS:
            if settings.event_enabled(event):
                name = topic_name(prefix, Layout.GLOBAL, "", event)
                plan[name] = PlannedTopic(name, Layout.GLOBAL, None, event, parts, rf)
    if Layout.INSTANCE in chosen:
        for instance, cfg in instances.items():
            for event in cfg.enabled_events():
                name = topic_name(prefix, Layout.INSTANCE, instance, event)
                plan[name] = PlannedTopic(name, Layout.INSTANCE, instance, event, parts, rf)
    return [plan[k] for k in sorted(plan)]
