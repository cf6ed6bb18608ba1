"""One line that says why something failed (tui.failures.reason)."""

from __future__ import annotations

from tui.failures import reason
from tui.kafka.options import ClusterUnreachableError


class ForeignError(Exception):
    """Stands for a library's error (its module is not evokafka's)."""


def test_timeouts_say_timed_out() -> None:
    assert reason(TimeoutError()) == "timed out"


def test_our_errors_speak_for_themselves_and_others_name_their_class() -> None:
    assert reason(ClusterUnreachableError("cannot reach the cluster at a:1")) == "cannot reach the cluster at a:1"
    assert reason(ForeignError("broker said no")) == "ForeignError: broker said no"
    assert reason(ForeignError("ForeignError: already named")) == "ForeignError: already named"
    assert reason(ForeignError()) == "ForeignError"


def test_always_one_line() -> None:
    assert reason(ForeignError("first\n  second\tthird")) == "ForeignError: first second third"
