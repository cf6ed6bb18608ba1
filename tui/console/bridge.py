"""The bridge from the session to the screens: each state change the session reports reaches the nodes that
listen for it as a typed message (:mod:`tui.console.messages`), handled on the node's own turn.

A node listens while mounted: call :func:`listen` in ``on_mount`` and the returned unsubscribe in ``on_unmount``.
"""

from __future__ import annotations

from textual.message_pump import MessagePump

from tui.console.messages import SessionMessage, message_for
from tui.console.session import Session
from tui.listeners import Unsubscribe
from tui.status import SessionFact


def listen(session: Session, node: MessagePump, *kinds: type[SessionMessage]) -> Unsubscribe:
    """Post to ``node`` every change of the session that becomes one of ``kinds``; returns the unsubscribe."""

    def deliver(fact: SessionFact) -> None:
        message = message_for(fact)
        if isinstance(message, kinds):
            node.post_message(message)

    return session.changes.add(deliver)
