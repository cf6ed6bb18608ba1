"""The console's areas: one mode each, with the key and palette entry that opens it (the app maps each mode to
its screen)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """A top-level part of the console, opened as an app mode."""

    mode: str
    title: str
    key: str
    help: str


AREAS: tuple[Area, ...] = (
    Area("home", "Home", "h", "Cluster, registry and producer at a glance"),
    Area("instances", "Instances", "i", "Instances and their event toggles"),
    Area("publish", "Publish", "p", "Publish test envelopes"),
    Area("streams", "Streams", "s", "Tail topics live"),
    Area("layout", "Topic layout", "l", "Topics the configuration implies"),
    Area("groups", "Consumer groups", "g", "The cluster's consumer groups: state, members, lag"),
    Area("doctor", "Doctor", "d", "The reference's troubleshooting checks"),
    Area("matrix", "Matrix", "m", "Instance x event matrix, live"),
)
