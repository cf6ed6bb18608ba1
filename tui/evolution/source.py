"""The instance source: where the console and ``evokafka instances`` take instances and their Kafka toggles from.

Two sources, one interface (:class:`InstanceSource`):

- :class:`EvolutionSource` — a running Evolution API server over its REST API (``EVOLUTION_API_URL``,
  ``EVOLUTION_API_KEY``). Instances come with their WhatsApp connection status, number/owner and profile name;
  a toggle is a ``POST /kafka/set/<instance>`` followed by a ``GET /kafka/find/<instance>``, so what is shown is
  what the server stored. Not live: call :meth:`InstanceSource.instances` again every
  :attr:`InstanceSource.refresh_interval` seconds.
- :class:`RegistrySource` — evokafka's registry in the cluster. Live: :meth:`InstanceSource.subscribe` reports
  every change, whoever made it (another console, ``evokafka serve``, a curl).

The interface, for callers (every coroutine raises only errors in :data:`SOURCE_ERRORS`, each one line):

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

Each instance is a :class:`SourceInstance`: ``enables(event)`` says whether a toggle is on; ``warning`` is a line
to show when the source silently misses events (Evolution's "all events" never publishes ``groups.update`` and
``send.message.update``).

Imports no Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from pydantic import SecretStr

from tui import catalog
from tui.config import AppSettings
from tui.evolution.client import DEFAULT_TIMEOUT_S, EvolutionClient, EvolutionError, EvolutionNotFoundError
from tui.evolution.models import (
    EvolutionInstance,
    KafkaRecord,
    asked_events,
    evolution_rejects,
    request_name,
)
from tui.instance_settings import InstanceSettings
from tui.instance_source import InstanceSource, Listener, Origin, SourceInstance
from tui.kafka.options import ClusterUnreachableError, ReadOnlyError
from tui.kafka.registry import InstanceRegistry, RegistryError
from tui.routing import EVOLUTION_ALL_EVENTS
from tui.topology import InstanceNameError


class SourceConfigError(ValueError):
    """The chosen source cannot be used with these settings (e.g. Evolution without ``EVOLUTION_API_URL``)."""


class EventRefusedError(EvolutionError):
    """An event the source cannot switch on (Evolution API's ``/kafka/set`` does not accept it)."""


SOURCE_ERRORS: tuple[type[Exception], ...] = (
    EvolutionError,
    ReadOnlyError,
    ClusterUnreachableError,
    RegistryError,
    InstanceNameError,
    catalog.UnknownEventError,
)
"""What a source's coroutines raise; ``str(exc)`` is one line to show (``EvolutionAuthError`` for a 401)."""


def _event(event: catalog.Event | str) -> catalog.Event:
    return catalog.lookup(event) if isinstance(event, str) else event


# --- Evolution API ------------------------------------------------------------------------------------------


class EvolutionSource(InstanceSource):
    """A running Evolution API server (or ``evokafka serve``) over its REST API."""

    origin = Origin.EVOLUTION
    live = False
    refresh_interval: float | None = 5.0

    def __init__(self, client: EvolutionClient, *, concurrency: int = 8) -> None:
        self.client = client
        self.label = f"Evolution API {client.display_url}"
        self._limit = asyncio.Semaphore(concurrency)
        self._whatsapp: dict[str, EvolutionInstance] = {}

    async def start(self) -> None:
        """Find out which server this is (``evokafka serve`` says so on every answer), so that :meth:`refuses`
        is right before the first write. A server that does not answer is not an error here: the first real
        call reports it, and :meth:`set` asks again."""
        if self.client.server_is_evokafka is None:
            with contextlib.suppress(EvolutionError):
                self._whatsapp = {i.name: i for i in await self.client.fetch_instances()}

    async def stop(self) -> None:
        """Close the HTTP session."""
        await self.client.close()

    async def _identify(self, name: str) -> None:
        """Before deciding what to refuse: learn which server this is, if no answer has said so yet."""
        if self.client.server_is_evokafka is not None:
            return
        try:
            await self.client.find_kafka(name)
        except EvolutionError:
            if self.client.server_is_evokafka is None:
                raise  # no answer at all: the write would fail the same way

    async def known(self) -> list[SourceInstance]:
        """``fetchInstances``, then each instance's ``kafka/find`` (a few at a time)."""
        found = await self.client.fetch_instances()
        self._whatsapp = {i.name: i for i in found}

        async def record(name: str) -> KafkaRecord | None:
            async with self._limit:
                # Deleted between the two calls: shown without Kafka settings rather than failing the list.
                with contextlib.suppress(EvolutionNotFoundError):
                    return await self.client.find_kafka(name)
                return None

        records = await asyncio.gather(*(record(i.name) for i in found))
        return sorted(
            (self._item(i.name, r, i) for i, r in zip(found, records, strict=True)), key=lambda item: item.name
        )

    async def get(self, name: str) -> SourceInstance:
        """Re-read ``kafka/find`` for ``name``."""
        return self._item(name, await self.client.find_kafka(name))

    async def set(self, name: str, enabled: bool, events: Iterable[str | catalog.Event] = ()) -> SourceInstance:
        """``POST /kafka/set`` then ``GET /kafka/find``: the answer shows what the server stored."""
        events = list(events)
        if enabled and events:
            await self._identify(name)
        names = self._request_names(events) if enabled else []
        await self.client.set_kafka(name, enabled, names)
        return await self.get(name)

    async def toggle(self, name: str, event: catalog.Event | str) -> SourceInstance:
        """Read the record afresh, switch ``event``, write the whole list back, re-read."""
        resolved = _event(event)
        record = await self.client.find_kafka(name)
        current = self._item(name, record)
        if current.enables(resolved):
            on = [e.name for e in catalog.EVENTS if current.enables(e) and e is not resolved]
            if not on:
                return await self.set(name, False)
        else:
            if why := self.refuses(resolved):
                raise EventRefusedError(why)
            on = [e.name for e in catalog.EVENTS if current.enables(e) or e is resolved]
        # Keep what the record holds beyond the catalog (Evolution's GROUP_UPDATE): it is the server's own.
        extra = [n for n in (record.events if record else ()) if catalog.find(n) is None and n not in on]
        return await self.set(name, True, [*on, *extra])

    async def enable(self, name: str) -> SourceInstance:
        """Enable, keeping the stored events (a disabled record has none: Evolution's "all")."""
        record = await self.client.find_kafka(name)
        return await self.set(name, True, list(record.events) if record else [])

    async def disable(self, name: str) -> SourceInstance:
        """Disable (Evolution stores no events)."""
        return await self.set(name, False)

    def refuses(self, event: catalog.Event) -> str | None:
        """Evolution API cannot publish ``groups.update`` per instance: its ``/kafka/set`` takes ``GROUP_UPDATE``,
        which its publisher never matches (``evokafka serve`` says the same, being Evolution's API). Every other
        event of the catalog is in Evolution's list."""
        if not evolution_rejects(event):
            return None
        return (
            "Evolution API cannot publish groups.update per instance: /kafka/set only accepts GROUP_UPDATE, "
            "which its publisher never matches"
        )

    def _request_names(self, events: Iterable[str | catalog.Event]) -> list[str]:
        names: list[str] = []
        for given in events:
            if isinstance(given, str) and given in EVOLUTION_ALL_EVENTS:
                names.append(given)  # Evolution's own spelling, GROUP_UPDATE included: sent as is
                continue
            names.append(request_name(_event(given)))
        return list(dict.fromkeys(names))

    def _item(self, name: str, record: KafkaRecord | None, whatsapp: EvolutionInstance | None = None) -> SourceInstance:
        info = whatsapp or self._whatsapp.get(name)
        settings: InstanceSettings | None = None
        if record is not None:
            # What the record asks for (GROUP_UPDATE read as groups.update): the toggles show it on, and
            # ``missed`` says that Evolution never publishes it.
            asked = [e.name for e in asked_events(record.events, record.enabled)]
            settings = InstanceSettings.from_request(bool(asked), asked, updated_at=record.updated_at)
        return SourceInstance(
            name=name,
            origin=Origin.EVOLUTION,
            settings=settings,
            connection_status=info.connection_status if info else None,
            number=info.phone if info else None,
            owner_jid=info.owner_jid if info else None,
            profile_name=info.profile_name if info else None,
            integration=info.integration if info else None,
            record=record,
            missed=record.missed if record is not None else (),
        )


# --- the cluster registry -----------------------------------------------------------------------------------


class RegistrySource(InstanceSource):
    """evokafka's registry in the cluster; its lifecycle stays with whoever started it."""

    origin = Origin.REGISTRY
    live = True
    refresh_interval = None

    def __init__(self, registry: InstanceRegistry) -> None:
        self.registry = registry
        self.label = f"registry {registry.topic}"

    async def known(self) -> list[SourceInstance]:
        """The registry's entries (from memory: it follows the topic live)."""
        return [self._item(name, settings) for name, settings in sorted(self.registry.all().items())]

    async def get(self, name: str) -> SourceInstance:
        """The registry's entry for ``name`` (None settings when it has none)."""
        return self._item(name, self.registry.get(name))

    async def set(self, name: str, enabled: bool, events: Iterable[str | catalog.Event] = ()) -> SourceInstance:
        """Write to the registry; returns once this registry has read it back."""
        names = [e if isinstance(e, str) else e.name for e in events]
        return self._item(name, await self.registry.set_request(name, enabled, names))

    async def set_token(self, name: str, token: str) -> SourceInstance:
        """Keep ``token`` (the instance's own API key, for ``evokafka serve``) with ``name``'s entry; an instance
        without one gets an entry that holds only the token (``kafka/find`` stays ``null``)."""
        current = self.registry.get(name)
        entry = current.with_token(token) if current is not None else InstanceSettings.token_only(token)
        return self._item(name, await self.registry.set(name, entry))

    async def toggle(self, name: str, event: catalog.Event | str) -> SourceInstance:
        """Switch one event in the registry."""
        return self._item(name, await self.registry.toggle(name, event))

    async def enable(self, name: str) -> SourceInstance:
        """Enable in the registry."""
        return self._item(name, await self.registry.enable(name))

    async def disable(self, name: str) -> SourceInstance:
        """Disable in the registry."""
        return self._item(name, await self.registry.disable(name))

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Every change the registry reads from the topic, whoever wrote it."""
        return self.registry.subscribe(lambda name, _settings: callback(name))

    @staticmethod
    def _item(name: str, settings: InstanceSettings | None) -> SourceInstance:
        return SourceInstance(name, Origin.REGISTRY, settings)


# --- choosing ---------------------------------------------------------------------------------------------

SOURCE_CHOICES = ("auto", "evolution", "registry")


def choose_source(
    app_settings: AppSettings,
    registry: InstanceRegistry | None,
    choice: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> InstanceSource:
    """The source to use: Evolution API when ``EVOLUTION_API_URL`` is set (or ``choice="evolution"``), the
    registry otherwise (or ``choice="registry"``). :class:`SourceConfigError` / ``EvolutionConfigError`` (one
    line) when the choice cannot work."""
    choice = (choice or "auto").lower()
    if choice not in SOURCE_CHOICES:
        raise SourceConfigError(f"unknown instance source {choice!r}; allowed: {', '.join(SOURCE_CHOICES)}")
    if choice == "evolution" or (choice == "auto" and app_settings.evolution_api_url):
        if not app_settings.evolution_api_url:
            raise SourceConfigError("the Evolution API source needs EVOLUTION_API_URL (and EVOLUTION_API_KEY)")
        key = app_settings.evolution_api_key or SecretStr("")
        return EvolutionSource(EvolutionClient(app_settings.evolution_api_url, key, timeout))
    if registry is None:
        raise SourceConfigError("the registry source needs the cluster registry")
    return RegistrySource(registry)
