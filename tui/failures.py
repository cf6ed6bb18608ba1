"""One line that says why something failed: the one way evokafka turns an exception into text for people.

Pure domain module.
"""

from __future__ import annotations


def reason(exc: BaseException) -> str:
    """Why ``exc`` happened, on one line: ``timed out``; evokafka's own errors by their message (written for
    people already); anyone else's as ``Class: message`` (the class alone when it has no message; the message
    alone when it already starts with the class, as aiokafka's often do). White space is folded."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split())
    name = exc.__class__.__name__
    if not text:
        return name
    if exc.__class__.__module__.startswith("tui.") or text.startswith(name):
        return text
    return f"{name}: {text}"
