"""The rows of the topic-layout view: the topic plan joined with what the cluster holds (:func:`layout_rows`,
:class:`TopicRow`), the counts read (:class:`TopicStats`) and the rates from successive counts (:class:`RateMeter`,
clock injectable).

Pure domain module: no I/O, no Textual, no aiokafka (``tui.kafka.topicstats`` reads the counts).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from tui import catalog
from tui.topology import GLOBAL, Layout, PlannedTopic, parse_topic

Clock = Callable[[], float]
"""Seconds from a monotonic clock (``time.monotonic``); tests pass their own."""

@dataclass(frozen=True, slots=True)
class TopicRow:
    """One topic of the layout: planned, existing, or both."""

    topic: str
    layout: Layout
    instance: str | None
    event: catalog.Event
    planned: bool
    partitions: int | None
    """Partitions in the cluster; None when the topic does not exist."""
    planned_partitions: int | None = None
    messages: int | None = None
    """Records held (end minus beginning offsets, summed over partitions); None when unknown."""
    rate: float | None = None
    """Records per second over the last refresh; None until two counts were seen."""

    @property
    def missing(self) -> bool:
        """Planned, but not in the cluster."""
        return self.planned and self.partitions is None

    @property
    def unplanned(self) -> bool:
        """In the cluster, but nothing in the configuration or the registry asks for it."""
        return not self.planned and self.partitions is not None

    @property
    def group(self) -> str:
        """The branch the topic hangs under: ``global`` or the instance name."""
        return GLOBAL if self.layout is Layout.GLOBAL else str(self.instance)


def layout_rows(
    plan: Iterable[PlannedTopic],
    existing: Mapping[str, int],
    prefix: str,
    counts: Mapping[str, int] | None = None,
    rates: Mapping[str, float] | None = None,
) -> list[TopicRow]:
    """The plan joined with the cluster's topics (``{name: partitions}``) under ``prefix``, sorted by group
    (global first) and event order; existing event topics the plan does not name are added as unplanned.
    Topics under the prefix that are not event topics (``P.something``) are left out."""
    counts = counts or {}
    rates = rates or {}
    rows: dict[str, TopicRow] = {}
    for planned in plan:
        rows[planned.topic] = TopicRow(
            planned.topic,
            planned.layout,
            planned.instance,
            planned.event,
            True,
            existing.get(planned.topic),
            planned.partitions,
            counts.get(planned.topic),
            rates.get(planned.topic),
        )
    for name, partitions in existing.items():
        if name in rows:
            continue
        ref = parse_topic(name, prefix)
        if ref is None:
            continue
        rows[name] = TopicRow(
            name, ref.layout, ref.instance, ref.event, False, partitions, None, counts.get(name), rates.get(name)
        )
    order = {e.name: i for i, e in enumerate(catalog.EVENTS)}
    return sorted(
        rows.values(),
        key=lambda r: (r.layout is not Layout.GLOBAL, r.instance or "", order[r.event.name], r.topic),
    )


class RateMeter:
    """Records per second per topic, from two successive counts."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, dict[str, int]] | None = None

    def update(self, counts: Mapping[str, int]) -> dict[str, float]:
        """Rates since the previous update. Empty on the first one (nothing to compare with) and when the
        clock did not move; a topic new since then, or whose count went down (a restarted, empty broker),
        reads 0."""
        now = self._clock()
        previous, self._last = self._last, (now, dict(counts))
        if previous is None or now <= previous[0]:
            return {}
        elapsed = now - previous[0]
        return {t: max(c - previous[1].get(t, c), 0) / elapsed for t, c in counts.items()}

    def reset(self) -> None:
        """Forget the last count (the next update starts over)."""
        self._last = None


@dataclass(frozen=True)
class TopicStats:
    """The topics under a prefix at one moment: what ``tui.kafka.topicstats.TopicStatsReader`` read."""

    partitions: Mapping[str, int] = field(default_factory=dict)
    """``{topic: partitions}`` for every topic under the prefix."""
    messages: Mapping[str, int] = field(default_factory=dict)
    """``{topic: records held}`` (end minus beginning offsets, summed over partitions)."""
    rates: Mapping[str, float] = field(default_factory=dict)
    """``{topic: records per second}`` since the previous read (empty after the first read)."""

    @property
    def total_rate(self) -> float:
        """Records per second over every topic."""
        return sum(self.rates.values())
