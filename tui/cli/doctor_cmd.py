"""``evokafka doctor``: the integration document's troubleshooting list as checks (pass/warn/fail + fix)."""

from __future__ import annotations

import json
import sys

import click

from tui.cli.common import Context, pass_context, run
from tui.diagnosis import CheckResult, DoctorReport, Status
from tui.kafka.doctor.runner import run_doctor
from tui.records import safe_json

_MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.SKIP: "skip"}


def render(result: CheckResult) -> list[str]:
    """A result as one line (plus a ``fix:`` line when it is not a pass)."""
    subject = f" [{result.subject}]" if result.subject else ""
    # Details can carry names from the cluster (topics, instances): keep terminal control bytes out.
    detail = safe_json(result.detail)[1:-1]
    lines = [f"{_MARK[result.status]}  {result.check}{subject}: {detail}"]
    if result.fix and result.status in (Status.WARN, Status.FAIL):
        lines.append(f"      fix: {safe_json(result.fix)[1:-1]}")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every check.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--timeout",
    "budget",
    type=click.FloatRange(min=1.0),
    help="Bound on the whole run in seconds (default: from KAFKA_CONNECTION_TIMEOUT and KAFKA_REQUEST_TIMEOUT).",
)
@pass_context
def command(ctx: Context, as_json: bool, strict: bool, budget: float | None) -> None:
    """Check the connection, the configuration and the cluster, as the integration's troubleshooting list
    says. Exit 0 when no check fails (1 otherwise; --strict: warnings count too)."""
    settings = ctx.settings()
    app = ctx.app_settings()

    def show(result: CheckResult) -> None:
        if not as_json:
            for line in render(result):
                click.echo(line)
            sys.stdout.flush()

    async def diagnose() -> DoctorReport:
        return await run_doctor(settings, registry_topic=app.registry_topic, budget_s=budget, sink=show)

    report = run(diagnose)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        counts = {s: sum(1 for r in report.results if r.status is s) for s in Status}
        click.echo(
            f"\n{counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, {counts[Status.FAIL]} failed, "
            f"{counts[Status.SKIP]} skipped in {report.elapsed_s:.1f} s"
        )
    sys.exit(0 if report.ok(strict) else 1)
