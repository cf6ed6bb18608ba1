"""The cyclic garbage collector's policy, in one place: when it is off, what it never looks at, how often it runs.

evokafka's processes allocate in two phases. Starting imports a few hundred thousand objects (click, pydantic,
Textual, aiokafka) and frees none of them: a collector pass over them cost a fifth of the start, and a full
collection over them under a flood took ~260 ms. Running then allocates mostly short-lived, acyclic objects per
record (the client's, a row, a decoded body) that reference counting frees: young collections find little.

- :func:`hold` turns the collector off while a command starts (``evokafka``'s entry point; the console until its
  first frame);
- :func:`settle` moves what the start allocated out of the collector's sight (``gc.freeze``) and turns it on
  again with a young generation of ``young`` objects: :data:`CONSOLE_YOUNG` for the console (its pauses land on
  key latency), :data:`READER_YOUNG` for ``evokafka tail`` (a batch at a time is alive);
- :func:`freeze_imports` does the freezing again after a late import (aiokafka, imported after the console's
  first frame).

Frozen objects are still freed by reference counting; only cyclic garbage among them would be kept (start-up
objects are not garbage). Pure: the standard library only.
"""

from __future__ import annotations

import gc

CONSOLE_YOUNG = 20_000
"""The console's young generation (Python's default is 700): 3-4 young collections per 30 s of a 3-pane flood;
5,000 measured worse (32-35 collections, key p99 53-55 ms against 37-42)."""
READER_YOUNG = 50_000
"""``evokafka tail``'s young generation: nothing it reads lives past its batch."""
OLDER = 20
"""Young collections per middle one, and middle ones per full one (Python's default is 10)."""


def hold() -> None:
    """Turn the collector off while a command starts; :func:`settle` or :func:`release` turns it on."""
    gc.disable()


def release() -> None:
    """Turn the collector on again, with its thresholds as they are (a command that did not :func:`settle`)."""
    gc.enable()


def settle(young: int) -> None:
    """Freeze what was allocated so far, collect the young generation every ``young`` objects, and turn the
    collector on."""
    gc.freeze()
    gc.set_threshold(young, OLDER, OLDER)
    gc.enable()


def freeze_imports() -> None:
    """Move what a late import allocated out of the collector's sight, as :func:`settle` did for the start."""
    gc.freeze()
