"""``evokafka instances export`` / ``import FILE``: a copy of the cluster's instance registry, and putting it back.

A broker that restarts without its data takes the registry with it; a copy exported beforehand brings every
instance's settings back as they were (``updated_at`` kept). The file is JSON::

    {"registry_topic": "__evokafka_instances", "exported_at": "2026-11-26T12:00:00Z",
     "instances": {"acme": {"enabled": true, "events": ["MESSAGES_UPSERT"], "updated_at": "..."}}}

``import`` writes only the entries the registry does not hold as in the file, and is refused in read-only mode.
Both read and write the registry topic (``EVOKAFKA_REGISTRY_TOPIC``) directly, whatever ``--source`` says.
"""

from __future__ import annotations

import os
import stat
import sys
from datetime import UTC, datetime

import click
import orjson

from tui.cli.common import Context, fail, pass_context, run
from tui.instance_settings import InstanceSettings, InstanceSettingsError
from tui.kafka.errors import explain
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.kafka.registry import InstanceRegistry
from tui.topology import InstanceNameError, validate_instance

MAX_FILE_BYTES = 64 * 1024 * 1024
"""A registry copy larger than this is not one."""


def _registry(ctx: Context, *, read_only: bool) -> InstanceRegistry:
    settings = ctx.settings()
    app = ctx.app_settings()
    try:
        options = ConnectionOptions.from_settings(settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    return InstanceRegistry(settings, topic=app.registry_topic, options=options, read_only=read_only)


@click.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the copy here (default: stdout).")
@pass_context
def export_command(ctx: Context, output: str | None) -> None:
    """Write a copy of the instance registry (every instance's settings) as JSON, to restore it later with
    `evokafka instances import FILE`."""
    registry = _registry(ctx, read_only=True)  # exporting never creates the topic

    async def read() -> dict[str, InstanceSettings]:
        await registry.start()
        try:
            if not registry.synced:
                raise ConnectionError(registry.health.describe())
            return registry.all()
        finally:
            await registry.stop()

    try:
        entries = run(read)
    except Exception as exc:
        fail(f"cannot read the registry {registry.topic}: {explain(exc)}", code=1)
    body = {
        "registry_topic": registry.topic,
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "instances": {name: value.to_json() for name, value in entries.items()},
    }
    text = orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            fail(f"--output {output}: cannot write the file ({exc.strerror or exc})")
    click.echo(f"exported {len(entries)} instance(s) of {registry.topic}", err=True)


def _read_copy(path: str, prefix: str) -> dict[str, InstanceSettings]:
    """The entries of a registry copy; one line and exit 2 for anything else."""
    try:
        info = os.stat(path)
    except OSError as exc:
        fail(f"{path}: cannot read the file ({exc.strerror or exc})")
    if not stat.S_ISREG(info.st_mode):
        fail(f"{path}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        fail(f"{path}: {info.st_size} bytes is too large for a registry copy")
    try:
        with open(path, "rb") as handle:
            body = orjson.loads(handle.read())
    except OSError as exc:
        fail(f"{path}: cannot read the file ({exc.strerror or exc})")
    except orjson.JSONDecodeError as exc:
        fail(f"{path}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})")
    instances = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(instances, dict):
        fail(f'{path}: not a registry copy (no "instances" object; make one with `evokafka instances export`)')
    entries: dict[str, InstanceSettings] = {}
    for name, value in instances.items():
        try:
            validate_instance(name, prefix)
            entries[name] = InstanceSettings.from_json(value)
        except (InstanceNameError, InstanceSettingsError) as exc:
            fail(f"{path}: instance {name!r}: {exc}")
    return entries


@click.command("import")
@click.argument("file", metavar="FILE")
@pass_context
def import_command(ctx: Context, file: str) -> None:
    """Restore the instance registry from FILE (made by `evokafka instances export`): every instance whose
    settings differ from the file's is written back as in the file. Refused in read-only mode."""
    entries = _read_copy(file, ctx.settings().topic_prefix)
    if ctx.app_settings().read_only:
        fail("read-only mode: refusing to import into the registry (run without --read-only / EVOKAFKA_READ_ONLY)")
    registry = _registry(ctx, read_only=False)

    async def restore() -> list[str]:
        await registry.start()
        try:
            return await registry.restore(entries)
        finally:
            await registry.stop()

    try:
        written = run(restore)
    except Exception as exc:
        fail(f"cannot restore the registry {registry.topic}: {explain(exc)}", code=1)
    same = len(entries) - len(written)
    names = ", ".join(written) if written else "none"
    click.echo(f"restored {len(written)} instance(s) ({names}); {same} already as in {file}")
