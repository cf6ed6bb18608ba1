"""The demo, in the Kafka layer: an embedded broker behind a link proxy, a seeded registry, live traffic.

:class:`DemoRunner` starts the embedded Tansu broker behind a :class:`~tui.demo.linkproxy.LinkProxy` (the
broker advertises the proxy's port, so every client goes through it and the link can be cut without losing
the broker's data), seeds the :class:`~tui.kafka.registry.InstanceRegistry` with the demo instances, and
publishes :class:`~tui.demo.traffic.Traffic` through the real :class:`~tui.kafka.publish.publisher.EventPublisher` at
a steady rate. Chaos controls cut and restore the link, and stop and start the broker. With an existing cluster
(``external``) there is no embedded broker and no chaos.

Never imports Textual: the console and ``evokafka demo --no-ui`` drive the same runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.envfile import default_env_path, write_env_file
from tui.demo.linkproxy import LinkProxy
from tui.demo.readers import DemoReaders
from tui.demo.traffic import DemoInstance, Traffic, TrafficEvent, demo_instances
from tui.kafka.options import ConnectionOptions
from tui.kafka.publish.delivery import PublishTicket
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import DEFAULT_TOPIC, InstanceRegistry
from tui.listeners import Listeners
from tui.status import ChaosState, Delivery

log = logging.getLogger(__name__)

DEMO_SERVER_URL = "http://localhost:8080"
"""The ``server_url`` of the demo's envelopes: where an Evolution API server usually listens."""
MAX_IN_FLIGHT = 1000
"""Events handed to the publisher and not yet acknowledged or failed. When the link is down the traffic
pauses at this bound instead of piling up messages without end."""
SEED_TIMEOUT_S = 15.0


class ChaosUnavailableError(RuntimeError):
    """Chaos needs the embedded broker; the demo runs against an existing cluster."""


@dataclass(frozen=True)
class DemoConfig:
    """What ``evokafka demo`` was asked for."""

    rate: float = 10.0
    """Events per second handed to the publisher (one event may go to two topics)."""
    instances: int = 5
    seed: int = 1
    global_enabled: bool = True
    """Publish to the global topics too: both layouts side by side."""
    duration: float | None = None
    """Stop the traffic after this many seconds; None: until stopped."""
    external: bool = False
    """Use the cluster in the settings instead of the embedded broker (no chaos then)."""
    readers: bool = True
    """Run the demo's own consumer group (``KAFKA_CONSUMER_GROUP_ID``), which falls behind and catches up."""


@dataclass(frozen=True)
class DemoDelivery:
    """One event of the traffic and where it ended: one delivery per target topic (none: routed nowhere)."""

    item: TrafficEvent
    deliveries: tuple[Delivery, ...]

    @property
    def ok(self) -> bool:
        """Every target acknowledged it."""
        return all(d.error is None for d in self.deliveries)


@dataclass
class DemoStats:
    """What the traffic did so far."""

    events: int = 0
    """Events handed to the publisher."""
    nowhere: int = 0
    """Events no topic wanted (disabled instance, event off everywhere)."""
    acknowledged: int = 0
    """Records acknowledged by the broker."""
    failed: int = 0
    """Records reported failed."""
    by_topic: Counter[str] = field(default_factory=Counter)
    """Acknowledged records per topic."""


DeliveryListener = Callable[[DemoDelivery], None]
ChaosListener = Callable[[ChaosState], None]


class DemoRunner:
    """The demo's broker, proxy, registry, publisher and traffic; :meth:`stop` stops every one of them."""

    def __init__(
        self,
        settings: KafkaSettings,
        config: DemoConfig | None = None,
        *,
        registry_topic: str = DEFAULT_TOPIC,
        broker_log: Path | None = None,
    ) -> None:
        self.config = config or DemoConfig()
        self.base_settings = settings
        self.registry_topic = registry_topic
        self.instances: list[DemoInstance] = demo_instances(self.config.instances)
        self.traffic = Traffic(self.instances, seed=self.config.seed, wall=time.time)
        self.stats = DemoStats()
        self.broker: EmbeddedBroker | None = None
        self.proxy: LinkProxy | None = None
        self._broker_log = broker_log
        overrides: dict[str, object] = {"global_enabled": self.config.global_enabled}
        self._ports: tuple[int, int] | None = None
        if not self.config.external:
            # Ports chosen now, so that the settings (and the clients built on them) exist before any I/O:
            # the console can be built around the publisher and the registry before the broker runs.
            self._ports = (free_port(), free_port())
            overrides["brokers"] = [f"127.0.0.1:{self._ports[1]}"]
        self.settings = settings.model_copy(update=overrides)
        """The effective settings: the link proxy's address unless the demo runs on an existing cluster."""
        self.options = ConnectionOptions.from_settings(self.settings)
        self.registry = InstanceRegistry(self.settings, topic=registry_topic, options=self.options)
        """The registry the demo seeds (started by :meth:`start`)."""
        self.publisher = EventPublisher(
            self.settings, self.registry, options=self.options, server_url=DEMO_SERVER_URL
        )
        """The publisher the traffic goes through (started by :meth:`start`)."""
        self._by_name = {i.name: i for i in self.instances}
        self._pending: asyncio.Queue[tuple[TrafficEvent, PublishTicket]] = asyncio.Queue(MAX_IN_FLIGHT)
        self._drainer: asyncio.Task[None] | None = None
        # A listener's bug is logged and must not stop the traffic.
        self._listeners: Listeners[DemoDelivery] = Listeners(lambda _: log.exception("demo delivery listener failed"))
        self._chaos_listeners: Listeners[ChaosState] = Listeners(lambda _: log.exception("demo chaos listener failed"))
        self._chaos_error: str | None = None
        self._chaos_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._started = False
        self._stopped = False
        self.readers = DemoReaders(self.options, self.settings.consumer_group_id, self.settings.topic_prefix,
                                   self.config.rate)
        """The demo's consumer group (run by :meth:`start` unless ``config.readers`` is off)."""
        self._readers_task: asyncio.Task[None] | None = None
        self.env_file: Path | None = None
        """The demo's settings as a ``.env`` file for a second terminal (written by :meth:`start`)."""

    @property
    def second_terminal(self) -> str:
        """The command that opens a console on this demo from another terminal."""
        env = f" --env-file {self.env_file}" if self.env_file is not None else ""
        return f"evokafka --brokers {self.bootstrap}{env}"

    # -- the parts -------------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """Where clients connect (the link proxy in front of the embedded broker, or the cluster)."""
        return ",".join(self.settings.brokers)

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start broker and proxy (unless external), the registry (seeded) and the publisher.

        :class:`tui.demo.broker.BrokerError` when the embedded broker cannot start;
        :class:`tui.kafka.admin.ClusterUnreachableError` when the cluster does not answer.
        """
        if self._started:
            return
        self._started = True
        try:
            if self._ports is not None:
                await self._start_embedded(*self._ports)
            await self.registry.start()
            await self._seed()
            await self.publisher.start()
            self._drainer = asyncio.create_task(self._drain(), name="demo:deliveries")
            self._write_env_file()
            if self.config.readers:
                self._readers_task = asyncio.create_task(self.readers.run(), name="demo:readers")
        except BaseException:
            await self.stop()
            raise

    def _write_env_file(self) -> None:
        try:
            self.env_file = write_env_file(self.settings, self.registry_topic, default_env_path(self.bootstrap))
        except OSError as exc:  # the demo runs without it; the command then names --brokers only
            log.warning("demo: cannot write the settings file: %s", exc)

    async def _start_embedded(self, broker_port: int, proxy_port: int) -> None:
        self.proxy = LinkProxy("127.0.0.1", broker_port, listen_port=proxy_port)
        await self.proxy.start()
        self.broker = EmbeddedBroker(broker_port, advertised_port=proxy_port, log_path=self._broker_log)
        # Starting waits (bounded) for the port: keep the event loop free meanwhile.
        await asyncio.to_thread(self.broker.start)

    async def _seed(self) -> None:
        async with asyncio.timeout(SEED_TIMEOUT_S):
            for instance in self.instances:
                await self.registry.set(instance.name, instance.settings)

    async def run(self) -> None:
        """Publish the traffic at ``config.rate`` until :meth:`stop` or ``config.duration`` (then return)."""
        loop = asyncio.get_running_loop()
        publisher = self.publisher
        if not self._started:
            raise RuntimeError("the demo is not started")
        interval = 1.0 / self.config.rate
        deadline = loop.time() + self.config.duration if self.config.duration is not None else None
        next_at = loop.time()
        for item in self.traffic:
            if self._stopping.is_set() or (deadline is not None and loop.time() >= deadline):
                return
            instance = self._by_name[item.instance]
            ticket = await publisher.publish(
                item.event, item.instance, item.data, sender=instance.owner, apikey=instance.apikey
            )
            self.stats.events += 1
            if ticket.route.targets:
                # Waits when MAX_IN_FLIGHT events are unresolved (link down): the traffic pauses, nothing piles up.
                await self._pending.put((item, ticket))
            else:
                self.stats.nowhere += 1
                self._notify(DemoDelivery(item, ()))
            next_at += interval
            delay = next_at - loop.time()
            if delay > 0:
                # Pacing to the asked rate, not a wait for a condition.
                await asyncio.sleep(delay)
            elif delay < -1.0:
                next_at = loop.time()  # fell behind (paused): go on at the rate, do not burst to catch up

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the current event (callable from a listener)."""
        self._stopping.set()

    async def _drain(self) -> None:
        # One ticket at a time, in order: the publisher keeps one request in flight, so deliveries end in order.
        while True:
            item, ticket = await self._pending.get()
            try:
                deliveries = tuple(await ticket.wait())
            finally:
                self._pending.task_done()
            for delivery in deliveries:
                if delivery.error is None:
                    self.stats.acknowledged += 1
                    self.stats.by_topic[delivery.topic] += 1
                else:
                    self.stats.failed += 1
            self._notify(DemoDelivery(item, deliveries))

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop the traffic, flush the publisher (every message ends acknowledged or failed), then stop the
        registry, the proxy and the broker. Safe to call more than once."""
        self._stopping.set()
        if self._stopped:
            return
        self._stopped = True
        readers, self._readers_task = self._readers_task, None
        if readers is not None:
            readers.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(readers, timeout=timeout)
        env_file, self.env_file = self.env_file, None
        if env_file is not None:
            with contextlib.suppress(OSError):
                env_file.unlink()
        if self.proxy is not None and self.proxy.is_cut:
            # In-flight messages get through instead of waiting out their retries.
            with contextlib.suppress(Exception):
                await self.proxy.restore()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.publisher.stop(), timeout=timeout)
        drainer, self._drainer = self._drainer, None
        if drainer is not None:
            # The publisher has resolved every ticket: what is queued completes at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pending.join(), timeout=timeout)
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await drainer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.registry.stop(), timeout=timeout)
        proxy, self.proxy = self.proxy, None
        if proxy is not None:
            with contextlib.suppress(Exception):
                await proxy.stop()
        broker, self.broker = self.broker, None
        if broker is not None:
            await asyncio.to_thread(broker.stop)

    # -- listening -------------------------------------------------------------------------------------

    def subscribe(self, listener: DeliveryListener) -> Callable[[], None]:
        """Call ``listener`` for each event once it ended (acknowledged, failed, or routed nowhere)."""
        return self._listeners.add(listener)

    def subscribe_chaos(self, listener: ChaosListener) -> Callable[[], None]:
        """Call ``listener`` whenever the link or the broker changes."""
        return self._chaos_listeners.add(listener)

    def _notify(self, delivery: DemoDelivery) -> None:
        self._listeners.notify(delivery)

    def _chaos_changed(self) -> None:
        self._chaos_listeners.notify(self.chaos)

    def describe(self) -> str:
        """One status line: traffic counters, producer state, link and broker."""
        stats = self.stats
        parts = [
            f"{stats.events} events",
            f"{stats.acknowledged} records acked",
            f"{stats.failed} failed",
            f"{stats.nowhere} routed nowhere",
            f"{len(stats.by_topic)} topics",
        ]
        if self._started:
            status = self.publisher.status
            state = status.state.value
            if status.attempt:
                state += f" (attempt {status.attempt}/{status.max_attempts})"
            parts.append(f"producer {state}")
        chaos = self.chaos
        if chaos.available:
            parts.append("link cut" if chaos.link_cut else "link up")
            parts.append("broker up" if chaos.broker_running else "broker stopped")
        return " · ".join(parts)

    # -- chaos -----------------------------------------------------------------------------------------

    @property
    def chaos(self) -> ChaosState:
        """What the chaos controls see now."""
        if self.config.external or self.proxy is None:
            return ChaosState(available=False, last_error=self._chaos_error)
        running = self.broker is not None and self.broker.running
        return ChaosState(True, self.proxy.is_cut, running, self._chaos_error)

    def _embedded(self) -> tuple[LinkProxy, EmbeddedBroker]:
        if self.proxy is None or self.broker is None:
            raise ChaosUnavailableError("chaos needs the embedded broker (the demo runs on an existing cluster)")
        return self.proxy, self.broker

    async def cut_link(self) -> None:
        """Drop every client connection to the broker and refuse new ones; the broker keeps its data."""
        proxy, _ = self._embedded()
        async with self._chaos_lock:
            await proxy.cut()
        self._chaos_changed()

    async def restore_link(self) -> None:
        """Let clients reach the broker again."""
        proxy, _ = self._embedded()
        async with self._chaos_lock:
            await proxy.restore()
        self._chaos_changed()

    async def toggle_link(self) -> None:
        """Cut the link when it is up, restore it when it is cut."""
        proxy, _ = self._embedded()
        await (self.restore_link() if proxy.is_cut else self.cut_link())

    async def stop_broker(self) -> None:
        """Stop the broker process. Its storage is in memory: when it starts again it is empty."""
        _, broker = self._embedded()
        async with self._chaos_lock:
            await asyncio.to_thread(broker.stop)
        self._chaos_changed()

    async def start_broker(self) -> None:
        """Start the broker again on the same port and seed the registry anew (the broker came back empty)."""
        _, broker = self._embedded()
        async with self._chaos_lock:
            self._chaos_error = None
            await asyncio.to_thread(broker.start)
            try:
                await self._seed()
            except Exception as exc:  # the traffic goes on: the publisher still knows the settings
                self._chaos_error = f"registry not re-seeded: {exc.__class__.__name__}: {exc}"
                log.warning("demo: %s", self._chaos_error)
        self._chaos_changed()

    async def toggle_broker(self) -> None:
        """Stop the broker when it runs, start it when it is stopped."""
        _, broker = self._embedded()
        await (self.stop_broker() if broker.running else self.start_broker())
