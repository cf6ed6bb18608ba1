"""Saved views: the set of stream panes (what each reads, where it starts, what it keeps), named and reopened.

Stored as JSON in the user's configuration directory: ``$EVOKAFKA_CONFIG_DIR/views.json`` when that is set,
else ``$XDG_CONFIG_HOME/evokafka/views.json`` (``~/.config/evokafka/views.json``).

Domain module: file I/O only, no Textual, no aiokafka.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tui.selection import PaneSpec, ViewError

VIEWS_FILE = "views.json"
Arrangement = Literal["tabs", "grid"]


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where evokafka keeps the user's files (``EVOKAFKA_CONFIG_DIR`` wins over ``XDG_CONFIG_HOME``)."""
    env = os.environ if environ is None else environ
    if env.get("EVOKAFKA_CONFIG_DIR"):
        return Path(env["EVOKAFKA_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "evokafka"


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
