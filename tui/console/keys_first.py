"""Keys before records: while the frame that answers a key press is pending, the stream panes hold their batches.

Under a flood the event loop is never idle: every hop of a key press (the key event, the action, the messages it
posts, the screen's update timer, the paint) waits behind the panes' readers, each taking a batch at every turn
of the loop. :class:`KeysFirst` is a gate the readers pass before they take a batch: a key press closes it, and it
opens again once the screen has painted (Textual's ``call_after_refresh``), or after :data:`MAX_HOLD_S` whatever
happens. Nothing is lost or reordered: a held batch is taken as soon as the gate opens (the fetches behind it
wait in the reader's bounded queue, as for a slow pane).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

MAX_HOLD_S = 0.1
"""The longest a key press holds the readers back (a frame comes long before, unless the screen is not painting)."""


class KeysFirst:
    """A gate the stream panes' readers pass before each batch; closed by a key press until its frame is painted."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._max_hold_s = max_hold_s
        self._timeout: asyncio.TimerHandle | None = None
        self.holds = 0
        """Key presses that closed the gate (tests and the bench read it)."""

    @property
    def is_open(self) -> bool:
        """Whether readers pass without waiting."""
        return self._open.is_set()

    def hold(self, after_paint: Callable[[Callable[[], None]], object]) -> None:
        """Close the gate until ``after_paint`` calls back (the screen's ``call_after_refresh``), at most
        ``max_hold_s``. A hold while closed only moves nothing: the first frame after it opens the gate."""
        self.holds += 1
        if not self._open.is_set():
            after_paint(self.release)
            return
        self._open.clear()
        after_paint(self.release)
        self._timeout = asyncio.get_running_loop().call_later(self._max_hold_s, self.release)

    def release(self) -> None:
        """Open the gate."""
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None
        self._open.set()

    async def passage(self) -> None:
        """Return at once while open; else when the gate opens."""
        if not self._open.is_set():
            await self._open.wait()
