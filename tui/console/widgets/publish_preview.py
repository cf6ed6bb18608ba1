"""What a send would do: target topics and keys, the headers, and why it goes there (or nowhere)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui import catalog
from tui.envelope import DEFAULT_ORIGIN
from tui.routing import EvolutionRoute, differences
from tui.topology import Route


def preview(
    event: catalog.Event,
    instance: str,
    route: Route,
    origin: str = DEFAULT_ORIGIN,
    evolution: EvolutionRoute | None = None,
) -> Content:
    """Targets (topic, key), headers and reasons, a line each; then, when ``evolution`` is given, each target
    Evolution API 2.3.6 would not send to (evokafka publishes any event: it is a test tool)."""
    lines: list[Content] = []
    if not route.targets:
        lines.append(Content.from_markup("[$warning]→ nowhere: nothing would be sent[/]"))
    for target in route.targets:
        lines.append(
            Content.from_markup(
                "→ [b]$topic[/b]  key [b]$key[/b] [$text-muted]($layout)[/]",
                topic=target.topic,
                key=target.key,
                layout=str(target.layout),
            )
        )
    lines.append(
        Content.from_markup(
            "[$text-muted]headers[/] event=$event instance=$instance origin=$origin timestamp=<at send>",
            event=event.wire,
            instance=instance,
            origin=origin,
        )
    )
    lines.append(Content.from_markup("[$text-muted]why: $why[/]", why="; ".join(route.reasons)))
    for line in differences(route, evolution) if evolution is not None else []:
        lines.append(Content.from_markup("[$warning]! $line[/]", line=line))
    return Content("\n").join(lines)


class PublishPreview(Static):
    """Updated by the publish screen whenever event, instance or the registry changes."""

    def show(
        self, event: catalog.Event, instance: str, route: Route, evolution: EvolutionRoute | None = None
    ) -> None:
        """Preview a send of ``event`` for ``instance`` along ``route`` (and where Evolution would not send)."""
        self.set_class(not route.targets, "-nowhere")
        self.update(preview(event, instance, route, evolution=evolution))

    def problem(self, text: str) -> None:
        """Show why nothing can be previewed (an illegal instance name)."""
        self.set_class(True, "-nowhere")
        self.update(Content.from_markup("[$error]$text[/]", text=text))
