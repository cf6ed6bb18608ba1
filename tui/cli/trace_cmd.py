"""``evokafka trace``: a WhatsApp message's life (or a chat's) across an instance's topics, as a timeline."""

from __future__ import annotations

import json
import time

import click

from tui.cli.common import Context, fail, pass_context, run
from tui.flow import MomentError, Timeline, TraceQuery, parse_moment
from tui.records import safe_json

DEFAULT_SINCE = "1d"


@click.command()
@click.option("--message-id", "message_id", metavar="ID", help="The WhatsApp message id (key.id, keyId).")
@click.option("--chat", metavar="JID", help="Every record of this chat (5511…@s.whatsapp.net, …@g.us).")
@click.option("-i", "--instance", metavar="NAME", help="Only this instance (default: every instance).")
@click.option(
    "--since",
    default=DEFAULT_SINCE,
    show_default=True,
    metavar="WHEN",
    help="Start of the window: 90s, 30m, 2h, 1d back from now, @epoch-millis or ISO time.",
)
@click.option("--until", metavar="WHEN", help="End of the window (default: now), same forms as --since.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_context
def command(
    ctx: Context,
    message_id: str | None,
    chat: str | None,
    instance: str | None,
    since: str,
    until: str | None,
    as_json: bool,
) -> None:
    """Every record of an instance's topics, in both layouts, that refers to one message id (or chat), in the
    order of the envelopes' timestamps, with the gaps of the message's life flagged ("READ without an
    upsert", "upsert never acknowledged", …). Reads only the time window, not whole topics.

    Exit status: 0 when records were found, 1 when none (or the cluster cannot be read), 2 on bad input.
    """
    if bool(message_id) == bool(chat):
        fail("trace needs exactly one of --message-id ID or --chat JID")
    now_ms = int(time.time() * 1000)
    try:
        since_ms = parse_moment(since, now_ms)
        until_ms = parse_moment(until, now_ms) if until is not None else None
    except MomentError as exc:
        fail(str(exc))
    if until_ms is not None and until_ms < since_ms:
        fail("--until is before --since")
    settings = ctx.settings()
    if instance is not None:
        from tui.topology import validate_instance

        validate_instance(instance, settings.topic_prefix)
    query = TraceQuery(message_id, chat, instance, since_ms, until_ms)

    from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError
    from tui.kafka.streams import StreamError
    from tui.kafka.trace import trace

    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    try:
        result = run(lambda: trace(options, query, prefix=settings.topic_prefix))
    except (ClusterUnreachableError, StreamError) as exc:
        fail(str(exc), code=1)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in render(result):
            click.echo(line)
    if not result.found:
        raise SystemExit(1)


def render(result: Timeline) -> list[str]:
    """The timeline as lines: a heading, one line per record, then the gaps."""
    query = result.query
    if not result.found:
        lines = [f"no record refers to {query.describe()} since {_clock(query.since_ms)} "
                 f"({result.scanned} records read on {len(result.topics)} topics)"]
        return lines + [f"note: {note}" for note in result.notes]
    first = result.steps[0].timestamp
    lines = [
        f"{query.describe()}: {len(result.steps)} records on "
        f"{len({s.topic for s in result.steps})} topics ({result.scanned} read in the window)",
    ]
    for step in result.steps:
        delta = (step.timestamp - first) / 1000
        text = f"  {_trim(step.text)}" if step.text else ""
        lines.append(
            _safe(
                f"{_clock(step.timestamp)}  +{delta:7.1f}s  {step.label:<32} {step.layout.value:<12} "
                f"{step.topic}[{step.partition}]@{step.offset}{text}"
            )
        )
    if result.gaps:
        lines.append("gaps:")
        lines.extend(_safe(f"  ! {gap.text}") for gap in result.gaps)
    else:
        lines.append("no gaps")
    return lines


def _clock(millis: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(millis / 1000)) + f".{millis % 1000:03d}Z"


def _trim(text: str | None, width: int = 40) -> str:
    value = (text or "").replace("\n", " ")
    return value if len(value) <= width else value[: width - 1] + "…"


def _safe(line: str) -> str:
    # Record texts come from outside: no control character reaches the terminal.
    escaped = safe_json(line)
    return escaped[1:-1].replace('\\"', '"')
