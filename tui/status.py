"""What the console shows about the things it is connected to: the cluster, the registry, the instance source,
the publisher and its deliveries, each stream reader, and the demo's chaos controls.

Plain frozen data: the Kafka layer and the session produce these, screens and the CLI show them. Pure domain
module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

# -- the cluster, the registry and the instance source (kept current by the console's session) -------------


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


# -- the publisher ---------------------------------------------------------------------------------------


class PublisherState(StrEnum):
    """Where the publisher's connection stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class PublisherStatus:
    """A snapshot of the publisher: connection state, reconnect schedule, counters, idempotence."""

    state: PublisherState
    attempt: int
    """Reconnect attempt n (0 when not reconnecting)."""
    max_attempts: int
    """N = ``KAFKA_RECONNECT_MAX_ATTEMPTS``."""
    delay_ms: int
    """The current backoff delay (0 when none)."""
    next_try_at: float | None
    """``time.time()`` of the next attempt, for a live countdown (None while trying or not reconnecting)."""
    last_error: str | None
    sent: int
    """Records handed over to the publisher."""
    acknowledged: int
    retried: int
    """Attempts after the first (a record sent three times counts two)."""
    failed: int
    """Records reported failed (with their error); never silently dropped."""
    idempotence: bool | None
    """None: not known yet; False: the broker refused it, carrying on with acks=all and one in flight."""

    @property
    def in_flight(self) -> int:
        """Records handed over and not settled yet."""
        return self.sent - self.acknowledged - self.failed

    def describe(self) -> str:
        """One loggable line."""
        if self.state is PublisherState.RECONNECTING:
            head = f"reconnecting: attempt {self.attempt}/{self.max_attempts}, delay {self.delay_ms} ms"
            if self.next_try_at is not None:
                head += f", next try in {max(0.0, self.next_try_at - time.time()):.1f}s"
            else:
                head += ", trying now"
        elif self.state is PublisherState.FAILED:
            head = f"failed after {self.max_attempts} reconnect attempts; retry to reconnect"
        else:
            head = self.state.value
        if self.last_error and self.state is not PublisherState.CONNECTED:
            head += f" (last error: {self.last_error})"
        idem = {
            None: "idempotence unknown",
            True: "idempotence on",
            False: "idempotence OFF (refused by the broker; acks=all, 1 request in flight)",
        }[self.idempotence]
        return (
            f"{head}; sent {self.sent}, acknowledged {self.acknowledged}, retried {self.retried}, "
            f"failed {self.failed}, in flight {self.in_flight}; {idem}"
        )


@dataclass(frozen=True)
class Delivery:
    """What became of one record: where it was written, or why it was not."""

    topic: str
    key: str
    partition: int | None
    offset: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Acknowledged by the broker."""
        return self.error is None


# -- stream readers ---------------------------------------------------------------------------------------


ReaderState = Literal["starting", "reading", "reconnecting", "stopped"]


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    """Where a reader following a subscription is (see :meth:`StreamSubscription.follow`)."""

    state: ReaderState
    attempt: int = 0
    """Reconnect attempt n (0 while reading)."""
    delay_ms: int = 0
    """The wait before that attempt."""
    error: str | None = None
    """Why the connection was lost (one line)."""

    def describe(self) -> str:
        """``reading`` or ``reconnecting… attempt 3 in 0.4 s (KafkaError: …)``."""
        if self.state != "reconnecting":
            return self.state
        text = f"reconnecting… attempt {self.attempt} in {self.delay_ms / 1000:.1f} s"
        return f"{text} ({self.error})" if self.error else text


# -- the demo's chaos controls -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChaosState:
    """What the chaos controls can do now."""

    available: bool
    link_cut: bool = False
    broker_running: bool = True
    last_error: str | None = None


# -- changes to instances ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryEntryChanged:
    """The cluster registry applied a change to ``name`` (whoever wrote it)."""

    name: str


@dataclass(frozen=True)
class SourceEntryChanged:
    """The instance source reported a change to ``name`` (a live source: the registry)."""

    name: str


SessionFact = (
    ClusterView | RegistryView | SourceView | PublisherStatus | ChaosState | RegistryEntryChanged | SourceEntryChanged
)
"""Every state change the console's session reports (one listener list, one bridge to the screens)."""
