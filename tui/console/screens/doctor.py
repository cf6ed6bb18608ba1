"""Doctor: the integration document's troubleshooting list as checks, run against the console's cluster.

The checks are :mod:`tui.kafka.doctor.runner`'s, the same as ``evokafka doctor``; they run in a worker and each
result shows as soon as it is known. The selected row's fix is shown below the table.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.console.screens.base import ConsoleScreen
from tui.console.session import explain_failure
from tui.diagnosis import CheckResult, DoctorReport, Status
from tui.records import safe_json

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def _plain(text: str) -> str:
    """Text from the cluster or an error, with every control character escaped (no escape reaches the
    terminal)."""
    return safe_json(text)[1:-1]


class DoctorScreen(ConsoleScreen):
    """Runs the doctor's checks and lists them: status, check, subject, what was seen; the fix below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_checks", "Run again", id="doctor-rerun"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._results: list[CheckResult] = []

    def compose_body(self) -> ComposeResult:
        yield Static("Doctor: running the checks…", id="doctor-summary")
        yield DataTable(id="doctor-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="doctor-fix")

    def on_mount(self) -> None:
        table = self.query_one("#doctor-table", DataTable)
        table.add_columns("status", "check", "subject", "detail")
        table.focus()
        self.action_run_checks()

    def action_run_checks(self) -> None:
        """Clear the list and run every check again."""
        self._results.clear()
        self.query_one("#doctor-table", DataTable).clear()
        self.query_one("#doctor-summary", Static).update("Doctor: running the checks…")
        self.query_one("#doctor-fix", Static).update("")
        self._run()

    @work(group="doctor", exclusive=True, exit_on_error=False)
    async def _run(self) -> None:
        try:
            report = await self.session.run_doctor(self._add)
        except Exception as exc:  # the screen must say so, never go blank
            self.query_one("#doctor-summary", Static).update(Text(f"Doctor: could not run: {explain_failure(exc)}"))
            return
        self._finish(report)

    def _add(self, result: CheckResult) -> None:
        self._results.append(result)
        table = self.query_one("#doctor-table", DataTable)
        table.add_row(
            Text(result.status.value.upper(), style=_STYLE[result.status]),
            Text(result.check),
            Text(_plain(result.subject or "")),
            Text(_plain(result.detail)),
        )
        if len(self._results) == 1:
            self._show_fix(0)

    def _finish(self, report: DoctorReport) -> None:
        counts = {s: sum(1 for r in report.results if r.status is s) for s in Status}
        verdict = "all checks pass" if report.ok(strict=True) else ("no failure" if report.ok() else "failures")
        self.query_one("#doctor-summary", Static).update(
            Text(
                f"Doctor: {verdict} · {counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, "
                f"{counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped in {report.elapsed_s:.1f} s · r: run again"
            )
        )

    @on(DataTable.RowHighlighted, "#doctor-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_fix(event.cursor_row)

    def _show_fix(self, row: int) -> None:
        if not 0 <= row < len(self._results):
            return
        result = self._results[row]
        fix = f"fix: {_plain(result.fix)}" if result.fix else "no action needed"
        self.query_one("#doctor-fix", Static).update(Text(f"{result.check}: {fix}"))
