"""What a doctor check reports: :class:`Status`, :class:`CheckResult`, and the whole run's :class:`DoctorReport`.

The CLI and the console's doctor screen both show these, so they are plain frozen data with a ``to_json``. Pure
domain module (the checks themselves live in ``tui.kafka.doctor``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The outcome of one check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome: what was checked (``check``, on ``subject``), what was seen, what to do."""

    check: str
    status: Status
    detail: str
    fix: str = ""
    subject: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        out = asdict(self)
        out["status"] = self.status.value
        return out


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Every check's result, in the order they were listed."""

    results: tuple[CheckResult, ...]
    elapsed_s: float = 0.0

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed."""
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def warnings(self) -> list[CheckResult]:
        """The checks that warned."""
        return [r for r in self.results if r.status is Status.WARN]

    def ok(self, strict: bool = False) -> bool:
        """No check failed (and, when ``strict``, none warned)."""
        return not self.failed and not (strict and self.warnings)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        counts = {s.value: sum(1 for r in self.results if r.status is s) for s in Status}
        return {
            "ok": self.ok(),
            "counts": counts,
            "elapsed_s": round(self.elapsed_s, 3),
            "checks": [r.to_json() for r in self.results],
        }


ResultSink = Callable[[CheckResult], None]
"""What sees each result as soon as it is known (the screen's table, the CLI's printer)."""
