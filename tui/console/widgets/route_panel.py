"""Where an event of an instance goes now (topics and keys), and why."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui import catalog
from tui.routing import EvolutionRoute, Verdict
from tui.topology import Route


def explain(
    event: catalog.Event, route: Route, note: str | None = None, evolution: EvolutionRoute | None = None
) -> Content:
    """``messages.upsert → both`` then one line per target, the reasons, what Evolution API 2.3.6 would do
    (``evolution``, :func:`tui.routing.evolution_route`) and ``note`` (e.g. why the instance source refuses the
    event) when given."""
    lines = [Content.from_markup("[b]$wire[/b] → [b]$where[/b]", wire=event.wire, where=route.where)]
    for target in route.targets:
        lines.append(
            Content.from_markup(
                "  $layout: [b]$topic[/b]  key [b]$key[/b]",
                layout=str(target.layout),
                topic=target.topic,
                key=target.key,
            )
        )
    lines.append(Content.from_markup("  [$text-muted]why: $why[/]", why="; ".join(route.reasons)))
    if evolution is not None:
        style = "$text-muted" if evolution.verdict is Verdict.PUBLISHED else "$warning"
        lines.append(Content.from_markup(f"  [{style}]$line[/]", line=evolution.summary))
    if note:
        lines.append(Content.from_markup("  [$error]$note[/]", note=note))
    return Content("\n").join(lines)


class RoutePanel(Static):
    """Explains the route of one event; updated by its screen."""

    def show(
        self, event: catalog.Event, route: Route, note: str | None = None, evolution: EvolutionRoute | None = None
    ) -> None:
        """Explain ``route`` for ``event`` (and what Evolution API would do, and ``note``)."""
        self.update(explain(event, route, note, evolution))
