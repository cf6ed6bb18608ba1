"""Where the event-flow screens are opened from: a record (a pane's row, the detail view), the command palette.

A record is explained for its instance and event, traced by the message id (or chat) its data names, and
re-driven through the session's publisher (marked re-sent). The palette asks for what a record would give.
Each function takes the screen or app it acts from; the ones that wait on a dialog or on Kafka run as workers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from textual.app import App, SystemCommand
from textual.dom import DOMNode

from tui import catalog
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.explain import ExplainScreen
from tui.console.screens.prompt_dialog import PromptDialog
from tui.console.screens.replay_dialog import ReplayDialog
from tui.console.screens.trace import TraceScreen
from tui.console.session_app import session_of
from tui.console.session_flow import flow_of
from tui.flow import MomentError, TraceQuery, parse_moment, references
from tui.records import Record
from tui.replay_plan import ReplayInputError, ReplayTarget
from tui.summaries import one_line
from tui.topology import parse_topic

TRACE_BACK_MS = 24 * 3600 * 1000
"""How far before the record a trace from a row starts reading (a receipt can come long after the upsert)."""
FLOW_WORKERS = "flow-actions"


def record_subject(record: Record, prefix: str) -> tuple[str, catalog.Event] | None:
    """The instance and event of a record: from its topic, the envelope's ``instance`` on a global topic."""
    ref = parse_topic(record.topic, prefix)
    if ref is None:
        return None
    instance = ref.instance
    if instance is None:
        body = record.decoded.body
        named = body.get("instance") if isinstance(body, dict) else None
        instance = named if isinstance(named, str) and named else None
    return (instance, ref.event) if instance else None


def trace_query(record: Record, prefix: str) -> TraceQuery | None:
    """The trace of the message a record refers to (else its chat), from a day before it; None: it names none."""
    subject = record_subject(record, prefix)
    body = record.decoded.body
    if subject is None or not isinstance(body, dict):
        return None
    instance, event = subject
    found = references(event.wire, body.get("data"))
    since = max(record.timestamp - TRACE_BACK_MS, 0)
    for ref in found:
        if ref.message_id:
            return TraceQuery(message_id=ref.message_id, instance=instance, since_ms=since)
    for ref in found:
        if ref.chat:
            return TraceQuery(chat=ref.chat, instance=instance, since_ms=since)
    return None


def explain_record(node: DOMNode, record: Record) -> None:
    """Open the explain screen for the record's instance and event."""
    subject = record_subject(record, session_of(node).settings.topic_prefix)
    if subject is None:
        node.app.notify("this record's topic names no instance and event", severity="warning")
        return
    node.app.push_screen(ExplainScreen(*subject))


def trace_record(node: DOMNode, record: Record) -> None:
    """Open the timeline of the message (or chat) the record refers to."""
    query = trace_query(record, session_of(node).settings.topic_prefix)
    if query is None:
        node.app.notify("this record refers to no WhatsApp message or chat", severity="warning")
        return
    node.app.push_screen(TraceScreen(query))


def redrive_record(node: DOMNode, record: Record) -> None:
    """Send the record again through the session's publisher, marked re-sent, once confirmed (refused when
    read-only)."""
    session = session_of(node)
    app = node.app
    if session.read_only:
        app.notify("re-send refused: the console is read-only", severity="warning")
        return

    async def send() -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        question = ConfirmDialog("Re-send this record?", f"{one_line(where, 120)} goes again to its topic, marked "
                                 "evokafka-resent: its consumers receive it a second time", yes="re-send")
        if not await app.push_screen_wait(question):
            return
        deliveries = await flow_of(session).redrive(record)
        for delivery in deliveries:
            if delivery.ok:
                app.notify(f"re-sent to {delivery.topic}[{delivery.partition}]@{delivery.offset} "
                           f"(marked evokafka-resent, from offset {record.offset})", timeout=5)
            else:
                app.notify(f"re-send failed: {one_line(delivery.error or '', 200)}", severity="error")

    app.run_worker(send(), group=FLOW_WORKERS, exit_on_error=False, name="re-send")


# -- the command palette ----------------------------------------------------------------------------------


def ask_explain(app: App[Any]) -> None:
    """Ask for an instance and an event, then explain them."""

    async def ask() -> None:
        instance = await app.push_screen_wait(PromptDialog("Explain: instance name"))
        if instance is None:
            return
        name = await app.push_screen_wait(PromptDialog("Explain: event (messages.upsert or MESSAGES_UPSERT)"))
        if name is None:
            return
        event = catalog.find(name)
        if event is None:
            hint = ", ".join(catalog.suggestions(name))
            app.notify(f"unknown event {one_line(name, 40)!r}" + (f"; did you mean {hint}?" if hint else ""),
                       severity="warning")
            return
        await app.push_screen(ExplainScreen(instance, event))

    app.run_worker(ask(), group=FLOW_WORKERS, exclusive=True, exit_on_error=False, name="explain prompt")


def ask_trace(app: App[Any]) -> None:
    """Ask for a message id (or chat JID) and an instance, then trace it over the last day."""

    async def ask() -> None:
        needle = await app.push_screen_wait(PromptDialog("Trace: WhatsApp message id, or chat JID (…@s.whatsapp.net)"))
        if needle is None:
            return
        instance = await app.push_screen_wait(PromptDialog("Trace: instance (empty: every instance)"))
        since = int(time.time() * 1000) - TRACE_BACK_MS
        is_chat = "@" in needle
        query = TraceQuery(None if is_chat else needle, needle if is_chat else None, instance or None, since)
        await app.push_screen(TraceScreen(query))

    app.run_worker(ask(), group=FLOW_WORKERS, exclusive=True, exit_on_error=False, name="trace prompt")


def replay_target(text: str, now_ms: int) -> ReplayTarget:
    """``-N``/``+N`` records, ``earliest``/``latest``/``N``/``P=N,…`` offsets, else a moment (``1h``, ISO, @ms).

    :class:`ValueError` with one line when it is none of these."""
    value = text.strip()
    if value[:1] in "+-" and value[1:].isdigit():
        return ReplayTarget.by(value)
    try:
        return ReplayTarget.to_offset(value)
    except ReplayInputError:
        pass
    try:
        return ReplayTarget("time", parse_moment(value, now_ms))
    except MomentError:
        raise ValueError(f"bad target {value!r}; allowed: -N records, an offset (N, P=N, earliest, latest), "
                         "or a time (1h, ISO, @ms)") from None


def ask_replay(app: App[Any], group: str | None = None) -> None:
    """Ask for a group (unless given), its topics and a target; show the dry run; reset on one confirmation."""
    session = session_of(app.screen)

    async def ask() -> None:
        chosen = group or await app.push_screen_wait(
            PromptDialog("Replay: consumer group", session.settings.consumer_group_id))
        if not chosen:
            return
        topics = await app.push_screen_wait(PromptDialog("Replay: topics (comma-separated)"))
        if not topics:
            return
        answer = await app.push_screen_wait(PromptDialog("Replay: move to (-N records, offset, or time like 1h)", "-10"))
        if answer is None:
            return
        try:
            target = replay_target(answer, int(time.time() * 1000))
        except ValueError as exc:
            app.notify(one_line(str(exc), 200), severity="warning")
            return
        names = [t for t in (x.strip() for x in topics.split(",")) if t]
        plan = await flow_of(session).plan_replay(chosen, names, target)
        if not await app.push_screen_wait(ReplayDialog(plan, read_only=session.read_only)):
            app.notify("nothing reset", timeout=3)
            return
        after = await flow_of(session).reset_group(plan)
        app.notify(f"group {one_line(after.group, 60)} moved: its consumers will receive {plan.again:,} records again",
                   timeout=6)

    app.run_worker(ask(), group=FLOW_WORKERS, exclusive=True, exit_on_error=False, name="replay")


def flow_commands(app: App[Any]) -> Iterator[SystemCommand]:
    """The palette's event-flow commands: explain, trace, replay."""
    yield SystemCommand("Explain an event", "Why an event of an instance did or did not arrive",
                        lambda: ask_explain(app))
    yield SystemCommand("Trace a message", "A WhatsApp message's life across the topics, with its gaps",
                        lambda: ask_trace(app))
    yield SystemCommand("Replay a consumer group", "Move a group back: dry run first, then one confirmation",
                        lambda: ask_replay(app))
