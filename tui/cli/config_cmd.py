"""``evokafka config``: the effective settings, grouped as in the reference, secrets masked."""

from __future__ import annotations

import json

import click

from tui.cli.common import Context, fail, pass_context
from tui.config import describe, mask
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.records import safe_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--reveal", is_flag=True, help="Show secrets (KAFKA_SASL_PASSWORD, EVOLUTION_API_KEY) unmasked.")
@pass_context
def command(ctx: Context, as_json: bool, reveal: bool) -> None:
    """Print the effective settings (environment, then .env); exit 2 when any is invalid."""
    settings = ctx.settings()
    app = ctx.app_settings()
    if settings.ssl_enabled:
        try:
            ConnectionOptions.from_settings(settings)  # reads the SSL files named in the settings
        except ConnectionSetupError as exc:
            fail(str(exc))
    groups = describe(settings, reveal=reveal)
    groups["evokafka"] = {
        "EVOKAFKA_REGISTRY_TOPIC": app.registry_topic,
        "EVOKAFKA_READ_ONLY": app.read_only,
        "EVOKAFKA_PANE_BUFFER": app.pane_buffer,
        "EVOLUTION_API_URL": app.evolution_api_url or "",
        "EVOLUTION_API_KEY": mask(app.evolution_api_key, reveal),
        "EVOLUTION_API_TIMEOUT": app.evolution_api_timeout,
        "EVOKAFKA_INSTANCE_SOURCE": app.instance_source,
    }
    if as_json:
        click.echo(json.dumps(groups, indent=2))
        return
    for group, values in groups.items():
        click.echo(f"# {group}")
        for name, value in values.items():
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            # Values come from the environment and files: never let an escape sequence reach the terminal.
            click.echo(f"{name} = {safe_json(shown)[1:-1]}")
        click.echo("")
