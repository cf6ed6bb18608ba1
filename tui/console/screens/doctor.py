"""Doctor: the integration document's troubleshooting list as checks, run against the console's cluster.

The checks are :mod:`tui.kafka.doctor.runner`'s, the same as ``evokafka doctor``; they run in a worker and each
result shows as soon as it is known. The selected row's fix is shown below the table; ``/`` narrows the rows to
those containing a text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from tui.console.screens.base import ConsoleScreen
from tui.console.session import explain_failure
from tui.console.widgets.find_bar import FindBar
from tui.diagnosis import CheckResult, DoctorReport, Status
from tui.records import safe_json
from tui.summaries import one_line

CHECK_CHARS = 20
"""Characters of a check's name the table shows (cut with an ellipsis)."""
SUBJECT_CHARS = 18
"""Characters of a check's subject the table shows."""
_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def _plain(text: str) -> str:
    """Text from the cluster or an error, with every control character escaped (no escape reaches the
    terminal)."""
    return safe_json(text)[1:-1]


class DoctorScreen(ConsoleScreen):
    """Runs the doctor's checks and lists them: status, check, subject, what was seen; the fix below."""

    SCREEN_NAME = "Doctor"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_checks", "Run again", id="doctor-rerun"),
        Binding("slash", "find", "Find", id="doctor-find", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._results: list[CheckResult] = []
        self._shown: list[CheckResult] = []
        """The rows listed: the results containing the ``/`` text."""
        self.narrowing = ""

    def compose_body(self) -> ComposeResult:
        yield Static("Doctor: running the checks…", id="doctor-summary")
        yield FindBar(id="doctor-find")
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
        self._shown.clear()
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
        if self._matches(result):
            self._list(result)

    def _matches(self, result: CheckResult) -> bool:
        needle = self.narrowing.strip().casefold()
        text = f"{result.status.value} {result.check} {result.subject or ''} {result.detail} {result.fix or ''}"
        return not needle or needle in text.casefold()

    def _list(self, result: CheckResult) -> None:
        self._shown.append(result)
        table = self.query_one("#doctor-table", DataTable)
        # Each column cut to its room with an ellipsis, so the table fits the width and nothing is cut by its
        # edge (the whole detail is under the table, with the fix).
        room = max((self.size.width or 80) - 2 - (6 + CHECK_CHARS + SUBJECT_CHARS) - 4 * 2 - 2, 16)
        table.add_row(
            Text(result.status.value.upper(), style=_STYLE[result.status]),
            Text(one_line(result.check, CHECK_CHARS)),
            Text(one_line(_plain(result.subject or ""), SUBJECT_CHARS)),
            Text(one_line(_plain(result.detail), room)),
        )
        if len(self._shown) == 1:
            self._show_fix(0)

    def action_find(self) -> None:
        """Narrow the rows to the checks containing a text, as it is typed."""
        # A priority key (routed as soon as it arrives, so the letters typed right after it land in the field);
        # in a text field it stays a "/".
        if isinstance(self.screen.focused, Input):
            raise SkipAction()
        self.query_one(FindBar).open()

    @on(FindBar.Narrowed)
    def _narrowed(self, event: FindBar.Narrowed) -> None:
        self.narrowing = event.text
        self._shown.clear()
        self.query_one("#doctor-table", DataTable).clear()
        self.query_one("#doctor-fix", Static).update("")
        for result in self._results:
            if self._matches(result):
                self._list(result)

    @on(FindBar.Done)
    def _find_done(self) -> None:
        self.query_one("#doctor-table", DataTable).focus()

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
        if not 0 <= row < len(self._shown):
            return
        result = self._shown[row]
        fix = f"fix: {_plain(result.fix)}" if result.fix else "no action needed"
        text = f"{result.check}: {_plain(result.detail)} · {fix}"
        # Three lines at most under the table (styles/doctor.tcss): what does not fit ends in an ellipsis.
        room = max((self.size.width or 80) - 4, 20) * 3
        self.query_one("#doctor-fix", Static).update(Text(one_line(text, room)))
