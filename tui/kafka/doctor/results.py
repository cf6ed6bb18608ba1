"""A failed check read from its exception (the result types live in :mod:`tui.diagnosis`)."""

from __future__ import annotations

from tui.diagnosis import CheckResult, Status
from tui.kafka.errors import diagnose


def failed_check(check: str, exc: BaseException, subject: str | None) -> CheckResult:
    """A failed check whose detail and fix are :func:`~tui.kafka.errors.diagnose`'s reading of ``exc``."""
    found = diagnose(exc)
    return CheckResult(check, Status.FAIL, found.summary, found.fix, subject)
