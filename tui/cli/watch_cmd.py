"""``evokafka watch TOPIC… | -i INSTANCE | -e EVENT``: the console opened straight onto live panes.

The bare command takes the same arguments (``evokafka -i shop`` is ``evokafka watch -i shop``). One pane per
topic named; one per instance (its per-instance topics: every event, or the ``-e`` events); ``-e`` without
``-i``, one pane per event over every topic of that event (each instance's and the global one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import click

from tui import catalog
from tui.cli.common import Context, fail, parse_event_names, pass_context
from tui.selection import PaneSpec, Selection, StartPosition, ViewError

DEFAULT_START = "-20"
"""Where the panes start: the last records of each partition, then live."""


def watch_panes(
    prefix: str, topics: Iterable[str], instances: Iterable[str], events: Iterable[str], start: str = DEFAULT_START
) -> list[PaneSpec]:
    """The panes ``evokafka watch`` opens; :class:`ViewError` (one line) for a bad name or start position,
    :class:`tui.catalog.UnknownEventError` for an unknown event."""
    try:
        StartPosition.parse(start)
    except ValueError as exc:
        raise ViewError(str(exc)) from None
    wires = tuple(dict.fromkeys(catalog.lookup(name).wire for name in events))
    specs = [PaneSpec(topic, Selection(topics=(topic,)), start) for topic in dict.fromkeys(topics)]
    for instance in dict.fromkeys(instances):
        chosen = wires or tuple(e.wire for e in catalog.EVENTS)
        title = f"{instance} · {','.join(wires)}" if wires else instance
        specs.append(PaneSpec(title, Selection(instances=(instance,), events=chosen), start))
    if not instances:
        for wire in wires:
            # Every instance's topic of the event and the global one: the event part is always the wire name.
            pattern = rf"{re.escape(prefix)}\..+\.{re.escape(wire)}"
            specs.append(PaneSpec(wire, Selection(pattern=pattern), start))
    if not specs:
        raise ViewError("nothing to watch: name topics, -i INSTANCE or -e EVENT")
    for spec in specs:
        spec.selection.check(prefix)
    return specs


@click.command()
@click.argument("topics", nargs=-1)
@click.option("-i", "--instance", "instances", multiple=True, metavar="NAME",
              help="An instance's per-instance topics (repeat for more).")
@click.option("-e", "--event", "events", multiple=True, metavar="EVENT[,EVENT…]",
              help="Events: of the instances given, else every topic of the event (either name; repeat or comma).")
@click.option("--from", "start", default=DEFAULT_START, show_default=True,
              help="earliest | latest | -N (last N per partition) | @epoch-millis | ISO time.")
@pass_context
def command(
    ctx: Context, topics: tuple[str, ...], instances: tuple[str, ...], events: tuple[str, ...], start: str
) -> None:
    """Open the console straight onto live panes: one per TOPIC, per -i INSTANCE, or per -e EVENT."""
    settings = ctx.settings()
    names = [name for value in events for name in parse_event_names(value)]
    try:
        specs = watch_panes(settings.topic_prefix, topics, instances, names, start)
    except ViewError as exc:
        fail(str(exc))
    from tui.cli.console_cmd import open_console

    open_console(ctx, panes=tuple(specs))
