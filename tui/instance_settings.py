"""Per-instance Kafka settings: the reference's ``POST /kafka/set/<instance>`` semantics.

Body ``{"kafka": {"enabled": bool, "events": [...]}}``: disabled is stored with no events; enabled with an
empty list means all events. Events are accepted by either name and stored by settings name.

Pure domain module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat
from typing import Any, Protocol

from tui import catalog


class InstanceSettingsError(ValueError):
    """A registry value or a ``/kafka/set`` body that is not of the expected shape."""


MAX_STORED_BYTES = 64 * 1024
"""The largest registry value read: a real one (``enabled``, at most 31 event names, ``updated_at``) is under
2 KB; anything bigger is refused before it is parsed, so a garbage record costs no more than its fetch."""


def check_stored_size(value: bytes | None) -> None:
    """:class:`InstanceSettingsError` naming the size when a registry value is over :data:`MAX_STORED_BYTES`
    (the reader skips it and reports it, key and offset, with its other skipped records)."""
    if value is not None and len(value) > MAX_STORED_BYTES:
        raise InstanceSettingsError(
            f"value of {len(value):,} bytes is over the {MAX_STORED_BYTES:,}-byte limit of a registry entry"
        )


@dataclass(frozen=True, slots=True)
class InstanceSettings:
    """One instance's Kafka settings."""

    enabled: bool = False
    events: tuple[str, ...] = ()
    """Settings names, catalog order. Empty while enabled means every event."""
    updated_at: str = field(default="")
    """ISO-8601 time of the last change, ``Z`` suffix."""
    sent: tuple[str, ...] | None = None
    """The ``events`` array as a ``/kafka/set`` caller sent it (Evolution stores it so: its spelling, order and
    repeats; "enabled, no events" as its whole list). None when the settings were changed otherwise."""
    has_record: bool = True
    """False for an entry that only keeps the instance's token (``instances set NAME --token``): the instance
    exists, ``kafka/find`` answers ``null`` until its Kafka settings are set."""
    token: str = field(default="", repr=False)
    """The instance's own API key (Evolution's instance token), accepted by ``evokafka serve`` for this instance
    like the global key. Never shown unmasked."""

    @classmethod
    def from_request(
        cls, enabled: bool, events: Iterable[str] = (), updated_at: str | None = None
    ) -> InstanceSettings:
        """Settings as ``/kafka/set`` stores them; unknown event names raise ``UnknownEventError``."""
        return cls(enabled=enabled, events=_stored_events(enabled, tuple(events)), updated_at=updated_at or now_iso())

    @property
    def all_events(self) -> bool:
        """Enabled with an empty list: every event."""
        return self.enabled and not self.events

    def enables(self, event: catalog.Event) -> bool:
        """Whether this instance publishes ``event`` to its per-instance topic."""
        return self.enabled and (not self.events or event.name in self.events)

    def enabled_events(self) -> list[catalog.Event]:
        """The events that go to the per-instance topics, catalog order."""
        return [e for e in catalog.EVENTS if self.enables(e)]

    def with_enabled(self, enabled: bool) -> InstanceSettings:
        """Enable or disable, keeping the event list when enabling (disabling stores no events)."""
        return InstanceSettings.from_request(enabled, self.events if enabled else ()).with_token(self.token)

    @classmethod
    def token_only(cls, token: str) -> InstanceSettings:
        """An entry that keeps the instance's token and has no Kafka settings yet."""
        return cls(enabled=False, updated_at=now_iso(), has_record=False, token=token)

    def with_token(self, token: str) -> InstanceSettings:
        """The same settings with the instance's own API key (empty: none)."""
        return replace(self, token=token)

    def with_sent(self, sent: Iterable[str] | None) -> InstanceSettings:
        """The same settings remembering the ``events`` array exactly as sent (see :attr:`sent`)."""
        return replace(self, sent=None if sent is None else tuple(sent))

    def toggled(self, event: catalog.Event) -> InstanceSettings:
        """The same settings with ``event`` switched; "all events" becomes all-but-one when switched off."""
        current = {e.name for e in self.enabled_events()}
        if event.name in current:
            current.discard(event.name)
            if not current:
                return InstanceSettings.from_request(False, ()).with_token(self.token)
        else:
            current.add(event.name)
        if len(current) == len(catalog.EVENTS):
            return InstanceSettings.from_request(True, ()).with_token(self.token)
        return InstanceSettings.from_request(True, current).with_token(self.token)

    def to_json(self) -> dict[str, Any]:
        """The registry value: ``{"enabled", "events", "updated_at"}``, plus ``sent`` and ``token`` when set."""
        value: dict[str, Any] = {"enabled": self.enabled, "events": list(self.events), "updated_at": self.updated_at}
        if self.sent is not None:
            value["sent"] = list(self.sent)
        if self.token:
            value["token"] = self.token
        if not self.has_record:
            value["has_record"] = False
        return value

    @classmethod
    def from_json(cls, value: Any) -> InstanceSettings:
        """Parse a registry value; :class:`InstanceSettingsError` when it is not of that shape.

        A registry replay parses every record of the topic (10,000 at scale, on the command's critical path):
        the checks take the common shapes first (a ``dict`` from ``orjson``; event lists resolved before, through
        :func:`_stored_events`'s bounded cache)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InstanceSettingsError("not a JSON object")
        get = value.get
        enabled = get("enabled")
        events = get("events", [])
        updated_at = get("updated_at", "")
        if enabled is not True and enabled is not False:  # a bool (bool cannot be subclassed)
            raise InstanceSettingsError("'enabled' is not true/false")
        if not isinstance(events, list) or not all(map(isinstance, events, repeat(str))):
            raise InstanceSettingsError("'events' is not a list of names")
        if not isinstance(updated_at, str):
            raise InstanceSettingsError("'updated_at' is not a string")
        sent = get("sent")
        if sent is not None and (not isinstance(sent, list) or not all(isinstance(e, str) for e in sent)):
            raise InstanceSettingsError("'sent' is not a list of names")
        token = get("token", "")
        if not isinstance(token, str):
            raise InstanceSettingsError("'token' is not a string")
        try:
            ordered = _stored_events(enabled, tuple(events))
        except catalog.UnknownEventError as exc:
            raise InstanceSettingsError(str(exc)) from None
        return cls(
            enabled,
            ordered,
            updated_at or now_iso(),
            None if sent is None else tuple(sent),
            get("has_record", True) is not False,
            token,
        )


CACHED_LIST_NAMES = 64
"""Event lists up to this long are remembered once resolved (a real one has at most 31 names)."""


def _stored_events(enabled: bool, events: tuple[str, ...]) -> tuple[str, ...]:
    """``events`` as stored: settings names in catalog order, none when disabled; unknown names raise
    ``UnknownEventError``. A registry replay resolves the same few lists thousands of times: short ones are
    remembered (a bounded cache of short keys, so a hostile topic cannot grow it)."""
    if len(events) <= CACHED_LIST_NAMES:
        return _resolved_events(enabled, events)
    return _resolve_events(enabled, events)


def _resolve_events(enabled: bool, events: tuple[str, ...]) -> tuple[str, ...]:
    resolved = {catalog.lookup(name).name for name in events}
    return tuple(e.name for e in catalog.EVENTS if e.name in resolved) if enabled else ()


_resolved_events = lru_cache(maxsize=4096)(_resolve_events)


def parse_set_body(body: Any) -> InstanceSettings:
    """The reference's ``{"kafka": {"enabled": bool, "events": [...]}}``; errors are one-line messages."""
    if not isinstance(body, Mapping) or not isinstance(body.get("kafka"), Mapping):
        raise InstanceSettingsError('body must be {"kafka": {"enabled": bool, "events": [...]}}')
    kafka = body["kafka"]
    enabled = kafka.get("enabled")
    events = kafka.get("events", [])
    if not isinstance(enabled, bool):
        raise InstanceSettingsError("kafka.enabled must be true or false")
    if events is None:
        events = []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise InstanceSettingsError("kafka.events must be a list of event names")
    return InstanceSettings.from_request(enabled, events)


def now_iso() -> str:
    """Now, ISO-8601 with milliseconds and ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SettingsLookup(Protocol):
    """Where a publisher finds an instance's settings: the cluster registry, or a stand-in."""

    def get(self, instance: str) -> InstanceSettings | None:
        """The instance's current settings, or None when it has none."""
        ...


class InMemorySettings:
    """A :class:`SettingsLookup` held in memory (tests, and publishing without a registry)."""

    def __init__(self, initial: Mapping[str, InstanceSettings] | None = None) -> None:
        self._items: dict[str, InstanceSettings] = dict(initial or {})

    def get(self, instance: str) -> InstanceSettings | None:
        """The instance's settings, or None."""
        return self._items.get(instance)

    def set(self, instance: str, settings: InstanceSettings) -> None:
        """Store ``settings`` for ``instance``."""
        self._items[instance] = settings

    def delete(self, instance: str) -> None:
        """Forget ``instance``."""
        self._items.pop(instance, None)

    def all(self) -> dict[str, InstanceSettings]:
        """Every instance's settings."""
        return dict(self._items)
