"""Replaying a consumer group, as a plan: per partition, from which offset to which, and how many records its
consumers will receive again — shown before anything moves (``evokafka replay``, the console's group list).

Also what a re-sent record carries (:data:`RESENT_HEADER`). Pure domain module: no I/O, no Textual, no aiokafka;
:mod:`tui.kafka.replay` asks the cluster and moves the group.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

RESENT_HEADER = "evokafka-resent"
"""Header of a re-sent record: ``topic:partition:offset`` of the record it copies (another header,
``evokafka-resent-at``, says when, ISO-8601)."""
RESENT_AT_HEADER = "evokafka-resent-at"

TargetKind = Literal["time", "offset", "by", "earliest", "latest"]


class ReplayInputError(ValueError):
    """A replay target that cannot be read (the message says what is allowed)."""


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """Where to move the group: to a time (ms), to an offset (one for every partition, or per partition), back
    ``by`` N records per partition, or to the earliest / latest offset."""

    kind: TargetKind
    value: int = 0
    per_partition: tuple[tuple[int, int], ...] = ()
    """``--to-offset P=N,…``: ``(partition, offset)`` pairs; partitions not named stay where they are."""

    @classmethod
    def to_offset(cls, text: str) -> ReplayTarget:
        """``N`` (every partition), ``P=N[,P=N…]``, ``earliest`` or ``latest``."""
        value = text.strip()
        if value == "earliest":
            return cls("earliest")
        if value == "latest":
            return cls("latest")
        if value.isdigit():
            return cls("offset", int(value))
        pairs: list[tuple[int, int]] = []
        for part in value.split(","):
            partition, sep, offset = part.strip().partition("=")
            if not sep or not partition.isdigit() or not offset.isdigit():
                raise ReplayInputError(
                    f"bad --to-offset {text!r}; allowed: N, PARTITION=N[,PARTITION=N…], earliest, latest"
                )
            pairs.append((int(partition), int(offset)))
        return cls("offset", per_partition=tuple(pairs))

    @classmethod
    def by(cls, text: str) -> ReplayTarget:
        """``-N``: N records back per partition (``+N`` skips N forward)."""
        value = text.strip()
        if len(value) > 1 and value[0] in "+-" and value[1:].isdigit() and int(value[1:]) > 0:
            return cls("by", int(value))
        raise ReplayInputError(f"bad --by {text!r}; allowed: -N (N records back per partition) or +N")

    def describe(self) -> str:
        """``back by 10 records``, ``to 2026-…`` (as ms), ``to offset 5``."""
        if self.kind == "by":
            return f"back by {-self.value} records" if self.value < 0 else f"forward by {self.value} records"
        if self.kind == "time":
            return f"to the first record at or after @{self.value}"
        if self.kind == "offset":
            if self.per_partition:
                return "to offsets " + ", ".join(f"{p}={o}" for p, o in self.per_partition)
            return f"to offset {self.value}"
        return f"to the {self.kind} offset"


@dataclass(frozen=True, slots=True)
class PartitionMove:
    """One partition of the plan."""

    topic: str
    partition: int
    committed: int | None
    """The group's committed offset now (None: it never committed here)."""
    target: int
    """The offset the group will read next after the reset."""
    begin: int
    end: int

    @property
    def moves(self) -> bool:
        """Whether the reset changes this partition."""
        return self.committed != self.target

    @property
    def again(self) -> int:
        """Records the group's consumers will receive again (already consumed, before the reset)."""
        if self.committed is None:
            return 0
        return max(self.committed - self.target, 0)

    @property
    def skipped(self) -> int:
        """Records the group will never receive (a move forward)."""
        start = self.begin if self.committed is None else self.committed
        return max(self.target - start, 0)

    def to_json(self) -> dict[str, Any]:
        """The partition as one JSON object."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "target": self.target,
            "begin": self.begin,
            "end": self.end,
            "again": self.again,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """The dry run: the group, whether it is live, and each partition's move."""

    group: str
    state: str
    """The group's state as the broker says it (Empty, Stable, Dead, …)."""
    members: tuple[str, ...]
    """Active members (client id or member id); a live group cannot be reset."""
    target: ReplayTarget
    moves: tuple[PartitionMove, ...]

    @property
    def live(self) -> bool:
        """Whether the group has active members (Kafka refuses to reset it)."""
        return bool(self.members)

    @property
    def again(self) -> int:
        """Records delivered again over every partition."""
        return sum(m.again for m in self.moves)

    @property
    def skipped(self) -> int:
        """Records skipped over every partition."""
        return sum(m.skipped for m in self.moves)

    @property
    def refusal(self) -> str | None:
        """Why the reset cannot be done now, or None."""
        if self.live:
            return (
                f"group {self.group} has {len(self.members)} active member(s) ({', '.join(self.members[:3])}): "
                "stop its consumers first — Kafka resets only a group without members"
            )
        if not any(m.moves for m in self.moves):
            return "nothing to move: the group is already there"
        return None

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON document."""
        return {
            "group": self.group,
            "state": self.state,
            "members": list(self.members),
            "live": self.live,
            "target": self.target.describe(),
            "partitions": [m.to_json() for m in self.moves],
            "again": self.again,
            "skipped": self.skipped,
            "refusal": self.refusal,
        }


def target_offset(target: ReplayTarget, partition: int, committed: int | None, begin: int, end: int) -> int:
    """Where ``target`` puts one partition (times are resolved by the caller into ``value`` per partition)."""
    if target.kind == "earliest":
        return begin
    if target.kind == "latest":
        return end
    if target.kind == "by":
        start = end if committed is None else committed
        wanted = start + target.value
    elif target.per_partition:
        named = dict(target.per_partition)
        wanted = named.get(partition, end if committed is None else committed)
    else:
        wanted = target.value
    return min(max(wanted, begin), end)


@dataclass(frozen=True, slots=True)
class RecordRef:
    """One record by its coordinates: ``topic:partition:offset``."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """``TOPIC:PARTITION:OFFSET`` (a topic name cannot contain ``:``)."""
        topic, _, rest = text.strip().partition(":")
        partition, _, offset = rest.partition(":")
        if not topic or not partition.isdigit() or not offset.isdigit():
            raise ReplayInputError(f"bad record {text!r}; expected TOPIC:PARTITION:OFFSET")
        return cls(topic, int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def resent_headers(
    original: RecordRef, headers: Iterable[tuple[str, bytes | None]], resent_at: str
) -> tuple[tuple[str, bytes], ...]:
    """The headers of a re-sent copy: the original's (an earlier re-send mark replaced), then the mark."""
    kept = tuple(
        (name, value or b"") for name, value in headers if name not in (RESENT_HEADER, RESENT_AT_HEADER)
    )
    return (*kept, (RESENT_HEADER, str(original).encode()), (RESENT_AT_HEADER, resent_at.encode()))


def with_data(value: bytes | None, data: Any) -> bytes:
    """An envelope ``value`` with its ``data`` replaced (an edited re-send); the rest of the body as it was.

    :class:`ReplayInputError` when ``value`` is not a JSON object.
    """
    try:
        body = json.loads(value or b"")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ReplayInputError("the record's value is not a JSON envelope: its data cannot be edited")
    body["data"] = data
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
