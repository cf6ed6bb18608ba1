"""What a stream pane reads: a :class:`Selection` of topics, a :class:`StartPosition`, and the :class:`PaneSpec`
that names them with a filter.

A :class:`Selection` says which topics a pane reads: raw topic names, a regex, or pick lists that speak the
layout (instances by events on per-instance topics, events on the global topics). It is plain data; the Kafka
layer (``tui.kafka.subscription``) reads it.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tui import catalog
from tui.filters import FilterError, FilterSpec
from tui.topology import InstanceNameError, Layout, topic_name, validate_instance


class ViewError(ValueError):
    """A view or selection that cannot be used; one line naming what is wrong."""


def _texts(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ViewError(f"{name}: expected a list of text")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which topics a pane reads. Everything given is read (the union)."""

    topics: tuple[str, ...] = ()
    """Raw topic names."""
    pattern: str = ""
    """A regex (full match) over topic names; topics created later that match are picked up."""
    instances: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    """With ``instances``: the per-instance topics of every instance and event."""
    global_events: tuple[str, ...] = ()
    """The global topics of these events."""

    @property
    def empty(self) -> bool:
        """Whether the selection names nothing at all."""
        return not (self.topics or self.pattern or (self.instances and self.events) or self.global_events)

    def check(self, prefix: str) -> None:
        """Raise :class:`ViewError` (one line) when a name, event or regex is unusable."""
        if bool(self.instances) != bool(self.events):
            raise ViewError("per-instance topics need both instances and events")
        if self.empty:
            raise ViewError("nothing to read: give topics, a regex, instances and events, or global events")
        for name in (*self.events, *self.global_events):
            if catalog.find(name) is None:
                suggestions = catalog.suggestions(name)
                hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
                raise ViewError(f"unknown event {name!r}{hint}")
        for instance in self.instances:
            try:
                validate_instance(instance, prefix)
            except InstanceNameError as exc:
                raise ViewError(str(exc)) from None
        for topic in self.topics:
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", topic):
                raise ViewError(f"illegal topic name {topic[:60]!r}; use letters, digits, '.', '_', '-'")
        if self.pattern:
            self.regex()

    def regex(self) -> re.Pattern[str] | None:
        """The compiled regex, or None; a bad one is a :class:`ViewError`."""
        if not self.pattern:
            return None
        try:
            return re.compile(self.pattern)
        except re.error as exc:
            raise ViewError(f"bad topic regex {self.pattern!r}: {exc}") from None

    def named_topics(self, prefix: str) -> list[str]:
        """The topics this selection names outright (raw names and the layout picks), sorted."""
        names = set(self.topics)
        for wire in self.events:
            event = catalog.lookup(wire)
            names.update(topic_name(prefix, Layout.INSTANCE, i, event) for i in self.instances)
        for wire in self.global_events:
            names.add(topic_name(prefix, Layout.GLOBAL, "", catalog.lookup(wire)))
        return sorted(names)

    def describe(self) -> str:
        """One short line of what is read."""
        parts: list[str] = []
        if self.instances:
            parts.append(f"{','.join(self.instances)}/{','.join(self.events)}")
        if self.global_events:
            parts.append("global/" + ",".join(self.global_events))
        if self.topics:
            parts.append(",".join(self.topics))
        if self.pattern:
            parts.append(f"/{self.pattern}/")
        return " + ".join(parts) or "nothing"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "topics": list(self.topics),
            "pattern": self.pattern,
            "instances": list(self.instances),
            "events": list(self.events),
            "global_events": list(self.global_events),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Selection:
        """The inverse of :meth:`to_dict`."""
        pattern = data.get("pattern", "")
        if not isinstance(pattern, str):
            raise ViewError("pattern: expected text")
        return cls(
            topics=_texts(data, "topics"),
            pattern=pattern,
            instances=_texts(data, "instances"),
            events=_texts(data, "events"),
            global_events=_texts(data, "global_events"),
        )


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """One pane of a view: its title, what it reads, where it starts and what it keeps."""

    title: str
    selection: Selection
    start: str = "latest"
    """As ``evokafka tail --from`` takes it: ``latest``, ``earliest``, ``-N``, ``@millis`` or an ISO time."""
    filter: FilterSpec = field(default_factory=FilterSpec)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "title": self.title,
            "selection": self.selection.to_dict(),
            "start": self.start,
            "filter": self.filter.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaneSpec:
        """The inverse of :meth:`to_dict`."""
        title, start = data.get("title", ""), data.get("start", "latest")
        selection, filters = data.get("selection", {}), data.get("filter", {})
        if not isinstance(title, str) or not isinstance(start, str):
            raise ViewError("pane title and start must be text")
        if not isinstance(selection, Mapping) or not isinstance(filters, Mapping):
            raise ViewError("pane selection and filter must be objects")
        try:
            spec = FilterSpec.from_dict(filters)
        except FilterError as exc:
            raise ViewError(str(exc)) from None
        return cls(title, Selection.from_dict(selection), start, spec)



@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where reading starts: ``earliest``, ``latest``, the last ``n`` per partition, or a time (ms)."""

    kind: Literal["earliest", "latest", "last", "time"] = "latest"
    value: int = 0

    @classmethod
    def parse(cls, text: str) -> StartPosition:
        """``earliest`` | ``latest`` | ``-N`` (last N per partition) | ``@MILLIS`` or ISO time."""
        text = text.strip()
        if text in ("earliest", "beginning"):
            return cls("earliest")
        if text in ("latest", "end"):
            return cls("latest")
        if text.startswith("-") and text[1:].isdigit():
            return cls("last", int(text[1:]))
        if text.startswith("@") and text[1:].isdigit():
            return cls("time", int(text[1:]))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"bad start position {text!r}; allowed: earliest, latest, -N, @epoch-millis, ISO time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls("time", int(moment.timestamp() * 1000))


def parse_position(text: str) -> tuple[int | None, int]:
    """``2/1234`` → ``(2, 1234)``; ``1234`` → ``(None, 1234)`` (any partition). ValueError (one line) else."""
    head, sep, tail = text.strip().partition("/")
    try:
        if sep:
            partition, offset = int(head), int(tail)
        else:
            partition, offset = None, int(head)
    except ValueError:
        raise ValueError(f"not a partition/offset: {text!r} (e.g. 2/1234 or 1234)") from None
    if offset < 0 or (partition is not None and partition < 0):
        raise ValueError(f"not a partition/offset: {text!r} (no negative numbers)")
    return partition, offset
