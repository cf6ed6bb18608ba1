"""``evokafka tail``: kcat-style JSON lines, without joining a consumer group."""

from __future__ import annotations

import sys

import click

from tui import collector
from tui.cli.common import Context, fail, pass_context, run
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.kafka.streams import StreamError
from tui.kafka.tail import read
from tui.selection import StartPosition
from tui.tail_lines import json_lines


@click.command()
@click.argument("topics", nargs=-1, required=True)
@click.option("--key", "key", help="Only records with this key.")
@click.option(
    "--from",
    "start",
    default="latest",
    show_default=True,
    help="earliest | latest | -N (last N per partition) | @epoch-millis | ISO time.",
)
@click.option("--max", "max_records", type=click.IntRange(min=1), help="Stop after N records.")
@click.option("--exit", "stop_at_end", is_flag=True, help="Stop at the end of the topics instead of following.")
@click.option("--reveal", is_flag=True, help="Show the envelope's apikey unmasked.")
@pass_context
def command(
    ctx: Context,
    topics: tuple[str, ...],
    key: str | None,
    start: str,
    max_records: int | None,
    stop_at_end: bool,
    reveal: bool,
) -> None:
    """Print the records of TOPICS as JSON lines (topic, partition, offset, timestamp, key, headers,
    value). Ctrl-C stops."""
    settings = ctx.settings()
    try:
        position = StartPosition.parse(start)
    except ValueError as exc:
        fail(str(exc))
    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))

    async def tail() -> int:
        count = 0
        sys.stdout.flush()
        out = sys.stdout.buffer  # one write of bytes per batch, not a text write per record
        async for batch in read(options, list(topics), position, stop_at_end=stop_at_end):
            if key is not None:
                batch = [record for record in batch if record.key_text == key]
            if max_records is not None and count + len(batch) >= max_records:
                batch = batch[: max_records - count]
            if batch:
                out.write(json_lines(batch, reveal))
                out.flush()
                count += len(batch)
            if max_records is not None and count >= max_records:
                return count
        return count

    # Reading allocates a few dozen short-lived, acyclic objects per record (the client's, the decoded body,
    # the line): collections of the young generation find nothing to free, and each full one walks every
    # object made at start-up (pydantic, aiokafka). Memory stays bounded (a batch at a time is alive).
    collector.settle(collector.READER_YOUNG)
    try:
        run(tail)
    except StreamError as exc:
        fail(str(exc), code=1)
    except BrokenPipeError:
        sys.exit(0)
