"""A stream pane's pipeline as the bench drives it: the pane's own subscription and its own ``ingest``.

Nothing is re-implemented here. The loop is the pane's reading worker (``StreamPane._read``): a
:class:`~tui.kafka.subscription.StreamSubscription` with the pane's batch size yields batches, and
:meth:`~tui.console.widgets.stream_pane.StreamPane.ingest` decodes each record (bounded), tests the pane's filter and
keeps the matches in its bounded :class:`~tui.panebuffer.PaneBuffer`. The pane is built with ``reading=False``
and never mounted: what is measured is the pipeline, not the screen (the console scenarios measure that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tui.console.widgets.stream_pane import BATCH_MAX, StreamPane
from tui.filters import FilterSpec
from tui.kafka.options import ConnectionOptions
from tui.kafka.subscription import StreamSubscription
from tui.records import Record
from tui.selection import PaneSpec, Selection

PANE_CAPACITY = 5000
"""The pane buffer's default size (``EVOKAFKA_PANE_BUFFER``)."""


class PanePipeline:
    """One pane's pipeline reading ``topic`` from its beginning, with ``filter`` (default: none)."""

    def __init__(
        self,
        options: ConnectionOptions,
        topic: str,
        *,
        prefix: str,
        capacity: int = PANE_CAPACITY,
        filter: FilterSpec | None = None,
    ) -> None:
        self.filter = filter or FilterSpec()
        spec = PaneSpec("bench", Selection(topics=(topic,)), start="earliest", filter=self.filter)
        self.pane = StreamPane(spec, prefix=prefix, capacity=capacity, reading=False)
        self.subscription = StreamSubscription(
            options, spec.selection, prefix=prefix, start=self.pane.start_position, batch_max=BATCH_MAX
        )
        self.batch_max = BATCH_MAX
        self.batches = 0
        self._batches: AsyncIterator[list[Record]] | None = None

    async def start(self) -> None:
        """Connect and position the subscription (not timed)."""
        await self.subscription.start()

    async def consume(self, count: int) -> None:
        """Run the pane's reading loop until ``count`` records went through it in all (called again, it reads on)."""
        buffer = self.pane.buffer
        if self._batches is None:
            self._batches = aiter(self.subscription.batches())
        batches = self._batches
        while buffer.received < count:
            self.pane.ingest(await anext(batches))
            self.batches += 1
            # As the pane's worker does: let other work in between batches.
            await asyncio.sleep(0)

    async def stop(self) -> None:
        """Disconnect."""
        await self.subscription.stop()

    def details(self) -> dict[str, Any]:
        """What the pipeline saw."""
        counters = self.pane.buffer.counters()
        return {
            "received": counters.received,
            "matched": counters.matched,
            "buffered": counters.buffered,
            "dropped": counters.dropped,
            "batches": self.batches,
            "batch_max": self.batch_max,
            "capacity": counters.capacity,
            "filter": self.filter.describe()
            if not self.filter.empty
            else "the pane's default (none): nothing is decoded at ingest",
        }
