"""What Evolution API 2.3.6 would do with one event of one instance: publish it, where, and why not.

One function, :func:`evolution_route`, follows ``KafkaController.emit`` step by step:

1. an instance whose integration list is given and lacks Kafka: nothing;
2. ``KAFKA_ENABLED`` not ``true``: nothing;
3. no producer (its Kafka connection is down): the event is dropped with a warning, not queued;
4. per-instance topic when the instance's stored record is enabled and its ``events`` array holds
   ``we = event.replace(/[.-]/g, '_').toUpperCase()``;
5. global topic when ``KAFKA_GLOBAL_ENABLED`` and ``EVENTS[we]`` (28 keys, ``GROUP_UPDATE`` among them).

Consequences it reports: ``groups.update`` is never published (``we`` is ``GROUPS_UPDATE``: the ``/kafka/set``
schema never lets an instance store it, and ``EVENTS`` has ``GROUP_UPDATE``); STATUS_INSTANCE, REMOVE_INSTANCE
and LOGOUT_INSTANCE never go to a global topic (no variable). Topic names keep the wire name's hyphens.

Everything is a plain value, so a caller (the route panel, the publish preview, ``doctor``, ``explain``) can ask
with what it has. :func:`route_for` asks with evokafka's own settings objects.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tui import catalog
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.topology import InstanceNameError, Layout, Route, message_key, topic_name, validate_instance

EVOLUTION_ALL_EVENTS: tuple[str, ...] = (
    "APPLICATION_STARTUP", "QRCODE_UPDATED", "MESSAGES_SET", "MESSAGES_UPSERT", "MESSAGES_EDITED",
    "MESSAGES_UPDATE", "MESSAGES_DELETE", "SEND_MESSAGE", "SEND_MESSAGE_UPDATE", "CONTACTS_SET", "CONTACTS_UPSERT",
    "CONTACTS_UPDATE", "PRESENCE_UPDATE", "CHATS_SET", "CHATS_UPSERT", "CHATS_UPDATE", "CHATS_DELETE",
    "GROUPS_UPSERT", "GROUP_UPDATE", "GROUP_PARTICIPANTS_UPDATE", "CONNECTION_UPDATE", "LABELS_EDIT",
    "LABELS_ASSOCIATION", "CALL", "TYPEBOT_START", "TYPEBOT_CHANGE_STATUS", "REMOVE_INSTANCE", "LOGOUT_INSTANCE",
    "INSTANCE_CREATE", "INSTANCE_DELETE", "STATUS_INSTANCE",
)  # fmt: skip
"""``EventController.events`` (31 names, its order): the enum of the ``/kafka/set`` schema, and what Evolution
stores for "enabled, no events". ``SEND_MESSAGE_UPDATE`` is in it; ``GROUPS_UPDATE`` is not (``GROUP_UPDATE`` is)."""

NEVER_GLOBAL: frozenset[str] = frozenset({"STATUS_INSTANCE", "REMOVE_INSTANCE", "LOGOUT_INSTANCE"})


def evolution_name(event: catalog.Event) -> str:
    """Evolution's ``we`` for ``event``: the wire name with ``.`` and ``-`` as ``_``, upper case."""
    return event.wire.replace(".", "_").replace("-", "_").upper()


class Verdict(StrEnum):
    """Evolution's answer for one event."""

    PUBLISHED = "published"
    NOT_PUBLISHED = "not published"
    DROPPED = "dropped"
    """Would be published, but the Kafka connection is down: Evolution logs a warning and drops it."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One of the two places an event can go, and whether Evolution sends it there."""

    layout: Layout
    topic: str
    key: str
    taken: bool
    reason: str


@dataclass(frozen=True, slots=True)
class EvolutionRoute:
    """The answer of :func:`evolution_route`: a verdict, both legs, and the reasons in Evolution's order."""

    event: catalog.Event
    instance: str
    verdict: Verdict
    per_instance: Leg
    global_: Leg
    reasons: tuple[str, ...]

    @property
    def legs(self) -> tuple[Leg, Leg]:
        """Per-instance, then global."""
        return (self.per_instance, self.global_)

    @property
    def taken(self) -> tuple[Leg, ...]:
        """The legs Evolution sends to (none unless the verdict is PUBLISHED)."""
        if self.verdict is not Verdict.PUBLISHED:
            return ()
        return tuple(leg for leg in self.legs if leg.taken)

    @property
    def where(self) -> str:
        """``per-instance``, ``global``, ``both`` or ``nowhere``."""
        layouts = {leg.layout for leg in self.taken}
        if len(layouts) == 2:
            return "both"
        return next((layout.value if layout is Layout.GLOBAL else "per-instance" for layout in layouts), "nowhere")

    @property
    def summary(self) -> str:
        """One line: ``Evolution API 2.3.6: published to both`` / ``…: not published (reason; reason)``."""
        if self.verdict is Verdict.PUBLISHED:
            return f"Evolution API 2.3.6: published ({self.where}: {', '.join(leg.topic for leg in self.taken)})"
        return f"Evolution API 2.3.6: {self.verdict.value} ({'; '.join(self.reasons)})"


def evolution_route(
    event: catalog.Event | str,
    instance: str,
    *,
    kafka_enabled: bool = True,
    instance_enabled: bool | None = None,
    instance_events: Iterable[str] | None = None,
    global_enabled: bool = False,
    global_events: Mapping[str, bool] | None = None,
    integrations: Iterable[str] | None = None,
    connected: bool | None = True,
    prefix: str = "evolution",
) -> EvolutionRoute:
    """Would Evolution API 2.3.6 publish ``event`` of ``instance``, where, and why not.

    ``instance_enabled``/``instance_events``: the instance's stored Kafka record (None: it has none), events as
    stored (Evolution's spelling). ``global_events``: Evolution's ``EVENTS`` map (``KafkaSettings.evolution_events``;
    keys as Evolution holds them). ``integrations``: the instance's integration list when known (None: not known,
    taken as including Kafka). ``connected``: whether Evolution's producer is up (None: not known).
    """
    resolved = catalog.lookup(event) if isinstance(event, str) else event
    we = evolution_name(resolved)
    reasons: list[str] = []
    stopped: Verdict | None = None
    if integrations is not None and "kafka" not in {i.lower() for i in integrations}:
        stopped = Verdict.NOT_PUBLISHED
        reasons.append("the instance's integration list lacks Kafka")
    elif not kafka_enabled:
        stopped = Verdict.NOT_PUBLISHED
        reasons.append("KAFKA_ENABLED is not true")
    elif connected is False:
        stopped = Verdict.DROPPED
        reasons.append("Evolution's Kafka connection is down: the event is dropped with a warning, not queued")

    stored = list(instance_events or ())
    if we == "GROUPS_UPDATE":
        local_ok, local_why = False, (
            "groups.update is never published per instance: Evolution matches GROUPS_UPDATE, which its /kafka/set "
            "schema never lets an instance store (it takes GROUP_UPDATE)"
        )
    elif instance_enabled is None:
        local_ok, local_why = False, "the instance has no Kafka record"
    elif not instance_enabled:
        local_ok, local_why = False, "the instance's Kafka record is disabled"
    elif we in stored:
        local_ok, local_why = True, f"the instance's record lists {we}"
    else:
        local_ok, local_why = False, f"the instance's record does not list {we}"

    events = global_events or {}
    if not global_enabled:
        global_ok, global_why = False, "KAFKA_GLOBAL_ENABLED is not true"
    elif we in NEVER_GLOBAL:
        global_ok, global_why = False, f"{resolved.wire} never goes to a global topic (Evolution has no KAFKA_EVENTS_{we})"
    elif we == "GROUPS_UPDATE":
        global_ok, global_why = False, (
            "groups.update never goes to the global topic: the switch is stored as GROUP_UPDATE "
            "(from KAFKA_EVENTS_GROUPS_UPDATE) and looked up as GROUPS_UPDATE"
        )
    elif events.get(we):
        global_ok, global_why = True, f"KAFKA_EVENTS_{we} is true"
    else:
        global_ok, global_why = False, f"KAFKA_EVENTS_{we} is not true"

    per_instance = Leg(
        Layout.INSTANCE,
        topic_name(prefix, Layout.INSTANCE, instance, resolved),
        message_key(Layout.INSTANCE, instance, resolved),
        local_ok,
        local_why,
    )
    global_leg = Leg(
        Layout.GLOBAL,
        topic_name(prefix, Layout.GLOBAL, instance, resolved),
        message_key(Layout.GLOBAL, instance, resolved),
        global_ok,
        global_why,
    )
    if stopped is None:
        reasons.extend([local_why, global_why])
        verdict = Verdict.PUBLISHED if local_ok or global_ok else Verdict.NOT_PUBLISHED
    else:
        verdict = stopped
    return EvolutionRoute(resolved, instance, verdict, per_instance, global_leg, tuple(reasons))


def stored_events(settings: InstanceSettings) -> tuple[str, ...]:
    """The ``events`` array Evolution would hold for evokafka's ``settings``: as sent when they were set over
    ``/kafka/set``; "enabled, no events" as Evolution's whole list; else the settings names."""
    if settings.sent is not None:
        return settings.sent
    if settings.all_events:
        return EVOLUTION_ALL_EVENTS
    return settings.events


def route_for(
    settings: KafkaSettings,
    instance: str,
    event: catalog.Event | str,
    instance_settings: InstanceSettings | None,
    *,
    integrations: Iterable[str] | None = None,
    connected: bool | None = None,
) -> EvolutionRoute:
    """:func:`evolution_route` with evokafka's settings objects."""
    return evolution_route(
        event,
        instance,
        kafka_enabled=settings.enabled,
        instance_enabled=None if instance_settings is None else instance_settings.enabled,
        instance_events=None if instance_settings is None else stored_events(instance_settings),
        global_enabled=settings.global_enabled,
        global_events=settings.evolution_events(),
        integrations=integrations,
        connected=connected,
        prefix=settings.topic_prefix,
    )


def differences(own: Route, evolution: EvolutionRoute) -> list[str]:
    """Where evokafka's own publisher (``own``, :func:`tui.topology.route`) sends what Evolution would not, one
    line each (empty when both agree)."""
    theirs = {leg.topic for leg in evolution.taken}
    lines = []
    for target in own.targets:
        if target.topic not in theirs:
            leg = evolution.per_instance if target.layout is Layout.INSTANCE else evolution.global_
            why = "; ".join(evolution.reasons) if evolution.verdict is not Verdict.PUBLISHED else leg.reason
            lines.append(f"evokafka sends to {target.topic}; Evolution API 2.3.6 would not: {why}")
    return lines


def name_problem(instance: str, prefix: str, found: Route) -> str | None:
    """Why ``instance`` cannot be sent along ``found``, or None.

    Evolution API allows instance names a Kafka topic cannot hold ("Loja Centro"): such a name is fine while every
    target is a global topic; it is the problem when the route needs the instance's own topic, or goes nowhere
    (then the name is the news). An empty name is always one.
    """
    try:
        validate_instance(instance, prefix)
    except InstanceNameError as exc:
        if not instance:
            return str(exc)
        if not found.targets or any(t.layout is Layout.INSTANCE for t in found.targets):
            return f"{exc}; its per-instance topic cannot exist (global topics are fine)"
    return None
