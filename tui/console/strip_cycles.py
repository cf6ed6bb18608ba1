"""Textual's ``Strip.divide`` without the reference cycle it makes on every painted line.

The compositor divides every line of every widget at the screen's cuts (``Strip.divide``). When a line lies in one
piece (the usual case: its cuts are just its own length), Textual answers ``[self]`` and keeps that list in the
strip's own ``_divide_cache`` — the strip then refers to itself, so it and its seven caches, segments and styles
are freed only by the cyclic collector, never by reference counting. Under a flood (three panes repainting 10-20
times a second) that was ~5,000 strips and ~40,000 objects of cyclic garbage per 30 s, and young collections of
20-40 ms, each one a stall of the key press it fell on (issue #20's ``key_to_screen_p99``).

:func:`install` wraps ``Strip.divide`` so that this one case returns ``[self]`` without caching it (what it
caches is a list holding the strip itself: computing it again costs one list). Every other case is Textual's own
code. It checks first that the cycle is there (a Textual that fixed it is left alone), and is idempotent.
Measured on Textual 8.2.8; ``tests/ui/test_flood_paint.py`` fails if painted lines become cyclic garbage again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from textual.strip import Strip

_PATCHED = "_evokafka_no_self_cycle"


def makes_self_cycle() -> bool:
    """Whether ``Strip.divide`` of a one-piece line keeps the strip in its own cache (Textual's behaviour)."""
    strip = Strip.blank(4)
    _original_divide()(strip, [4])
    cache = getattr(strip, "_divide_cache", None)
    cached = cache.get((4,)) if cache is not None else None
    return cached is not None and any(piece is strip for piece in cached)


def _original_divide() -> Callable[[Strip, Iterable[int]], Sequence[Strip]]:
    divide = Strip.divide
    return getattr(divide, "__wrapped__", divide)


def install() -> bool:
    """Wrap ``Strip.divide`` (once); whether the wrap is in place."""
    if getattr(Strip.divide, _PATCHED, False):
        return True
    if not makes_self_cycle():
        return False
    original = Strip.divide

    def divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cell_length = self.cell_length
        kept = [cut for cut in cuts if cut <= cell_length]
        if kept == [cell_length]:
            return [self]
        return original(self, kept)

    divide.__wrapped__ = original  # type: ignore[attr-defined]
    divide.__doc__ = original.__doc__
    setattr(divide, _PATCHED, True)
    Strip.divide = divide  # type: ignore[method-assign]
    return True
