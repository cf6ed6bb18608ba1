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


# The registry's own account of itself (the Kafka layer's; RegistryView above is the console's start loop).


class RegistryHealthState(StrEnum):
    """The registry's health, as :attr:`tui.kafka.registry.InstanceRegistry.health` tells it: STARTING (being
    replayed), SYNCED (replayed, and the cluster answered a check a moment ago), NOT_ANSWERING (checks fail or
    get no answer for 2.5 s), LOST (the cluster lost entries it held: the topic vanished, was re-created or went
    back, and a replay no longer finds them; the registry keeps that copy and can restore it)."""

    STARTING = "starting"
    SYNCED = "synced"
    NOT_ANSWERING = "not answering"
    LOST = "lost"


@dataclass(frozen=True)
class RegistryHealth:
    """A snapshot of the registry's health, for displays."""

    state: RegistryHealthState
    topic: str
    detail: str | None = None
    """Why (the reader's error, or how the loss showed)."""
    lost_at: float | None = None
    """``time.time()`` when the loss was found (LOST only)."""
    held: int = 0
    """Entries of the copy this registry holds and can restore (LOST only)."""
    missing: tuple[str, ...] = ()
    """Instances of that copy the cluster does not hold as they were (LOST only)."""

    def describe(self) -> str:
        """One line: ``registry lost by the cluster at 12:03:07 (…); 5 instances held here can be restored``."""
        if self.state is RegistryHealthState.LOST:
            when = time.strftime("%H:%M:%S", time.localtime(self.lost_at or time.time()))
            why = f" ({self.detail})" if self.detail else ""
            return (
                f"registry lost by the cluster at {when}{why}; {len(self.missing)} of {self.held} instance(s) "
                "held here can be restored"
            )
        if self.state is RegistryHealthState.NOT_ANSWERING:
            return f"registry not answering ({self.detail or 'no answer'})"
        return f"registry {self.state.value}"


@dataclass(frozen=True)
class RegistryView:
    """The registry's state as the console shows it."""

    state: RegistryState = RegistryState.STARTING
    attempt: int = 0
    error: str | None = None
    next_try_at: float | None = None
    health: RegistryHealth | None = None
    """Once started: the registry's own health (synced, not answering, lost by the cluster)."""


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
    STALLED = "stalled"
    """Connected, but requests (or the idle probe) have had no answer for the stall threshold: the cluster is
    not answering. New records wait; the first answer brings CONNECTED back, a failed probe RECONNECTING."""
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
    lost: int = 0
    """Records acknowledged once and since lost by the cluster (no longer counted in ``acknowledged``)."""
    resent: int = 0
    """Records acknowledged after an attempt whose outcome was unknown (no answer, a stall, a broken link), sent
    again by evokafka or by the Kafka client itself: each may be in the topic twice ("resent, may be
    duplicated"); ``duplicates_seen`` says how many are, once read back."""
    stalled_s: float = 0.0
    """How long the cluster has not answered (while STALLED), in seconds."""
    stall_threshold_s: float = 2.0
    """No answer for this long to requests in flight (or to the idle probe) makes the publisher STALLED."""
    duplicates_seen: int | None = None
    """Extra copies of acknowledged records found when everything written was last read back (None: not
    read back yet; see :meth:`~tui.kafka.publish.publisher.EventPublisher.verify`)."""
    last_loss: str | None = None
    """The last loss found, on one line ("N acknowledged record(s) of T partition P lost by the cluster at
    HH:MM:SS: why"), or None."""

    @property
    def in_flight(self) -> int:
        """Records handed over and not settled yet (queued or waiting for an answer)."""
        return self.sent - self.acknowledged - self.failed - self.lost

    def headline(self) -> str:
        """The state on one line, without the counters (what the CLI narrates on each change)."""
        if self.state is PublisherState.RECONNECTING and self.attempt == 0:
            head = "reconnecting: the connection was lost; closing it"
        elif self.state is PublisherState.RECONNECTING:
            head = f"reconnecting: attempt {self.attempt}/{self.max_attempts}, delay {self.delay_ms} ms"
            if self.next_try_at is not None:
                head += f", next try in {max(0.0, self.next_try_at - time.time()):.1f}s"
            else:
                head += ", trying now"
        elif self.state is PublisherState.STALLED:
            head = (
                f"stalled: no answer from the cluster for {self.stalled_s:.1f}s "
                f"(stall threshold {self.stall_threshold_s:.1f}s); new records wait"
            )
        elif self.state is PublisherState.FAILED:
            head = f"failed after {self.max_attempts} reconnect attempts; retry to reconnect"
        else:
            head = self.state.value
        if self.last_error and self.state is not PublisherState.CONNECTED:
            head += f" (last error: {self.last_error})"
        return head

    def describe(self) -> str:
        """One loggable line."""
        head = self.headline()
        idem = {
            None: "idempotence unknown",
            True: "idempotence on",
            False: "idempotence OFF (refused by the broker; acks=all, 1 request in flight)",
        }[self.idempotence]
        counts = (
            f"sent {self.sent}, acknowledged {self.acknowledged}, retried {self.retried}, "
            f"resent {self.resent} (may be duplicated), failed {self.failed}, lost by the cluster {self.lost}, "
            f"in flight {self.in_flight}"
        )
        return f"{head}; {counts}; {idem}"


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
