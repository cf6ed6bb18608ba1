"""Listeners: who is told of a change, and how they stop being told.

One small type instead of a hand-written list with its own subscribe and unsubscribe in each class that reports
changes. Pure domain module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Unsubscribe = Callable[[], None]
"""Stops the listener it was returned for; calling it twice is harmless."""


class Listeners(Generic[T]):
    """Callbacks told of each value :meth:`notify` is given, in the order they were added."""

    def __init__(self, on_error: Callable[[BaseException], None] | None = None) -> None:
        """``on_error``: told of an exception a callback raised, so that one listener's bug neither stops the
        others nor whoever notifies (a publisher, a registry); without it the exception goes on up."""
        self._callbacks: list[Callable[[T], None]] = []
        self._on_error = on_error

    def add(self, callback: Callable[[T], None]) -> Unsubscribe:
        """Call ``callback(value)`` on every :meth:`notify` from now on; returns the unsubscribe."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    def notify(self, value: T) -> None:
        """Tell every listener (one that unsubscribes meanwhile is still told this once)."""
        for callback in list(self._callbacks):
            if self._on_error is None:
                callback(value)
                continue
            try:
                callback(value)
            except Exception as exc:
                self._on_error(exc)

    def __len__(self) -> int:
        return len(self._callbacks)
