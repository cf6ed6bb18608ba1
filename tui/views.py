"""Saved views: the set of stream panes (what each reads, where it starts, what it keeps), named and reopened.

Stored as JSON in the user's configuration directory: ``$EVOKAFKA_CONFIG_DIR/views.json`` when that is set,
else ``$XDG_CONFIG_HOME/evokafka/views.json`` (``~/.config/evokafka/views.json``).

A :class:`Selection` says which topics a pane reads: raw topic names, a regex, or pick lists that speak the
layout (instances by events on per-instance topics, events on the global topics). It is plain data; the Kafka
layer (``tui.kafka.streams``) reads it.

Pure-ish domain module: file I/O only, no Textual, no aiokafka.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tui import catalog
from tui.filters import FilterError, FilterSpec
from tui.topology import InstanceNameError, Layout, topic_name, validate_instance

VIEWS_FILE = "views.json"
Arrangement = Literal["tabs", "grid"]


class ViewError(ValueError):
    """A view or selection that cannot be used; one line naming what is wrong."""


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where evokafka keeps the user's files (``EVOKAFKA_CONFIG_DIR`` wins over ``XDG_CONFIG_HOME``)."""
    env = os.environ if environ is None else environ
    if env.get("EVOKAFKA_CONFIG_DIR"):
        return Path(env["EVOKAFKA_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "evokafka"


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
class View:
    """A named set of panes and how they are arranged."""

    name: str
    panes: tuple[PaneSpec, ...]
    arrangement: Arrangement = "tabs"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {"name": self.name, "arrangement": self.arrangement, "panes": [p.to_dict() for p in self.panes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> View:
        """The inverse of :meth:`to_dict`."""
        name, arrangement, panes = data.get("name"), data.get("arrangement", "tabs"), data.get("panes", [])
        if not isinstance(name, str) or not name.strip():
            raise ViewError("a view needs a name")
        if arrangement not in ("tabs", "grid"):
            raise ViewError(f"view {name!r}: arrangement must be tabs or grid")
        if not isinstance(panes, list) or not all(isinstance(p, Mapping) for p in panes):
            raise ViewError(f"view {name!r}: panes must be a list of objects")
        return cls(name, tuple(PaneSpec.from_dict(p) for p in panes), arrangement)


class ViewStore:
    """The saved views file. Reading a damaged file never raises: what cannot be read is in ``problems``."""

    def __init__(self, path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> None:
        self.path = path if path is not None else config_dir(environ) / VIEWS_FILE
        self.problems: list[str] = []

    def load(self) -> dict[str, View]:
        """Every readable view by name (the file missing means none)."""
        self.problems = []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{self.path}: cannot read ({exc.__class__.__name__})")
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problems.append(f"{self.path}: not JSON (line {exc.lineno}: {exc.msg})")
            return {}
        items = data.get("views") if isinstance(data, dict) else None
        if not isinstance(items, list):
            self.problems.append(f"{self.path}: expected {{\"views\": [...]}}")
            return {}
        views: dict[str, View] = {}
        for index, item in enumerate(items):
            try:
                if not isinstance(item, Mapping):
                    raise ViewError("expected an object")
                view = View.from_dict(item)
            except ViewError as exc:
                self.problems.append(f"{self.path}: view #{index + 1} skipped: {exc}")
                continue
            views[view.name] = view
        return views

    def names(self) -> list[str]:
        """The saved views' names, sorted."""
        return sorted(self.load())

    def get(self, name: str) -> View:
        """The view called ``name``; :class:`ViewError` when there is none."""
        views = self.load()
        if name not in views:
            known = ", ".join(sorted(views)) or "none saved"
            raise ViewError(f"no view named {name!r} (known: {known})")
        return views[name]

    def save(self, view: View) -> None:
        """Save (or replace) ``view``; the file is replaced atomically. A damaged file is first kept
        beside it as ``views.json.bak`` so nothing the operator wrote is lost."""
        if not view.name.strip():
            raise ViewError("a view needs a name")
        views = self.load()
        if self.problems and self.path.exists():
            os.replace(self.path, self.path.with_name(self.path.name + ".bak"))
        views[view.name] = view
        self._write(views)

    def delete(self, name: str) -> bool:
        """Forget ``name``; returns whether it existed."""
        views = self.load()
        if views.pop(name, None) is None:
            return False
        self._write(views)
        return True

    def _write(self, views: Mapping[str, View]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"views": [views[name].to_dict() for name in sorted(views)]}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)
