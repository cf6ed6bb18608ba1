"""Watching the frames a headless app paints: counts, times, and when a change first reached the screen.

Textual composes every frame in headless mode too, but skips turning it into terminal bytes. The probe wraps the
app's ``_display`` (the one place a composed frame goes to the terminal) and renders the update to its terminal
sequence itself, so the bench pays what a real terminal would cost, minus the write. Used by the console
scenarios and the first-paint timer; it reads the app, it never changes what the app does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.app import App


@dataclass(slots=True)
class _Watch:
    condition: Callable[[], bool]
    future: asyncio.Future[float]
    since: float


@dataclass(slots=True)
class FrameProbe:
    """Counts an app's painted frames and tells when a watched condition first shows on a frame."""

    app: App[Any]
    render_output: bool = True
    """Turn each frame into its terminal sequence, as a real terminal driver would."""
    frames: int = 0
    output_chars: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    _watches: list[_Watch] = field(default_factory=list)
    _original: Callable[..., None] | None = None

    def install(self) -> FrameProbe:
        """Start watching (call before the app runs, or right after)."""
        original = self.app._display
        self._original = original

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if self.render_output:
                self.output_chars += len(_terminal_text(self.app, renderable))
            now = time.perf_counter()
            self.frames += 1
            if self.first_frame_at is None:
                self.first_frame_at = now
            self.last_frame_at = now
            if self._watches:
                self._check(now)

        self.app._display = display  # type: ignore[method-assign]
        return self

    def _check(self, now: float) -> None:
        keep: list[_Watch] = []
        for watch in self._watches:
            if watch.future.done():
                continue
            try:
                seen = watch.condition()
            except Exception as exc:  # the condition reads widgets that may be gone
                watch.future.set_exception(exc)
                continue
            if seen:
                watch.future.set_result(now - watch.since)
            else:
                keep.append(watch)
        self._watches = keep

    def watch(self, condition: Callable[[], bool], since: float | None = None) -> asyncio.Future[float]:
        """A future: seconds from ``since`` (default now) to the first frame painted while ``condition()``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._watches.append(_Watch(condition, future, since if since is not None else time.perf_counter()))
        return future


def _terminal_text(app: App[Any], renderable: Any) -> str:
    # What Textual's ``_display`` would write to a real terminal for this frame.
    from textual._compositor import CompositorUpdate

    console = app.console
    if isinstance(renderable, CompositorUpdate):
        return renderable.render_segments(console)
    segments = console.render(renderable)
    return console._render_buffer(segments)
