"""Every message the session's state changes become: one class per kind of change, posted by the bridge
(:mod:`tui.console.bridge`) to the widgets and screens that listen.

They do not bubble (each class says so: Textual resets ``bubble`` per subclass): each one is posted to the node
that asked for it. The frequent ones collapse into the latest (``can_replace``), so a burst costs one update.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.status import (
    ChaosState,
    ClusterView,
    PublisherStatus,
    RegistryEntryChanged,
    RegistryView,
    SessionFact,
    SourceEntryChanged,
    SourceView,
)


class SessionMessage(Message, bubble=False):
    """A change of the session's state, posted to one listening node."""


@dataclass
class ClusterChanged(SessionMessage, bubble=False):
    """The header's view of the cluster was refreshed."""

    cluster: ClusterView

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ClusterChanged)


@dataclass
class RegistryStateChanged(SessionMessage, bubble=False):
    """The registry started, synced, is retrying or stopped."""

    registry: RegistryView

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RegistryStateChanged)


@dataclass
class SourceStateChanged(SessionMessage, bubble=False):
    """The last call to the instance source went well, or failed (why)."""

    source: SourceView

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SourceStateChanged)


@dataclass
class PublisherChanged(SessionMessage, bubble=False):
    """The publisher's state or counters changed."""

    status: PublisherStatus

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PublisherChanged)


@dataclass
class ChaosChanged(SessionMessage, bubble=False):
    """The demo's link or broker changed."""

    chaos: ChaosState

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChaosChanged)


@dataclass
class RegistryEntryUpdated(SessionMessage, bubble=False):
    """The cluster registry applied a change to instance ``name``."""

    name: str


@dataclass
class InstanceUpdated(SessionMessage, bubble=False):
    """The instance source reported a change to instance ``name``."""

    name: str


def message_for(fact: SessionFact) -> SessionMessage:
    """The message a session fact becomes."""
    if isinstance(fact, ClusterView):
        return ClusterChanged(fact)
    if isinstance(fact, RegistryView):
        return RegistryStateChanged(fact)
    if isinstance(fact, SourceView):
        return SourceStateChanged(fact)
    if isinstance(fact, PublisherStatus):
        return PublisherChanged(fact)
    if isinstance(fact, ChaosState):
        return ChaosChanged(fact)
    if isinstance(fact, RegistryEntryChanged):
        return RegistryEntryUpdated(fact.name)
    if isinstance(fact, SourceEntryChanged):
        return InstanceUpdated(fact.name)
    raise TypeError(f"no message for {fact!r}")
