"""The console's session: the one door between the screens and everything outside the process.

One :class:`Session` per console, built from the settings (:func:`build_session`, which ``evokafka instances``
uses too). It owns every piece of I/O the console does: the publisher, the instance registry and the instance
source (Evolution API or the registry), the cluster view, stream readers (:meth:`Session.follow`), consumer lag
(:meth:`Session.lag_monitor`), topic statistics (:meth:`Session.topic_stats`), the doctor
(:meth:`Session.run_doctor`) and, when the demo runs, its chaos controls. Its coroutines run in the console's
workers, so no screen ever waits on Kafka. A broker that is down when the console opens blocks nothing: the
publisher shows its own reconnect state, the registry keeps retrying here, and the cluster view says what was
last seen.

Every state change is reported on one listener list, :attr:`Session.changes` (a :data:`tui.status.SessionFact`);
the console's bridge (:mod:`tui.console.bridge`) turns them into typed messages. Every read and write of the instance source goes through :meth:`Session.read_instances`,
:meth:`Session.read_instance` and :meth:`Session.change_instance`, which keep :attr:`Session.source_view` (what the
header shows) current: a refused API key is a visible state, not only an error.

Imports no Textual: it can be driven from tests and from the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from tui import catalog
from tui.config import AppSettings, KafkaSettings
from tui.evolution.client import EvolutionAuthError, EvolutionConfigError
from tui.evolution.source import SOURCE_ERRORS, RegistrySource, SourceConfigError, choose_source
from tui.failures import reason
from tui.instance_source import Change, Origin, SourceInstance
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry
from tui.listeners import Listeners, Unsubscribe
from tui.status import (
    ChaosState,
    ClusterView,
    PublisherStatus,
    RegistryEntryChanged,
    RegistryState,
    RegistryView,
    SessionFact,
    SourceEntryChanged,
    SourceState,
    SourceView,
)

if TYPE_CHECKING:
    from tui.diagnosis import CheckResult, DoctorReport
    from tui.group_lag import GroupSummary
    from tui.handles import ChaosControls, LagReader, Sending, StreamReader, TopicStatsSource
    from tui.instance_settings import InstanceSettings
    from tui.instance_source import DiscoveredInstance, InstanceSource
    from tui.kafka.admin import Admin
    from tui.kafka.shared import SharedReadings
    from tui.profiles import Profile
    from tui.selection import Selection, StartPosition

# The readers, the lag monitor, discovery and the cluster probe are imported where they are first used, not here:
# they import aiokafka, which the console loads after its first frame, when its services start. What the session
# only names in its signatures (records, selections, the doctor's results) is imported for the type checker alone,
# and the admin client and the error explanations when first used: the first frame waits for none of them.

T = TypeVar("T")

Clock = Callable[[], float]
"""Wall-clock seconds (``time.time``); snapshot tests freeze it."""

CLUSTER_CHECK_INTERVAL_S = 1.0
"""How often the header's cluster view is refreshed."""
PROBE_BOUND_S = 1.0
"""How long one check waits for a broker's TCP answer and for the cluster's metadata: with the interval, the
header leaves "up" within 3 s of the cluster going silent or away."""


class SourceSetupError(ConnectionSetupError):
    """The configured instance source cannot be used (e.g. ``EVOLUTION_API_URL`` without a key)."""


@dataclass
class Session:
    """One console's I/O; screens reach it as ``self.session`` (:class:`tui.console.screens.base.ConsoleScreen`)."""

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
    chaos: ChaosControls | None = None
    """The demo's chaos controls when the console runs on the demo, else None."""
    connect: bool = True
    """Whether the console does I/O at all (False: snapshots, fed with fixed data)."""
    profile: Profile | None = None
    """The named connection profile the settings came from (None: environment and ``.env`` only)."""
    changes: Listeners[SessionFact] = field(default_factory=Listeners, repr=False)
    """Every state change (cluster, registry, source, publisher, chaos, instances), as it happens."""
    _unhook: list[Unsubscribe] = field(default_factory=list, repr=False)
    _admin: Admin | None = field(default=None, repr=False)
    _stopping: bool = field(default=False, repr=False)
    _readings: SharedReadings | None = field(default=None, repr=False)
    """The stream readings the panes share (one fetch per selection and start), made on first use."""

    def __post_init__(self) -> None:
        self.cluster = ClusterView(tuple(self.settings.brokers))
        if self.source is None:
            self.source = RegistrySource(self.registry)
        self.source_view = SourceView(self.source.label)
        notify = self.changes.notify
        self._unhook = [
            self.publisher.subscribe(notify),
            self.registry.subscribe(lambda name, _settings: notify(RegistryEntryChanged(name))),
        ]
        if isinstance(self.source, RegistrySource):
            self._unhook.append(self.registry.subscribe(lambda name, _settings: notify(SourceEntryChanged(name))))
        else:
            self._unhook.append(self.source.subscribe(lambda name: notify(SourceEntryChanged(name))))
        if self.chaos is not None:
            self._unhook.append(self.chaos.subscribe_chaos(notify))

    @classmethod
    def build(
        cls,
        settings: KafkaSettings,
        app_settings: AppSettings,
        *,
        options: ConnectionOptions | None = None,
        read_only: bool | None = None,
        source_choice: str | None = None,
        clock: Clock = time.time,
        chaos: ChaosControls | None = None,
        profile: Profile | None = None,
    ) -> Session:
        """The session from the settings: the one construction the console and ``evokafka instances`` share.

        ``read_only`` defaults to ``EVOKAFKA_READ_ONLY``, ``source_choice`` (``auto``, ``evolution``,
        ``registry``) to ``EVOKAFKA_INSTANCE_SOURCE``. Raises :class:`tui.kafka.options.ConnectionSetupError` for
        unusable SSL files and :class:`SourceSetupError` for a source that cannot be used. Nothing is started.
        """
        options = options or ConnectionOptions.from_settings(settings)
        ro = app_settings.read_only if read_only is None else read_only
        registry = InstanceRegistry(settings, topic=app_settings.registry_topic, options=options, read_only=ro)
        try:
            source = choose_source(
                app_settings,
                registry,
                source_choice or app_settings.instance_source,
                timeout=app_settings.evolution_api_timeout,
            )
        except (SourceConfigError, EvolutionConfigError) as exc:
            raise SourceSetupError(str(exc)) from None
        publisher = EventPublisher(settings, registry, options=options, read_only=ro)
        return cls(settings, app_settings, options, publisher, registry, ro, clock, source=source, chaos=chaos,
                   profile=profile)

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
        known = self.registry_entries()
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

    async def restore_instance(self, name: str, settings: InstanceSettings | None) -> SourceInstance | None:
        """Undo: put back ``settings`` as they were, or no entry (None; Evolution API keeps it disabled)."""
        if settings is None and isinstance(self.source, RegistrySource):
            await self.delete_instance(name)
            return None
        enabled, events = (settings.enabled, list(settings.events)) if settings else (False, [])
        return await self._through_source(self.instance_source.set(name, enabled, events))

    async def delete_instance(self, name: str) -> None:
        """Remove ``name``'s entry from the registry (a tombstone); a :class:`ValueError` on Evolution API."""
        if not isinstance(self.source, RegistrySource):
            raise ValueError("Evolution API cannot delete an instance's Kafka settings: disable it instead (e)")
        await self.registry.delete(name)

    async def _through_source(self, call: Coroutine[object, object, T]) -> T:
        """Run one source call and record how it went in :attr:`source_view` (errors are re-raised)."""
        try:
            result = await call
        except SOURCE_ERRORS as exc:
            self._set_source_view(
                replace(
                    self.source_view,
                    state=SourceState.FAILED,
                    error=reason(exc),
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
        self.changes.notify(view)

    def _set_registry_view(self, view: RegistryView) -> None:
        self.registry_view = view
        self.changes.notify(view)

    # -- facts read without I/O ------------------------------------------------------------------------

    @property
    def publisher_status(self) -> PublisherStatus:
        """The publisher's status now."""
        return self.publisher.status

    def registry_entries(self) -> dict[str, InstanceSettings]:
        """The registry's entries now (from memory: it follows its topic live)."""
        return self.registry.all()

    def registry_entry(self, name: str) -> InstanceSettings | None:
        """The registry's entry for ``name`` now."""
        return self.registry.get(name)

    @property
    def registry_problems(self) -> int:
        """Corrupt registry records skipped."""
        return len(self.registry.problems)

    @property
    def chaos_state(self) -> ChaosState | None:
        """The demo's chaos controls now (None: not running on the demo)."""
        return self.chaos.chaos if self.chaos is not None else None

    # -- reading and writing the cluster for the screens -----------------------------------------------

    async def publish(self, event: catalog.Event | str, instance: str, data: Any) -> Sending:
        """Hand one event to the publisher (returns at once; the records are in flight)."""
        return await self.publisher.publish(event, instance, data)

    def retry_publisher(self) -> None:
        """Start reconnecting the publisher again (after it failed)."""
        self.publisher.retry()

    def follow(self, selection: Selection, start: StartPosition, batch_max: int = 2000) -> StreamReader:
        """A live reading of ``selection`` from ``start`` (not started: iterate its ``follow``).

        Readings of the same selection from the same start share one fetch (:mod:`tui.kafka.shared`): three
        panes on a flooded topic decode each record once, not three times."""
        from tui.kafka.shared import SharedReadings

        readings = self._readings
        if readings is None or readings.options is not self.options:
            readings = self._readings = SharedReadings(self.options, self.settings.topic_prefix)
        return readings.reader(selection, start, batch_max)

    def lag_monitor(self, group: str) -> LagReader:
        """The lag of ``group``, to start and ask again and again (``ValueError`` for an empty id)."""
        from tui.kafka.lag import LagMonitor

        return LagMonitor(self.options, group)

    async def consumer_groups(self) -> list[str]:
        """The cluster's consumer groups, sorted."""
        from tui.kafka.lag import consumer_groups

        return await consumer_groups(self.options)

    async def group_overview(self) -> list[GroupSummary]:
        """Every consumer group of the cluster with its state, members and total lag, sorted by id."""
        from tui.kafka.lag import group_overview

        return await group_overview(self.options)

    def topic_stats(self) -> TopicStatsSource:
        """Counts and rates of the topics under the prefix (close it when done)."""
        from tui.kafka.topicstats import TopicStatsReader

        return TopicStatsReader(self.options, self.settings.topic_prefix)

    async def run_doctor(self, sink: Callable[[CheckResult], None]) -> DoctorReport:
        """Every doctor check once, each result to ``sink`` as it is known; the registry the console follows
        already is read from memory (no second reader)."""
        # Imported here: the doctor's checks (and the certificate parser they load) wait until asked for.
        from tui.kafka.doctor.cluster import RegistryReading
        from tui.kafka.doctor.runner import run_doctor

        return await run_doctor(
            self.settings,
            options=self.options,
            registry_topic=self.app_settings.registry_topic,
            sink=sink,
            instances=RegistryReading.following(self.registry),
        )

    async def toggle_link(self) -> None:
        """Demo: cut the link between clients and broker, or restore it (``ChaosUnavailableError`` without it)."""
        if self.chaos is not None:
            await self.chaos.toggle_link()

    async def toggle_broker(self) -> None:
        """Demo: stop the broker, or start it again."""
        if self.chaos is not None:
            await self.chaos.toggle_broker()

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
            self._set_registry_view(RegistryView(RegistryState.SYNCED, attempt, health=self.registry.health))
            self.registry.subscribe_health(
                lambda health: self._set_registry_view(replace(self.registry_view, health=health))
            )
            return

    async def watch_cluster(self, interval: float = CLUSTER_CHECK_INTERVAL_S) -> None:
        """Refresh :attr:`cluster` every ``interval`` seconds until stopped."""
        while not self._stopping:
            await self.check_cluster()
            await asyncio.sleep(interval)

    async def check_cluster(self) -> ClusterView:
        """Probe each configured broker and read the cluster's metadata; updates :attr:`cluster`."""
        from tui.kafka.doctor.probe import accepts_connection

        # Bounded by the state-within-seconds rule (a probe, not a client's connection: a silent network shows as
        # down within seconds whatever KAFKA_CONNECTION_TIMEOUT and KAFKA_REQUEST_TIMEOUT are).
        timeout = min(max(self.options.connect_timeout_s, 0.5), PROBE_BOUND_S)
        probes = await asyncio.gather(*(accepts_connection(b, timeout) for b in self.settings.brokers))
        reachable = sum(probes)
        view = ClusterView(tuple(self.settings.brokers), reachable, checked_at=self.clock())
        if reachable:
            try:
                admin = await self._admin_client()
                info = await asyncio.wait_for(
                    admin.cluster(), timeout=min(self.options.request_timeout_ms / 1000, PROBE_BOUND_S)
                )
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
        self.changes.notify(view)
        return view

    async def discover(self) -> dict[str, DiscoveredInstance]:
        """Instances seen in the cluster's topics under ``KAFKA_TOPIC_PREFIX``."""
        from tui.kafka.discovery import discover

        admin = await self._admin_client()
        try:
            return await discover(admin, self.options, self.settings.topic_prefix)
        except Exception:
            await self._drop_admin()
            raise

    async def stop(self, timeout: float = 10.0) -> None:
        """Flush and stop the publisher, stop the registry and the admin client (bounded by ``timeout``)."""
        self._stopping = True
        for unhook in self._unhook:
            unhook()
        for step in (self.publisher.stop, self.registry.stop, self._drop_admin, self.instance_source.stop):
            try:
                await asyncio.wait_for(step(), timeout=timeout)
            except asyncio.CancelledError:
                # aiokafka's stop() raises CancelledError when its broker is gone although nobody cancelled
                # us; only a real cancellation of this task goes on up.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            except Exception:  # one failing step must not keep the others from stopping
                continue
        self._set_registry_view(replace(self.registry_view, state=RegistryState.STOPPED))

    async def _admin_client(self) -> Admin:
        from tui.kafka.admin import Admin

        if self._admin is None:
            self._admin = await Admin(self.options, read_only=self.read_only).start()
        return self._admin

    async def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            await admin.close()


def explain_failure(exc: BaseException) -> str:
    """One line for people: what failed and, where known, why (the doctor's reading of the error)."""
    from tui.kafka.errors import explain

    return explain(exc)
