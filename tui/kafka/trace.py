"""Trace a WhatsApp message's life (or a chat's) through an instance's topics, in both layouts.

:func:`trace` reads, without joining a consumer group, the per-instance topics of the instance (every
instance when none is given) and the global topics of the events that can refer to a message
(:data:`tui.flow.MESSAGE_EVENTS`; a chat adds chats, presence, labels and calls), each from the first record
of the time window on — the start offset found by :func:`tui.kafka.streams.offset_for_time`'s binary search
over the records, since the test broker answers offsets-for-times with 0 — to the end. Records that do not
contain the id's bytes are ruled out before any parsing; the rest become :class:`tui.flow.FlowStep` and the
answer a :class:`tui.flow.Timeline` with its gaps.

Never imports Textual: ``evokafka trace`` and a console screen call the same function.
"""

from __future__ import annotations

from tui.flow import FlowStep, Timeline, TraceQuery, steps_of, timeline
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.tail import read
from tui.selection import StartPosition
from tui.topology import Layout, parse_topic

END_IDLE_MS = 300
"""How long the reading waits, caught up, for nothing more to arrive (the window's end is now)."""


async def trace_topics(options: ConnectionOptions, query: TraceQuery, prefix: str) -> list[str]:
    """The existing topics that can hold ``query``'s records: the instance's own (both layouts), sorted."""
    async with Admin(options) as admin:
        names = await admin.topic_names()
    chosen: list[str] = []
    for name in names:
        ref = parse_topic(name, prefix)
        if ref is None or ref.event.wire not in query.events:
            continue
        if ref.layout is Layout.INSTANCE and query.instance is not None and ref.instance != query.instance:
            continue
        chosen.append(name)
    return sorted(chosen)


async def trace(
    options: ConnectionOptions, query: TraceQuery, *, prefix: str, end_idle_ms: int = END_IDLE_MS
) -> Timeline:
    """Every record of ``query``'s window that refers to its message (or chat), as a timeline with its gaps.

    :class:`tui.kafka.options.ClusterUnreachableError` / :class:`tui.kafka.streams.StreamError` when the cluster
    cannot be read.
    """
    topics = await trace_topics(options, query, prefix)
    if not topics:
        note = f"no topic under the prefix {prefix!r} can hold {query.describe()}"
        return timeline(query, (), topics=(), scanned=0, notes=(note,))
    steps: list[FlowStep] = []
    scanned = 0
    needle = query.needle
    async for batch in read(
        options, topics, StartPosition("time", query.since_ms), stop_at_end=True, end_idle_ms=end_idle_ms
    ):
        scanned += len(batch)
        for record in batch:
            if record.value is not None and needle in record.value:
                steps.extend(steps_of(record, query, prefix))
    return timeline(query, steps, topics=topics, scanned=scanned)
