"""``evokafka replay --resend``: re-drive records through the publisher (see :mod:`tui.kafka.redrive`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tui.cli.common import Context, fail, run
from tui.replay_plan import RecordRef, ReplayInputError, with_data


def _data(spec: str) -> Any:
    text = spec
    if spec == "-":
        text = sys.stdin.read()
    elif spec.startswith("@"):
        try:
            text = Path(spec[1:]).read_text()
        except OSError as exc:
            fail(f"cannot read --data file {spec[1:]}: {exc.strerror}")
    try:
        return json.loads(text)
    except ValueError as exc:
        fail(f"--data is not JSON: {exc}")


def redrive_command(
    ctx: Context,
    specs: tuple[str, ...],
    to_topic: str | None,
    data: str | None,
    *,
    yes: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Show the records to re-send, then send them (``--yes`` or a confirmation); refused in read-only mode."""
    try:
        refs = [RecordRef.parse(spec) for spec in specs]
    except ReplayInputError as exc:
        fail(str(exc))
    new_data = _data(data) if data is not None else None
    settings = ctx.settings()
    read_only = ctx.app_settings().read_only

    from tui.instance_settings import InMemorySettings
    from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError, ReadOnlyError
    from tui.kafka.publish.publisher import EventPublisher
    from tui.kafka.redrive import RedriveError, fetch_records, redrive, target_of
    from tui.kafka.streams import StreamError

    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    try:
        records = run(lambda: fetch_records(options, refs))
    except (RedriveError, StreamError, ClusterUnreachableError) as exc:
        fail(str(exc), code=1)
    try:
        values = [with_data(r.value, new_data) for r in records] if new_data is not None else None
    except ReplayInputError as exc:
        fail(str(exc))
    prefix = settings.topic_prefix
    plan = [
        {"from": str(ref), "to": target_of(r, prefix, to_topic).topic, "key": target_of(r, prefix, to_topic).key,
         "edited": values is not None}
        for ref, r in zip(refs, records, strict=True)
    ]
    if not as_json:
        click.echo(f"re-send {len(records)} record(s) — dry run")
        for row in plan:
            click.echo(f"  {row['from']} → {row['to']} (key {row['key']}){' edited' if row['edited'] else ''}")
    if dry_run:
        if as_json:
            click.echo(json.dumps({"dry_run": plan}, indent=2))
        return
    if read_only:
        fail(str(ReadOnlyError("re-send records")), code=1)
    if not yes:
        if not sys.stdin.isatty():
            fail("dry run only (no terminal to confirm on): run again with --yes to re-send", code=0)
        if not click.confirm(f"Re-send {len(records)} record(s)?", default=False, err=True):
            fail("nothing sent", code=1)

    async def send() -> list[Any]:
        publisher = EventPublisher(settings, InMemorySettings(), options=options)
        await publisher.start()
        try:
            return await redrive(publisher, records, prefix=prefix, to_topic=to_topic, values=values)
        finally:
            await publisher.stop()

    deliveries = run(send)
    failed = [d for d in deliveries if d.error is not None]
    if as_json:
        out = [{"topic": d.topic, "key": d.key, "partition": d.partition, "offset": d.offset, "error": d.error}
               for d in deliveries]
        click.echo(json.dumps({"dry_run": plan, "sent": out}, indent=2))
    else:
        for ref, d in zip(refs, deliveries, strict=True):
            where = f"{d.topic}[{d.partition}]@{d.offset}" if d.error is None else f"FAILED: {d.error}"
            click.echo(f"re-sent {ref} → {where}")
    if failed:
        raise SystemExit(1)
