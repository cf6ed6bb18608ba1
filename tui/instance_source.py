"""The instance-source contract: where the console and ``evokafka instances`` take instances and their Kafka
toggles from (Evolution API or the cluster registry; the implementations live in :mod:`tui.evolution.source`).

The interface, for callers (every coroutine raises only errors in ``tui.evolution.source.SOURCE_ERRORS``, each one
line):

``label``            what the header shows, e.g. ``Evolution API http://evo:8080`` or ``registry __evokafka_instances``
``origin``           :class:`Origin` of this source's instances
``live``             True when :meth:`subscribe` reports changes; False: poll every ``refresh_interval`` seconds
``await start()`` / ``await stop()``   (the registry's own lifecycle stays with its owner)
``await instances(discovered=())``     every instance, sorted by name; names in ``discovered`` (seen in topics)
                     that the source does not know are added with origin ``DISCOVERED`` and no settings
``await get(name)``  one instance, re-read from the source
``await set(name, enabled, events)``   the ``/kafka/set`` semantics; returns the instance as stored
``await toggle(name, event)`` / ``await enable(name)`` / ``await disable(name)``   the same, one step
``refuses(event)``   None, or why this source cannot switch ``event`` on (shown beside the toggle)
``subscribe(callback)``  ``callback(name)`` on a change; returns the unsubscribe

Each instance is a :class:`SourceInstance`: ``enables(event)`` says whether a toggle is on,
``covers_every_event`` whether every catalog event goes; ``warning`` is a line to show when the source silently
misses events (Evolution's "all events" never publishes ``groups.update`` and ``send.message.update``). Instances
seen in the cluster's topics are :class:`DiscoveredInstance`.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from tui import catalog
from tui.evolution.models import ConnectionStatus, KafkaRecord
from tui.instance_settings import InstanceSettings
from tui.topology import Layout


class Origin(StrEnum):
    """Where an instance shown in the console comes from."""

    EVOLUTION = "evolution"
    REGISTRY = "registry"
    DISCOVERED = "discovered"
    """Seen in the cluster's topics, unknown to the source: shown, marked, no toggles."""


@dataclass(frozen=True, slots=True)
class SourceInstance:
    """One instance as a source shows it."""

    name: str
    origin: Origin
    settings: InstanceSettings | None
    """What goes to the per-instance topics, as evokafka settings; None when the instance has no Kafka settings.
    For Evolution, only what it really publishes (an enabled record with nothing publishable shows disabled)."""
    connection_status: ConnectionStatus | None = None
    """WhatsApp connection (Evolution only)."""
    number: str | None = None
    """The number to show: Evolution's ``number``, else the user part of ``ownerJid``."""
    owner_jid: str | None = None
    profile_name: str | None = None
    integration: str | None = None
    record: KafkaRecord | None = None
    """Evolution's Kafka record as stored (its spelling), when the source is Evolution."""
    missed: tuple[catalog.Event, ...] = ()
    """Events the record asks for that the server never publishes (Evolution's "all" quirk)."""
    in_topics: bool = False
    """Also seen in the cluster's topics."""

    def enables(self, event: catalog.Event) -> bool:
        """Whether ``event`` goes to this instance's topic (the toggle is on)."""
        return self.settings is not None and self.settings.enables(event)

    @property
    def covers_every_event(self) -> bool:
        """Every catalog event goes to the instance's topic: the registry's empty list ("all events"), or a record
        that spells every event out. The one answer the table and ``evokafka instances`` both show as "all"."""
        cfg = self.settings
        return cfg is not None and cfg.enabled and (cfg.all_events or len(cfg.enabled_events()) == len(catalog.EVENTS))

    @property
    def kafka_enabled(self) -> bool:
        """The instance's Kafka switch as stored (Evolution's ``enabled``, the registry's ``enabled``)."""
        if self.record is not None:
            return self.record.enabled
        return self.settings is not None and self.settings.enabled

    @property
    def toggleable(self) -> bool:
        """Whether toggles can be changed through the source (not for discovered instances)."""
        return self.origin is not Origin.DISCOVERED

    @property
    def warning(self) -> str | None:
        """A line to show the operator when events are silently missed, else None."""
        if not self.missed:
            return None
        names = ", ".join(e.wire for e in self.missed)
        return (
            f"Evolution API never publishes {names} for this instance (asked for as GROUP_UPDATE; its publisher "
            "looks for GROUPS_UPDATE)"
        )


Listener = Callable[[str], None]


class InstanceSource(ABC):
    """Instances and their Kafka toggles, from one place (see the module docstring for the contract)."""

    origin: Origin
    label: str
    live: bool = False
    refresh_interval: float | None = None

    async def start(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Get ready (nothing by default)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release what the source holds (nothing by default)."""

    @abstractmethod
    async def known(self) -> list[SourceInstance]:
        """Every instance the source knows, sorted by name."""

    async def instances(self, discovered: Iterable[str] = ()) -> list[SourceInstance]:
        """Every instance, with names seen in topics added (``DISCOVERED``) or marked ``in_topics``."""
        seen = set(discovered)
        items = {i.name: replace(i, in_topics=i.name in seen) for i in await self.known()}
        for name in seen - set(items):
            items[name] = SourceInstance(name, Origin.DISCOVERED, None, in_topics=True)
        return [items[name] for name in sorted(items)]

    @abstractmethod
    async def get(self, name: str) -> SourceInstance:
        """One instance, re-read from the source."""

    @abstractmethod
    async def set(self, name: str, enabled: bool, events: Iterable[str | catalog.Event] = ()) -> SourceInstance:
        """``/kafka/set`` semantics: disabled → no events; enabled with none → all. Returns it as stored."""

    @abstractmethod
    async def toggle(self, name: str, event: catalog.Event | str) -> SourceInstance:
        """Switch one event of ``name`` on or off."""

    @abstractmethod
    async def enable(self, name: str) -> SourceInstance:
        """Turn Kafka on for ``name``, keeping its events (none kept: all events)."""

    @abstractmethod
    async def disable(self, name: str) -> SourceInstance:
        """Turn Kafka off for ``name`` (stored with no events)."""

    def refuses(self, event: catalog.Event) -> str | None:
        """Why this source cannot switch ``event`` on, or None."""
        return None

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """``callback(name)`` on each change the source reports (none unless :attr:`live`)."""
        return lambda: None


@dataclass
class DiscoveredInstance:
    """An instance seen in the cluster: in which layouts, with which events (wire names)."""

    name: str
    layouts: set[Layout] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    """Wire names (``messages.upsert``) of the events seen for this instance."""
    last_seen_ms: int | None = None
    """Timestamp of the newest global-topic record read for it (None when seen in topic names only)."""


class Change(StrEnum):
    """A change to one instance's Kafka settings asked for in the console."""

    TOGGLE = "toggle"
    ENABLE = "enable"
    DISABLE = "disable"
    ALL = "all"
    """Enabled with no event list: the source's "all events"."""
    EACH = "each"
    """Enabled with every event the source accepts, listed one by one."""
