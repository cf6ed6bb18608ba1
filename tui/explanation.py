"""Why an event of an instance did or did not arrive: one verdict line, then the reasons, each a fact checked live.

What ``evokafka explain INSTANCE EVENT`` (and the console's explain screen) shows: would Evolution API 2.3.6
publish it, where, and why not; each topic it would go to — does it exist, its partitions, the last record of
that instance and event (offset, partition, time, age); the lag of the consumer groups on those partitions;
whether the brokers answer. :mod:`tui.kafka.explain` gathers the facts; everything here is pure.

The routing answer is Evolution API 2.3.6's own rule, :func:`tui.routing.route_for`, taken through
:class:`RoutingAnswer` (which ``tui.routing.EvolutionRoute`` fits) so that a caller can pass another router.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tui import catalog
from tui.topology import Layout


class LegAnswer(Protocol):
    """One of the two places an event can go (``tui.routing.Leg`` fits)."""

    @property
    def layout(self) -> Layout: ...
    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def taken(self) -> bool: ...
    @property
    def reason(self) -> str: ...


class RoutingAnswer(Protocol):
    """What Evolution API would do with one event (``tui.routing.EvolutionRoute`` fits)."""

    @property
    def verdict(self) -> str: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def legs(self) -> tuple[LegAnswer, LegAnswer]: ...


PUBLISHED = "published"
DISABLED_INSTANCE = "a disabled instance publishes nothing per instance"


@dataclass(frozen=True, slots=True)
class LastRecord:
    """The newest record of the instance and event on a topic."""

    partition: int
    offset: int
    timestamp: int
    """Epoch ms: the envelope's ``timestamp``, else the record's."""

    def age_s(self, now_ms: int) -> float:
        """Seconds since the record (0 when it is in the future)."""
        return max(now_ms - self.timestamp, 0) / 1000


@dataclass(frozen=True, slots=True)
class GroupBehind:
    """A consumer group's position on the partition holding the last record."""

    group: str
    partition: int
    committed: int | None
    end: int

    @property
    def behind(self) -> int | None:
        """Records the group has still to read there (None: it never committed)."""
        return None if self.committed is None else max(self.end - self.committed, 0)


@dataclass(frozen=True, slots=True)
class TopicFacts:
    """One topic the event would go to (or would, if Evolution took that leg), as found live."""

    layout: Layout
    topic: str
    key: str
    taken: bool
    reason: str
    exists: bool
    partitions: int = 0
    last: LastRecord | None = None
    read: int = 0
    """Records read to find :attr:`last` (never the whole topic)."""
    groups: tuple[GroupBehind, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """Whether the brokers answer."""

    brokers: tuple[str, ...]
    reachable: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer: a verdict line, the reasons, the facts behind them."""

    instance: str
    event: str
    verdict: str
    reasons: tuple[str, ...]
    topics: tuple[TopicFacts, ...]
    cluster: ClusterFacts
    now_ms: int
    notes: tuple[str, ...] = field(default=())
    publisher: str | None = None
    """The state of evokafka's own publisher when one runs (the console's), e.g. ``connected``."""

    @property
    def arrived(self) -> TopicFacts | None:
        """The topic with the newest record of the instance and event, if any."""
        found = [t for t in self.topics if t.last is not None]
        return max(found, key=lambda t: t.last.timestamp if t.last else 0) if found else None

    @property
    def headline(self) -> str:
        """The verdict line."""
        subject = f"{self.event} of {self.instance}"
        if not self.cluster.reachable:
            return f"{subject}: cannot tell — the cluster does not answer ({self.cluster.error})"
        taken = [t for t in self.topics if t.taken]
        if self.verdict != PUBLISHED:
            # Never, whatever the settings: every place it could go is closed by Evolution's own code.
            never = bool(self.topics) and all(not t.taken and "never" in t.reason for t in self.topics)
            line = f"{subject}: {'never published' if never else self.verdict} by Evolution API 2.3.6"
            arrived = self.arrived
            if arrived is not None and arrived.last is not None:
                line += f" (yet a record is on {arrived.topic}, last at offset {arrived.last.offset})"
            return line
        where = ", ".join(t.topic for t in taken)
        arrived = self.arrived
        if arrived is None or arrived.last is None:
            return f"{subject}: published to {where} — but no record of it found there yet"
        last = arrived.last
        return (
            f"{subject}: published to {where}; last on {arrived.topic}[{last.partition}] at offset {last.offset}, "
            f"{_clock(last.timestamp)} ({_age(last.age_s(self.now_ms))} ago)"
        )

    def lines(self) -> list[str]:
        """The verdict line, then one line per reason and per fact."""
        out = [self.headline]
        shown = {t.reason for t in self.topics}
        out.extend(f"  - {reason}" for reason in self.reasons if reason not in shown)
        for t in self.topics:
            mark = "goes to" if t.taken else "not sent to"
            out.append(f"  {mark} {t.topic} ({t.layout.value}, key {t.key}): {t.reason}")
            if not t.exists:
                out.append("      topic does not exist")
                continue
            out.append(f"      exists, {t.partitions} partition(s)")
            if t.last is None:
                out.append(f"      no record of {self.instance} and {self.event} (read {t.read} from the end)")
            else:
                last = t.last
                out.append(
                    f"      last record: partition {last.partition}, offset {last.offset}, {_clock(last.timestamp)}, "
                    f"{_age(last.age_s(self.now_ms))} ago"
                )
            for g in t.groups:
                if g.behind is None:
                    out.append(f"      consumer group {g.group}: never committed on partition {g.partition}")
                elif t.last is not None:
                    out.append(
                        f"      published at {_clock(t.last.timestamp)}, consumer group {g.group} is "
                        f"{g.behind:,} records behind on partition {g.partition}"
                    )
                else:
                    out.append(f"      consumer group {g.group} is {g.behind:,} records behind on partition {g.partition}")
        state = "reachable" if self.cluster.reachable else f"not reachable ({self.cluster.error})"
        out.append(f"  brokers {', '.join(self.cluster.brokers)}: {state}")
        if self.publisher is not None:
            out.append(f"  evokafka's publisher: {self.publisher}")
        out.extend(f"  note: {note}" for note in self.notes)
        return out

    def to_json(self) -> dict[str, Any]:
        """One document with the same facts."""
        return {
            "instance": self.instance,
            "event": self.event,
            "verdict": self.verdict,
            "headline": self.headline,
            "reasons": list(self.reasons),
            "topics": [
                {
                    "topic": t.topic,
                    "layout": t.layout.value,
                    "key": t.key,
                    "taken": t.taken,
                    "reason": t.reason,
                    "exists": t.exists,
                    "partitions": t.partitions,
                    "last": None if t.last is None else {
                        "partition": t.last.partition,
                        "offset": t.last.offset,
                        "timestamp": t.last.timestamp,
                        "time": _iso(t.last.timestamp),
                        "age_s": round(t.last.age_s(self.now_ms), 3),
                    },
                    "read": t.read,
                    "groups": [
                        {"group": g.group, "partition": g.partition, "committed": g.committed, "end": g.end,
                         "behind": g.behind}
                        for g in t.groups
                    ],
                }
                for t in self.topics
            ],
            "cluster": {"brokers": list(self.cluster.brokers), "reachable": self.cluster.reachable,
                        "error": self.cluster.error},
            "publisher": self.publisher,
            "notes": list(self.notes),
        }


def explanation(
    instance: str, event: catalog.Event, route: RoutingAnswer, topics: Sequence[TopicFacts], cluster: ClusterFacts,
    now_ms: int, notes: Sequence[str] = (), publisher: str | None = None, instance_enabled: bool | None = None,
) -> Explanation:
    """The answer from the routing answer and the facts found (``publisher``: evokafka's publisher state;
    ``instance_enabled``: the instance's Kafka switch, when it has settings)."""
    reasons = tuple(route.reasons)
    if instance_enabled is False:
        reasons += (DISABLED_INSTANCE,)
    return Explanation(instance, event.wire, str(route.verdict), reasons, tuple(topics), cluster,
                       now_ms, tuple(notes), publisher)


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clock(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
