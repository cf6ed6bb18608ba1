"""``evokafka replay``: move a consumer group back (a dry run first, always), or re-send chosen records."""

from __future__ import annotations

import json
import sys
import time

import click

from tui.cli.common import Context, fail, pass_context, run
from tui.replay_plan import ReplayInputError, ReplayPlan, ReplayTarget


@click.command()
@click.argument("group", required=False)
@click.option("--topics", metavar="T1,T2", help="The topics whose offsets to move (comma-separated).")
@click.option("--to-time", "to_time", metavar="WHEN", help="To the first record at or after WHEN (2h, ISO, @ms).")
@click.option("--to-offset", "to_offset", metavar="N|P=N,…", help="To offset N, per partition P=N, earliest, latest.")
@click.option("--by", "by", metavar="-N", help="N records back per partition (+N: forward).")
@click.option("--yes", is_flag=True, help="Reset without asking (the dry run is still printed).")
@click.option("--dry-run", "dry_run", is_flag=True, help="Only print the dry run.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and the result) as JSON.")
@click.option(
    "--resend",
    "resend",
    multiple=True,
    metavar="TOPIC:PARTITION:OFFSET",
    help="Re-drive: send this record again (repeatable); no GROUP then.",
)
@click.option("--to", "to_topic", metavar="TOPIC", help="With --resend: send to this topic instead of the record's own.")
@click.option("--data", "data", metavar="JSON|@FILE", help="With --resend: replace the envelope's data (edited re-send).")
@pass_context
def command(
    ctx: Context,
    group: str | None,
    topics: str | None,
    to_time: str | None,
    to_offset: str | None,
    by: str | None,
    yes: bool,
    dry_run: bool,
    as_json: bool,
    resend: tuple[str, ...],
    to_topic: str | None,
    data: str | None,
) -> None:
    """Replay a consumer GROUP from a time, an offset or N records back on --topics: prints the dry run —
    per partition, from which offset to which, how many records will be delivered again, whether the group has
    active members (a live group is refused, as Kafka requires) — then resets on one confirmation (or --yes).

    With --resend TOPIC:PARTITION:OFFSET (no GROUP) it re-drives records instead: sends them again through the
    publisher, unchanged or with --data, to their topic or --to, with an evokafka-resent header naming the
    original. Both are refused in read-only mode.
    """
    if resend:
        if group or topics or to_time or to_offset or by:
            fail("--resend takes no GROUP, --topics, --to-time, --to-offset or --by")
        from tui.cli.redrive import redrive_command

        redrive_command(ctx, resend, to_topic, data, yes=yes, dry_run=dry_run, as_json=as_json)
        return
    if to_topic or data:
        fail("--to and --data go with --resend")
    if not group:
        fail("replay needs a consumer GROUP (or --resend TOPIC:PARTITION:OFFSET)")
    if not topics:
        fail("replay needs --topics T1[,T2…]")
    chosen = [t for t in (x.strip() for x in topics.split(",")) if t]
    if [to_time, to_offset, by].count(None) != 2:
        fail("replay needs exactly one of --to-time, --to-offset, --by")
    target = _target(to_time, to_offset, by)
    settings = ctx.settings()
    read_only = ctx.app_settings().read_only

    from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError, ReadOnlyError
    from tui.kafka.replay import ReplayError, plan_replay, reset_group

    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    try:
        plan = run(lambda: plan_replay(options, group, chosen, target))
    except (ReplayError, ClusterUnreachableError) as exc:
        fail(str(exc), code=1)
    if as_json:
        click.echo(json.dumps({"dry_run": plan.to_json()}, indent=2))
    else:
        for line in render(plan):
            click.echo(line)
    if plan.refusal is not None:
        fail(plan.refusal, code=0 if not plan.live else 1)
    if dry_run:
        return
    if read_only:
        fail(str(ReadOnlyError(f"reset the offsets of group {group}")), code=1)
    if not yes:
        if not sys.stdin.isatty():
            fail("dry run only (no terminal to confirm on): run again with --yes to reset", code=0)
        if not click.confirm(f"Reset group {group} ({plan.again} records again)?", default=False, err=True):
            fail("nothing reset", code=1)
    try:
        after = run(lambda: reset_group(options, plan, read_only=read_only))
    except (ReplayError, ClusterUnreachableError, ReadOnlyError) as exc:
        fail(str(exc), code=1)
    if as_json:
        click.echo(json.dumps({"reset": after.to_json()}, indent=2))
    else:
        click.echo(f"reset: group {group} moved on {sum(1 for m in plan.moves if m.moves)} partitions; "
                   f"its consumers will receive {plan.again} records again")


def _target(to_time: str | None, to_offset: str | None, by: str | None) -> ReplayTarget:
    from tui.flow import MomentError, parse_moment

    try:
        if to_time is not None:
            return ReplayTarget("time", parse_moment(to_time, int(time.time() * 1000)))
        if to_offset is not None:
            return ReplayTarget.to_offset(to_offset)
        return ReplayTarget.by(by or "")
    except (MomentError, ReplayInputError) as exc:
        fail(str(exc))


def render(plan: ReplayPlan) -> list[str]:
    """The dry run as lines: the group and its members, a row per partition, the total."""
    members = f"{len(plan.members)} active member(s): {', '.join(plan.members[:3])}" if plan.live else "no active members"
    lines = [f"replay group {plan.group} {plan.target.describe()} — dry run", f"state {plan.state}, {members}"]
    width = max([len(f"{m.topic}[{m.partition}]") for m in plan.moves] + [9])
    lines.append(f"  {'partition':<{width}}  {'from':>9} → {'to':<9} {'again':>7}  {'skipped':>7}  (begin-end)")
    for m in plan.moves:
        start = "-" if m.committed is None else str(m.committed)
        lines.append(
            f"  {f'{m.topic}[{m.partition}]':<{width}}  {start:>9} → {m.target:<9} {m.again:>7}  {m.skipped:>7}"
            f"  ({m.begin}-{m.end})"
        )
    lines.append(f"total: {plan.again} records will be delivered again, {plan.skipped} skipped")
    return lines
