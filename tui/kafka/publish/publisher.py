"""The event publisher: Evolution API's Kafka producer, done so an operator can watch it work.

:meth:`EventPublisher.publish` builds the envelope, routes it (per-instance topic when the instance's
settings enable the event, global topic when ``KAFKA_GLOBAL_ENABLED`` and ``KAFKA_EVENTS_<NAME>`` hold, both,
or nowhere) and queues each record without waiting for it; the returned :class:`PublishTicket` resolves when
each one is acknowledged or finally failed.

The module is split by concern, and this one re-exports the public names of the others:

- :mod:`tui.kafka.publish.delivery`: what the publisher reports (:class:`PublisherState`, :class:`PublisherStatus`,
  :class:`Delivery`, :class:`PublishTicket`);
- :mod:`tui.kafka.publish.outbox`: the records on their way, and the pump that sends them in batches, in order;
- :mod:`tui.kafka.publish.placement`: topics made or checked, and the partition of each key;
- :mod:`tui.kafka.publish.records`, :mod:`~tui.kafka.publish.connection`, :mod:`~tui.kafka.publish.watch` (a
  stall within seconds, probes) and :mod:`~tui.kafka.publish.losses` (records lost by the cluster);
- here: :class:`EventPublisher`, its routing and its connection (reconnects, backoff, idle probes).

Speed: a pump task takes everything queued at once, groups it into one record batch per partition (aiokafka's
``create_batch``/``send_batch``; the partition of a key is the producer's own key hash, computed once per topic
and key) and settles counters, offsets and waiters once per batch. Nothing is made per record that nobody
asks for: no future, task or callback per record; a ticket makes a future only while someone awaits it.

Rules (the reference's numbers are the settings' defaults):

- ``acks=all``, one request in flight per broker connection (aiokafka's sender never has more than one
  produce request per node outstanding, so per-partition order holds), idempotence *requested*; a broker
  that refuses it (Tansu does, for aiokafka) gets a producer without it, and the status says so.
- A record gets up to ``KAFKA_SEND_RETRIES`` attempts. When an attempt fails, no new record is handed over
  until every record in flight has settled, and the failed ones go back to the front of the queue in the
  order they were handed over — so records with the same key are acknowledged in hand-over order. After the
  last attempt a record is reported failed with its error and the connection counts as lost.
- A lost connection is re-made with backoff (:class:`~tui.kafka.reconnect.ReconnectPolicy`): first delay
  ``KAFKA_RECONNECT_INITIAL_DELAY_MS``, doubling, capped at 2^5 times the first, at most
  ``KAFKA_RECONNECT_MAX_ATTEMPTS`` attempts; then FAILED (queued records are reported failed) until
  :meth:`EventPublisher.retry`.
- Every record handed over ends acknowledged or reported failed: ``sent == acknowledged + failed`` once
  :meth:`EventPublisher.flush` returns.
- ``KAFKA_AUTO_CREATE_TOPICS=true`` creates exactly the topics published to, once per topic (per connection:
  a restarted broker may have lost them); ``false`` checks that the topic exists and reports a missing one as
  the record's error instead of letting the broker auto-create it.
- A broker that restarts quickly (empty, on the same port) may never break the connection for long enough to
  count as lost. So an answer that says the topic or partition is unknown (unknown topic or partition, not
  leader, leader not available, or the bare unknown error a restarted broker gives) also forgets which topics
  were made, asks for fresh metadata, and counts as a failed attempt: the next attempt makes (or checks) the
  topic again, within the ``KAFKA_SEND_RETRIES`` budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui import catalog, topology
from tui.config import KafkaSettings
from tui.envelope import DEFAULT_ORIGIN, DEFAULT_SERVER_URL, build
from tui.failures import reason
from tui.instance_settings import InstanceSettings, SettingsLookup
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.publish.connection import close_producer, open_connection
from tui.kafka.publish.delivery import PublishTicket
from tui.kafka.publish.losses import Loss
from tui.kafka.publish.outbox import Outbox
from tui.kafka.publish.placement import Placement
from tui.kafka.publish.records import Lane
from tui.kafka.publish.watch import STALL_S, ConnectionWatch
from tui.kafka.reconnect import ReconnectPolicy
from tui.listeners import Listeners
from tui.status import PublisherState, PublisherStatus

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 0.1
"""Counter-only changes reach subscribers at most this often; state changes reach them at once."""
PROBE_INTERVAL_S = 1.0
"""How often an idle, connected publisher checks that the cluster still answers."""
VALID_INSTANCES_MAX = 10_000
ROUTES_MAX = 10_000


class EventPublisher(ConnectionWatch):
    """Publishes Evolution API events to Kafka with visible reconnect and backoff; loses nothing silently."""

    def __init__(
        self,
        settings: KafkaSettings,
        lookup: SettingsLookup,
        *,
        options: ConnectionOptions | None = None,
        read_only: bool = False,
        server_url: str = DEFAULT_SERVER_URL,
        apikey: str | None = None,
        origin: str = DEFAULT_ORIGIN,
        probe_interval_s: float = PROBE_INTERVAL_S,
        stall_s: float = STALL_S,
    ) -> None:
        self.settings = settings
        self.lookup = lookup
        self.options = options or ConnectionOptions.from_settings(settings)
        self.read_only = read_only or self.options.refuses_writes
        self.server_url = server_url
        self.apikey = apikey
        self.origin = origin
        self.probe_interval_s = probe_interval_s
        """While idle and connected, ask the cluster this often whether it is still there."""
        self.probes = 0
        """Probes the cluster answered (for the logs and the tests)."""
        self.stall_s = stall_s
        """No answer for this long to requests in flight (or to the probe): STALLED."""
        self._stalled_since = 0.0
        self._loss_listeners: Listeners[Loss] = Listeners(lambda _: log.exception("publisher loss subscriber failed"))
        self._verifier: asyncio.Task[int] | None = None
        self.policy = ReconnectPolicy.from_settings(settings)
        self._state = PublisherState.DISCONNECTED
        self._delay_ms = 0
        self._next_try_at: float | None = None
        self._last_error: str | None = None
        self._idempotence: bool | None = None
        self._idempotence_refused = False
        self._listeners: Listeners[PublisherStatus] = Listeners(
            lambda _: log.exception("publisher status subscriber failed")
        )
        self._emit_handle: asyncio.TimerHandle | None = None
        self._valid_instances: set[str] = set()
        self._routes: dict[
            tuple[str, str], tuple[InstanceSettings | None, KafkaSettings, topology.Route, tuple[Lane, ...]]
        ] = {}
        self._lost = asyncio.Event()
        self._retry = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._admin: Admin | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._placement = Placement(settings, self.options)
        self._outbox = Outbox(settings, self._placement, _Link(self))
        self._outbox.losses.on_loss = self._on_loss

    # -- observing -------------------------------------------------------------------------------------

    @property
    def broker_in_use(self) -> str | None:
        """``host:port`` of the broker the producer's metadata names now (the one it sends to when every
        partition has one leader), or None when not connected. A cluster whose brokers all answer as the same
        node (the embedded broker on shared storage) names only the broker the producer last asked."""
        producer = self._producer
        if producer is None:
            return None
        brokers = sorted(producer.client.cluster.brokers(), key=lambda b: b.nodeId)
        return f"{brokers[0].host}:{brokers[0].port}" if brokers else None

    @property
    def status(self) -> PublisherStatus:
        """The current snapshot."""
        c = self._outbox.counters
        losses = self._outbox.losses
        reconnecting = self._state is PublisherState.RECONNECTING
        stalled = self._state is PublisherState.STALLED
        return PublisherStatus(
            state=self._state,
            attempt=self.policy.attempt if reconnecting else 0,
            max_attempts=self.policy.max_attempts,
            delay_ms=self._delay_ms if reconnecting else 0,
            next_try_at=self._next_try_at if reconnecting else None,
            last_error=self._last_error,
            sent=c.sent,
            acknowledged=c.acknowledged - losses.lost,
            retried=c.retried,
            failed=c.failed,
            idempotence=self._idempotence,
            lost=losses.lost,
            resent=c.resent,
            stalled_s=max(0.0, time.monotonic() - self._stalled_since) if stalled else 0.0,
            stall_threshold_s=self.stall_s,
            duplicates_seen=losses.duplicates,
            last_loss=losses.losses[-1].describe() if losses.losses else None,
        )

    def subscribe(self, callback: Callable[[PublisherStatus], None]) -> Callable[[], None]:
        """Call ``callback`` with each new status (state changes at once, counters throttled).

        Returns a function that unsubscribes.
        """
        return self._listeners.add(callback)

    def _emit(self) -> None:
        if self._emit_handle is not None:
            self._emit_handle.cancel()
            self._emit_handle = None
        status = self.status
        log.debug("publisher: %s", status.describe())
        self._listeners.notify(status)  # an observer's bug is logged and must not stop the publisher

    def _changed(self) -> None:
        # Counters change per record (tens of thousands per second): tell observers at a bounded rate.
        if self._emit_handle is None and self._listeners:
            with contextlib.suppress(RuntimeError):
                self._emit_handle = asyncio.get_running_loop().call_later(STATUS_INTERVAL_S, self._emit)

    def _set_state(
        self, state: PublisherState, *, delay_ms: int = 0, next_try_at: float | None = None
    ) -> None:
        self._state = state
        self._delay_ms = delay_ms
        self._next_try_at = next_try_at
        if state is PublisherState.CONNECTED:
            log.info("publisher connected to %s", ",".join(self.options.bootstrap_servers))
        self._emit()

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background. Never raises because the broker is down: the state shows
        it and the reconnect schedule runs."""
        if self._supervisor is not None:
            return
        if self._outbox.closed:
            raise RuntimeError("a stopped EventPublisher cannot be started again")
        self._pump = asyncio.create_task(self._outbox.run(), name="publisher:pump")
        self._supervisor = asyncio.create_task(self._supervise(), name="publisher:connection")
        # Let the supervisor show CONNECTING before start() returns.
        await asyncio.sleep(0)

    async def stop(self) -> None:
        """Flush what is in flight (each record ends acknowledged or failed), then close."""
        if self._outbox.closed:
            return
        if self._state is PublisherState.CONNECTED and self._outbox.unsettled:
            bound = self.options.request_timeout_ms / 1000 * self.settings.send_retries + 5
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(), timeout=bound)
        self._outbox.closed = True
        for task in (self._supervisor, self._pump):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._supervisor = self._pump = None
        if self._verifier is not None:
            self._verifier.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._verifier
            self._verifier = None
        # The producer flushes what it holds; each record settles through its callback.
        await self._disconnect()
        self._outbox.fail_everything("publisher stopped before the record was acknowledged")
        self._set_state(PublisherState.DISCONNECTED)

    async def flush(self) -> None:
        """Wait until every record handed over so far is acknowledged or reported failed."""
        await self._outbox.flush()

    def retry(self) -> None:
        """After FAILED: reset the schedule and start reconnecting again (idempotence is asked for anew)."""
        if self._state is PublisherState.FAILED:
            self._idempotence_refused = False
            self._retry.set()

    # -- publishing ------------------------------------------------------------------------------------

    async def publish(
        self,
        event: catalog.Event | str,
        instance: str,
        data: Any,
        *,
        sender: str | None = None,
        server_url: str | None = None,
        apikey: str | None = None,
    ) -> PublishTicket:
        """Route and hand over ``event`` of ``instance``; returns at once with a ticket to wait on.

        Raises :class:`~tui.catalog.UnknownEventError` / :class:`~tui.topology.InstanceNameError` on bad
        input, :class:`~tui.kafka.admin.ReadOnlyError` when read-only.
        """
        resolved = event if isinstance(event, catalog.Event) else catalog.lookup(event)
        if instance not in self._valid_instances:
            try:
                topology.validate_instance(instance, self.settings.topic_prefix)
            except topology.InstanceNameError:
                # Evolution API allows names a topic cannot hold ("Loja Centro"): fine while only global.
                if any(t.layout is topology.Layout.INSTANCE for t in self._route(instance, resolved)[0].targets):
                    raise
            else:
                if len(self._valid_instances) >= VALID_INSTANCES_MAX:
                    self._valid_instances.clear()
                self._valid_instances.add(instance)
        if self.read_only:
            raise ReadOnlyError(f"publish {resolved.wire} of {instance}")
        route, lanes = self._route(instance, resolved)
        if not lanes:
            return PublishTicket(route, ())
        envelope = build(
            resolved,
            instance,
            data,
            server_url=server_url or self.server_url,
            sender=sender,
            apikey=apikey if apikey is not None else self.apikey,
            origin=self.origin,
        )
        value = envelope.encode()
        # Kept as a tuple of (str, bytes) tuples, which the garbage collector stops tracking: one object
        # fewer per record held, so fewer full collections while tens of thousands are in flight.
        headers = tuple(envelope.headers)
        records = await self._outbox.put(lanes, value, headers)
        return PublishTicket(route, records)

    async def resend(
        self, target: topology.Target, value: bytes, headers: tuple[tuple[str, bytes], ...]
    ) -> PublishTicket:
        """Hand over a record as given (re-drive, :mod:`tui.kafka.redrive`): same outbox, order, retries and
        acknowledgement as :meth:`publish`. :class:`~tui.kafka.admin.ReadOnlyError` when read-only."""
        if self.read_only:
            raise ReadOnlyError(f"re-send a record to {target.topic}")
        records = await self._outbox.put((Lane(target),), value, headers)
        return PublishTicket(topology.Route((target,), ("re-sent",)), records)

    def _route(self, instance: str, event: catalog.Event) -> tuple[topology.Route, tuple[Lane, ...]]:
        """:func:`tui.topology.route`, remembered while the instance's settings (and ours) stay the same."""
        instance_settings = self.lookup.get(instance)
        key = (instance, event.name)
        cached = self._routes.get(key)
        if cached is not None and cached[0] == instance_settings and cached[1] is self.settings:
            return cached[2], cached[3]
        route = topology.route(self.settings, instance, event, instance_settings)
        lanes = tuple(Lane(target) for target in route.targets)
        if len(self._routes) >= ROUTES_MAX:
            self._routes.clear()
        self._routes[key] = (instance_settings, self.settings, route, lanes)
        return route, lanes

    # -- the connection --------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        immediate = True
        while True:
            await self._connect_with_backoff(immediate)
            self.policy.reset()
            self._last_error = None
            # A new connection starts with a clean slate: silence is measured from now, not from the old one.
            self._outbox.last_answer = time.monotonic()
            self._set_state(PublisherState.CONNECTED)
            self._outbox.wake()
            if not immediate:
                # Back after losing the connection: whatever was acknowledged may be gone (a broker that
                # restarted without its data). Read it back while publishing goes on.
                for where in self._outbox.losses.written():
                    self._outbox.losses.topic_vanished(where[0])
            await self._watch_connection()
            log.warning("publisher: connection lost: %s", self._last_error)
            # Not connected any more from now on, even while the old clients take their time to close.
            self._set_state(PublisherState.RECONNECTING)
            await self._disconnect(bound=max(self.options.connect_timeout_s, 1.0))
            self._lost.clear()
            immediate = False

    async def _connect_with_backoff(self, immediate: bool) -> None:
        while True:
            if immediate:
                immediate = False
                self._set_state(PublisherState.CONNECTING)
            else:
                delay = self.policy.next_delay()
                if delay is None:
                    await self._wait_in_failed()
                    immediate = True
                    continue
                self._set_state(
                    PublisherState.RECONNECTING, delay_ms=delay, next_try_at=time.time() + delay / 1000
                )
                await asyncio.sleep(delay / 1000)
                self._set_state(PublisherState.RECONNECTING, delay_ms=delay)
            try:
                await self._connect()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._last_error = reason(exc)
                log.info("publisher: cannot connect: %s", self._last_error)

    async def _wait_in_failed(self) -> None:
        self._set_state(PublisherState.FAILED)
        # Holding records for an operator who may never come back would hide them: report them now.
        self._outbox.fail_everything(
            f"not sent: gave up after {self.policy.max_attempts} reconnect attempts ({self._last_error})"
        )
        self._retry.clear()
        await self._retry.wait()
        self._retry.clear()
        self.policy.reset()

    async def _connect(self) -> None:
        admin, producer, idempotent = await open_connection(
            self.options, read_only=self.read_only, try_idempotence=not self._idempotence_refused
        )
        if not idempotent:
            self._idempotence_refused = True
        self._idempotence = idempotent
        self._admin, self._producer = admin, producer
        # A broker that restarted may have lost its topics: make (or check) them again.
        self._placement.reset()

    async def _disconnect(self, *, bound: float | None = None) -> None:
        producer, self._producer = self._producer, None
        admin, self._admin = self._admin, None
        if producer is not None:
            bound = bound if bound is not None else self.options.request_timeout_ms / 1000 + 5
            await close_producer(producer, bound=bound)
        if admin is not None:
            await admin.close()
        # Batches the old producer never answered get another attempt; their outcome is unknown.
        self._outbox.abandon_in_flight("the connection was dropped before the cluster answered")
        self._outbox.interrupt()


class _Link:
    """The publisher's connection as its outbox sees it (a :class:`~tui.kafka.publish.connection.ProducerLink`)."""

    __slots__ = ("_publisher",)

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def sending_producer(self) -> AIOKafkaProducer | None:
        publisher = self._publisher
        if publisher._state is PublisherState.CONNECTED and not publisher._lost.is_set():
            return publisher._producer
        return None

    def current_producer(self) -> AIOKafkaProducer | None:
        return self._publisher._producer

    def current_admin(self) -> Admin | None:
        return self._publisher._admin

    def refusal(self) -> str | None:
        publisher = self._publisher
        if publisher._state is PublisherState.FAILED:
            return f"not sent: the publisher has failed ({publisher._last_error}); retry"
        return None

    def lose(self, error: str) -> None:
        self._publisher._last_error = error
        self._publisher._lost.set()

    def changed(self) -> None:
        self._publisher._changed()


