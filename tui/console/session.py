"""What the console's screens share: settings, the publisher, the instance registry, the instance source and the
cluster view.

One :class:`Services` object per console, built from the settings. Its coroutines are the console's I/O:
the app runs them in workers, so no screen ever waits on Kafka. A broker that is down when the console opens
blocks nothing: the publisher shows its own reconnect state, the registry keeps retrying here, and the
cluster view says what was last seen.

Instances and their toggles come from the instance source (:mod:`tui.evolution.source`): Evolution API when
``EVOLUTION_API_URL`` is set (or ``EVOKAFKA_INSTANCE_SOURCE`` chooses it), the cluster registry otherwise. Every
read and write of the source goes through :meth:`Services.read_instances`, :meth:`Services.read_instance` and
:meth:`Services.change_instance`, which keep :attr:`Services.source_view` (what the header shows) current: a
refused API key is a visible state, not only an error.

Imports no Textual: it is the seam between the console and the Kafka layer, and can be driven from tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from tui import catalog
from tui.config import AppSettings, KafkaSettings
from tui.evolution.client import EvolutionAuthError, EvolutionConfigError
from tui.evolution.source import (
    SOURCE_ERRORS,
    InstanceSource,
    Origin,
    RegistrySource,
    SourceConfigError,
    SourceInstance,
    choose_source,
)
from tui.kafka.admin import Admin
from tui.kafka.discovery import DiscoveredInstance, discover
from tui.kafka.doctor.probe import split_broker
from tui.kafka.options import ConnectionOptions, ConnectionSetupError, reason
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry

T = TypeVar("T")

Clock = Callable[[], float]
"""Wall-clock seconds (``time.time``); snapshot tests freeze it."""

CLUSTER_CHECK_INTERVAL_S = 5.0
"""How often the header's cluster view is refreshed."""


class RegistryState(StrEnum):
    """Where the registry is: the console keeps starting it until it is synced."""

    STARTING = "starting"
    SYNCED = "synced"
    RETRYING = "retrying"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ClusterView:
    """What the header shows about the cluster."""

    brokers: tuple[str, ...]
    """The configured bootstrap brokers (``KAFKA_BROKERS``)."""
    reachable: int | None = None
    """How many of them accepted a connection at the last check (None: not checked yet)."""
    cluster_id: str | None = None
    live_brokers: tuple[str, ...] = ()
    """The brokers the cluster's metadata lists."""
    error: str | None = None
    """Why the last check could not read the cluster's metadata."""
    checked_at: float | None = None

    @property
    def up(self) -> bool:
        """The cluster answered at the last check."""
        return self.error is None and self.cluster_id is not None


@dataclass(frozen=True)
class RegistryView:
    """The registry's state as the console shows it."""

    state: RegistryState = RegistryState.STARTING
    attempt: int = 0
    error: str | None = None
    next_try_at: float | None = None


class SourceState(StrEnum):
    """How the last call to the instance source went."""

    UNKNOWN = "unknown"
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class SourceView:
    """The instance source as the header shows it."""

    label: str
    """``Evolution API http://evo:8080`` or ``registry __evokafka_instances`` (no credentials)."""
    state: SourceState = SourceState.UNKNOWN
    error: str | None = None
    """One line: why the last call failed."""
    auth_failed: bool = False
    """The server refused the API key (401)."""
    checked_at: float | None = None


class SourceSetupError(ConnectionSetupError):
    """The configured instance source cannot be used (e.g. ``EVOLUTION_API_URL`` without a key)."""


class Change(StrEnum):
    """A change to one instance's Kafka settings asked for in the console."""

    TOGGLE = "toggle"
    ENABLE = "enable"
    DISABLE = "disable"
    ALL = "all"
    """Enabled with no event list: the source's "all events"."""
    EACH = "each"
    """Enabled with every event the source accepts, listed one by one."""


Listener = Callable[[], None]


@dataclass
class Services:
    """One console's shared services; screens reach it as ``self.app.services``."""

    settings: KafkaSettings
    app_settings: AppSettings
    options: ConnectionOptions
    publisher: EventPublisher
    registry: InstanceRegistry
    read_only: bool
    clock: Clock = time.time
    cluster: ClusterView = field(init=False)
    registry_view: RegistryView = field(default_factory=RegistryView)
    source: InstanceSource | None = None
    """Where instances and toggles come from; None here means the registry (set in ``__post_init__``)."""
    source_view: SourceView = field(init=False)
    _listeners: list[Listener] = field(default_factory=list, repr=False)
    _admin: Admin | None = field(default=None, repr=False)
    _stopping: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.cluster = ClusterView(tuple(self.settings.brokers))
        if self.source is None:
            self.source = RegistrySource(self.registry)
        self.source_view = SourceView(self.source.label)

    @classmethod
    def build(
        cls,
        settings: KafkaSettings,
        app_settings: AppSettings,
        *,
        options: ConnectionOptions | None = None,
        read_only: bool | None = None,
        clock: Clock = time.time,
    ) -> Services:
        """Services from the settings (``read_only`` defaults to ``EVOKAFKA_READ_ONLY``).

        Raises :class:`tui.kafka.options.ConnectionSetupError` for unusable SSL files.
        """
        options = options or ConnectionOptions.from_settings(settings)
        ro = app_settings.read_only if read_only is None else read_only
        registry = InstanceRegistry(settings, topic=app_settings.registry_topic, options=options, read_only=ro)
        try:
            source = choose_source(
                app_settings, registry, app_settings.instance_source, timeout=app_settings.evolution_api_timeout
            )
        except (SourceConfigError, EvolutionConfigError) as exc:
            raise SourceSetupError(str(exc)) from None
        publisher = EventPublisher(settings, registry, options=options, read_only=ro)
        return cls(settings, app_settings, options, publisher, registry, ro, clock, source=source)

    # -- the instance source ---------------------------------------------------------------------------

    @property
    def instance_source(self) -> InstanceSource:
        """The instance source (typed: never None after construction)."""
        assert self.source is not None  # set in __post_init__
        return self.source

    @property
    def source_is_live(self) -> bool:
        """Whether the source reports changes itself (the registry); else poll every :attr:`source_refresh_s`."""
        return self.instance_source.live

    @property
    def source_refresh_s(self) -> float | None:
        """How often a screen re-reads a source that is not live."""
        return self.instance_source.refresh_interval

    def instances_now(self, discovered: Iterable[str] = ()) -> list[SourceInstance] | None:
        """The instances without I/O when the source holds them in memory (the registry), else None."""
        if not isinstance(self.source, RegistrySource):
            return None
        seen = set(discovered)
        known = self.registry.all()
        items = [SourceInstance(n, Origin.REGISTRY, s, in_topics=n in seen) for n, s in known.items()]
        items += [SourceInstance(n, Origin.DISCOVERED, None, in_topics=True) for n in seen - set(known)]
        return sorted(items, key=lambda item: item.name)

    def instance_now(self, name: str) -> SourceInstance | None:
        """One instance without I/O when the source is the registry (held in memory), else None."""
        if not isinstance(self.source, RegistrySource):
            return None
        return SourceInstance(name, Origin.REGISTRY, self.registry.get(name))

    async def read_instances(self, discovered: Iterable[str] = ()) -> list[SourceInstance]:
        """Every instance from the source, with instances only seen in topics added (marked discovered)."""
        return await self._through_source(self.instance_source.instances(discovered=list(discovered)))

    async def read_instance(self, name: str) -> SourceInstance:
        """One instance, re-read from the source."""
        return await self._through_source(self.instance_source.get(name))

    async def change_instance(self, name: str, change: Change, event: catalog.Event | None = None) -> SourceInstance:
        """Write one change through the source (Evolution: ``/kafka/set`` then a re-read); returns what it
        stored. Raises one of :data:`tui.evolution.source.SOURCE_ERRORS`."""
        source = self.instance_source
        if change is Change.TOGGLE:
            if event is None:
                raise ValueError("a toggle needs an event")
            call = source.toggle(name, event)
        elif change is Change.ENABLE:
            call = source.enable(name)
        elif change is Change.DISABLE:
            call = source.disable(name)
        elif change is Change.ALL:
            call = source.set(name, True, [])
        else:
            call = source.set(name, True, [e.name for e in catalog.EVENTS if source.refuses(e) is None])
        return await self._through_source(call)

    async def _through_source(self, call: Coroutine[object, object, T]) -> T:
        """Run one source call and record how it went in :attr:`source_view` (errors are re-raised)."""
        try:
            result = await call
        except SOURCE_ERRORS as exc:
            self._set_source_view(
                replace(
                    self.source_view,
                    state=SourceState.FAILED,
                    error=str(exc) or exc.__class__.__name__,
                    auth_failed=isinstance(exc, EvolutionAuthError),
                    checked_at=self.clock(),
                )
            )
            raise
        if self.source_view.state is not SourceState.OK:
            self._set_source_view(SourceView(self.source_view.label, SourceState.OK, checked_at=self.clock()))
        return result

    def _set_source_view(self, view: SourceView) -> None:
        self.source_view = view
        self._changed()

    # -- change notification (cluster view, registry state) -----------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` whenever :attr:`cluster` or :attr:`registry_view` changes; returns unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _set_registry_view(self, view: RegistryView) -> None:
        self.registry_view = view
        self._changed()

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start_publisher(self) -> None:
        """Start the publisher; it never raises for a broker that is down (its state shows it)."""
        await self.publisher.start()

    async def run_registry(self) -> None:
        """Start the registry, retrying with the reconnect backoff until it is synced (or stopped)."""
        delay_ms = self.settings.reconnect_initial_delay_ms
        attempt = 0
        while not self._stopping:
            attempt += 1
            self._set_registry_view(RegistryView(RegistryState.STARTING, attempt))
            try:
                await self.registry.start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await self.registry.stop()
                next_try = self.clock() + delay_ms / 1000
                self._set_registry_view(RegistryView(RegistryState.RETRYING, attempt, reason(exc), next_try))
                # Backoff between attempts, not a wait for a condition: the registry is simply retried.
                await asyncio.sleep(delay_ms / 1000)
                delay_ms = min(delay_ms * 2, self.settings.max_reconnect_delay_ms)
                continue
            self._set_registry_view(RegistryView(RegistryState.SYNCED, attempt))
            return

    async def watch_cluster(self, interval: float = CLUSTER_CHECK_INTERVAL_S) -> None:
        """Refresh :attr:`cluster` every ``interval`` seconds until stopped."""
        while not self._stopping:
            await self.check_cluster()
            await asyncio.sleep(interval)

    async def check_cluster(self) -> ClusterView:
        """Probe each configured broker and read the cluster's metadata; updates :attr:`cluster`."""
        timeout = max(self.options.connect_timeout_s, 0.5)
        probes = await asyncio.gather(*(_probe(b, timeout) for b in self.settings.brokers))
        reachable = sum(probes)
        view = ClusterView(tuple(self.settings.brokers), reachable, checked_at=self.clock())
        if reachable:
            try:
                admin = await self._admin_client()
                info = await asyncio.wait_for(admin.cluster(), timeout=self.options.request_timeout_ms / 1000)
                view = replace(view, cluster_id=info.cluster_id, live_brokers=tuple(info.brokers))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._drop_admin()
                view = replace(view, error=reason(exc), cluster_id=self.cluster.cluster_id)
        else:
            await self._drop_admin()
            view = replace(view, error="no broker accepts connections", cluster_id=self.cluster.cluster_id)
        self.cluster = view
        self._changed()
        return view

    async def discover(self) -> dict[str, DiscoveredInstance]:
        """Instances seen in the cluster's topics under ``KAFKA_TOPIC_PREFIX``."""
        admin = await self._admin_client()
        try:
            return await discover(admin, self.options, self.settings.topic_prefix)
        except Exception:
            await self._drop_admin()
            raise

    async def stop(self, timeout: float = 10.0) -> None:
        """Flush and stop the publisher, stop the registry and the admin client (bounded by ``timeout``)."""
        self._stopping = True
        for step in (self.publisher.stop, self.registry.stop, self._drop_admin, self.instance_source.stop):
            try:
                await asyncio.wait_for(step(), timeout=timeout)
            except asyncio.CancelledError:
                # aiokafka's stop() raises CancelledError when its broker is gone although nobody cancelled
                # us; only a real cancellation of this task goes on up.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            except Exception:
                pass  # one failing step must not keep the others from stopping
        self._set_registry_view(replace(self.registry_view, state=RegistryState.STOPPED))

    async def _admin_client(self) -> Admin:
        if self._admin is None:
            self._admin = await Admin(self.options, read_only=self.read_only).start()
        return self._admin

    async def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            await admin.close()


async def _probe(broker: str, timeout: float) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds."""
    try:
        host, port = split_broker(broker)
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
