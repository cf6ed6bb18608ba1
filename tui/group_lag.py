"""A consumer group's lag: per topic and partition, the committed offset, the end offset and the lag.

Pure domain module (``tui.kafka.lag`` reads the figures).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """The lag of a group on one partition."""

    topic: str
    partition: int
    committed: int | None
    """None: the group never committed on this partition."""
    end: int
    """The partition's end offset (next offset to be written)."""

    @property
    def lag(self) -> int | None:
        """Records the group has still to process (None when it never committed)."""
        return None if self.committed is None else max(self.end - self.committed, 0)


@dataclass(frozen=True, slots=True)
class GroupLag:
    """A group's lag over every partition it committed on (or every partition asked for)."""

    group: str
    partitions: tuple[PartitionLag, ...]

    @property
    def total(self) -> int:
        """The sum of the known lags."""
        return sum(p.lag or 0 for p in self.partitions)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """One consumer group as the groups list shows it."""

    group: str
    state: str
    """The coordinator's word for it (``Stable``, ``Empty``, ``PreparingRebalance``…; ``?`` when unknown)."""
    members: int
    lag: int | None
    """The total lag over the partitions it committed on (None: could not be read)."""
    partitions: int = 0
    """Partitions it committed on."""
    error: str | None = None
    """Why the lag could not be read."""
