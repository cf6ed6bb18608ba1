"""The console's areas: one mode each, with the key and palette entry that opens it.

Areas whose screen module is not in this build (streams, topic layout, doctor come from other parts of the
project) are left out, so the app opens whatever screens are present.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen


@dataclass(frozen=True)
class Area:
    """A top-level part of the console, opened as an app mode."""

    mode: str
    title: str
    key: str
    help: str
    module: str
    screen: str

    @property
    def present(self) -> bool:
        """Whether the screen's module is in this build."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except ImportError:
            return False

    def factory(self) -> Callable[[], Screen[None]]:
        """A callable that imports the module on first use and builds the screen (no arguments)."""

        def build() -> Screen[None]:
            screen_class: type[Screen[None]] = getattr(importlib.import_module(self.module), self.screen)
            return screen_class()

        return build


ALL_AREAS: tuple[Area, ...] = (
    Area("home", "Home", "h", "Cluster, registry and producer at a glance", "tui.console.screens.main", "MainScreen"),
    Area("instances", "Instances", "i", "Instances and their event toggles", "tui.console.screens.instances",
         "InstancesScreen"),
    Area("publish", "Publish", "p", "Publish test envelopes", "tui.console.screens.publish", "PublishScreen"),
    Area("streams", "Streams", "s", "Tail topics live", "tui.console.screens.streams", "StreamsScreen"),
    Area("layout", "Topic layout", "l", "Topics the configuration implies", "tui.console.screens.layout", "LayoutScreen"),
    Area("doctor", "Doctor", "d", "The reference's troubleshooting checks", "tui.console.screens.doctor", "DoctorScreen"),
)


def available_areas() -> tuple[Area, ...]:
    """The areas whose screen is present in this build."""
    return tuple(area for area in ALL_AREAS if area.present)
