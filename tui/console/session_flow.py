"""The session's side of event-flow debugging: explain, trace, replay, re-drive and the matrix's reading.

Part of the console's one door beside :mod:`tui.console.session` (listed with it in the layer test): the screens
reach it as ``flow_of(session)`` and never import the Kafka layer; the session itself needs no change for it. Each call runs in a screen's worker; failures are raised as :class:`FlowError` with one
line for people (the Kafka layer's own errors are translated here, so screens need not know them).

Imports no Textual.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui import catalog
from tui.evolution.source import SOURCE_ERRORS
from tui.explanation import Explanation
from tui.failures import reason
from tui.flow import Timeline, TraceQuery
from tui.handles import StreamReader
from tui.kafka.explain import explain
from tui.kafka.options import ClusterUnreachableError, ReadOnlyError
from tui.kafka.redrive import RedriveError, redrive
from tui.kafka.replay import ReplayError, plan_replay, reset_group
from tui.kafka.streams import StreamError
from tui.kafka.trace import trace
from tui.records import Record
from tui.replay_plan import ReplayPlan, ReplayTarget
from tui.selection import Selection, StartPosition
from tui.status import Delivery

if TYPE_CHECKING:
    from tui.console.session import Session

_FAILURES = (ReplayError, RedriveError, ReadOnlyError, ClusterUnreachableError, StreamError, OSError)


class FlowError(RuntimeError):
    """An explain, trace, replay or re-drive that could not be done: one line saying why."""


class EventFlow:
    """Event-flow debugging on one session's cluster, settings and publisher."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def read_only(self) -> bool:
        """Whether writes (replay resets, re-sends) are refused."""
        return self._session.read_only

    async def explain(self, instance: str, event: catalog.Event, groups: Sequence[str] = ()) -> Explanation:
        """Why ``event`` of ``instance`` did or did not arrive, checked now (the instance read from the source)."""
        session = self._session
        notes: list[str] = []
        found = None
        try:
            found = (await session.read_instance(instance)).settings
        except SOURCE_ERRORS as exc:
            notes.append(f"the instance source ({session.instance_source.label}) could not be read: {exc}")
        else:
            if found is None:
                notes.append(f"{instance} has no Kafka settings in {session.instance_source.label}")
        return await explain(
            session.options,
            session.settings,
            instance,
            event,
            found,
            groups=groups,
            notes=notes,
            publisher=session.publisher_status.describe(),
        )

    async def trace(self, query: TraceQuery) -> Timeline:
        """Every record of ``query``'s window that refers to its message or chat, with the gaps."""
        try:
            return await trace(self._session.options, query, prefix=self._session.settings.topic_prefix)
        except _FAILURES as exc:
            raise FlowError(reason(exc)) from None

    async def plan_replay(self, group: str, topics: Sequence[str], target: ReplayTarget) -> ReplayPlan:
        """The dry run of moving ``group`` on ``topics`` to ``target``."""
        try:
            return await plan_replay(self._session.options, group, topics, target)
        except _FAILURES as exc:
            raise FlowError(str(exc) or reason(exc)) from None

    async def reset_group(self, plan: ReplayPlan) -> ReplayPlan:
        """Move the group as the dry run said (refused in read-only mode and for a live group)."""
        try:
            return await reset_group(self._session.options, plan, read_only=self.read_only)
        except _FAILURES as exc:
            raise FlowError(str(exc) or reason(exc)) from None

    async def redrive(self, record: Record) -> list[Delivery]:
        """Send ``record`` again, unchanged, to its own topic through the session's publisher, marked re-sent."""
        try:
            return await redrive(self._session.publisher, [record], prefix=self._session.settings.topic_prefix)
        except _FAILURES as exc:
            raise FlowError(str(exc) or reason(exc)) from None

    def matrix_reader(self, start: StartPosition) -> StreamReader:
        """A live reading of every event topic under the prefix, both layouts, for the matrix."""
        prefix = self._session.settings.topic_prefix
        return self._session.follow(Selection(pattern=re.escape(prefix) + r"\..+"), start)


def flow_of(session: Session) -> EventFlow:
    """Event-flow debugging on ``session``'s cluster, settings and publisher."""
    return EventFlow(session)
