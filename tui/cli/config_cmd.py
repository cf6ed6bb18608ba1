"""``evokafka config``: the effective settings, grouped as in the reference, secrets masked.

Each value says where it came from (environment, .env, command line, default); where Evolution API reads a value
differently from how it is written, or the integration document and Evolution's code disagree, one line says so.
"""

from __future__ import annotations

import json

import click

from tui.cli.common import Context, fail, pass_context
from tui.config import ConfigError, default_env_file, load_traced
from tui.config_view import describe, mask
from tui.evolution_env import DOCUMENT_DEFAULTS, Source
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.records import safe_json


def _plain(text: str) -> str:
    # Values come from the environment and files: never let an escape sequence reach the terminal.
    return safe_json(text)[1:-1]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--reveal", is_flag=True, help="Show secrets (KAFKA_SASL_PASSWORD, EVOLUTION_API_KEY) unmasked.")
@pass_context
def command(ctx: Context, as_json: bool, reveal: bool) -> None:
    """Print the effective settings (environment, then .env) and where each came from; exit 2 when any is
    invalid."""
    settings = ctx.settings()
    app = ctx.app_settings()
    overrides = {"brokers": ctx.brokers} if ctx.brokers else {}
    try:
        traced = load_traced(default_env_file(ctx.env_file), None, **overrides)
    except ConfigError as exc:  # already reported by ctx.settings(); kept for type narrowing
        fail(str(exc))
    if settings.ssl_enabled:
        try:
            ConnectionOptions.from_settings(settings)  # reads the SSL material named in the settings
        except ConnectionSetupError as exc:
            fail(str(exc))
    groups = describe(settings, reveal=reveal)
    groups["evokafka"] = {
        "EVOKAFKA_REGISTRY_TOPIC": app.registry_topic,
        "EVOKAFKA_READ_ONLY": app.read_only,
        "EVOKAFKA_PANE_BUFFER": app.pane_buffer,
        "EVOKAFKA_PANE_BUFFER_BYTES": app.pane_buffer_bytes,
        "EVOLUTION_API_URL": app.evolution_api_url or "",
        "EVOLUTION_API_KEY": mask(app.evolution_api_key, reveal),
        "EVOLUTION_API_TIMEOUT": app.evolution_api_timeout,
        "EVOKAFKA_INSTANCE_SOURCE": app.instance_source,
    }
    notes = dict(traced.notes)
    for variable, document in DOCUMENT_DEFAULTS.items():
        if variable.startswith("KAFKA_SSL_"):
            if settings.ssl_enabled and variable in notes:
                notes[variable] = f"{notes[variable]}; {document}"
        elif traced.sources.get(variable) is Source.DEFAULT:
            notes.setdefault(variable, document)
    if traced.sources.get("KAFKA_EVENTS_MESSAGES_UPSERT") is Source.DEFAULT:
        notes["KAFKA_EVENTS_*"] = (
            "Evolution reads a missing KAFKA_EVENTS_* as false (the document's block sets 23 of them true); "
            "it has no variable for STATUS_INSTANCE, REMOVE_INSTANCE, LOGOUT_INSTANCE"
        )
    if as_json:
        out: dict[str, object] = dict(groups)
        out["sources"] = {k: v.value for k, v in sorted(traced.sources.items())}
        out["notes"] = notes
        click.echo(json.dumps(out, indent=2))
        return
    for group, values in groups.items():
        click.echo(f"# {group}")
        for name, value in values.items():
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            source = traced.sources.get(name)
            where = f"  ({source.value})" if source is not None else ""
            click.echo(f"{name} = {_plain(shown)}{where}")
            if name in notes:
                click.echo(f"  note: {_plain(notes[name])}")
        click.echo("")
    for name in sorted(set(notes) - {n for values in groups.values() for n in values}):
        click.echo(f"note: {name}: {_plain(notes[name])}")
