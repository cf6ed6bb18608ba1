"""Opening the console (``evokafka`` without a subcommand)."""

from __future__ import annotations

from tui.cli.common import Context, fail
from tui.kafka.options import ConnectionSetupError


def open_console(ctx: Context) -> None:
    """Open the Textual console on the configured cluster (``--brokers``, ``--env-file``, ``--read-only``).

    The console opens even when no broker answers: it shows the state and keeps retrying.
    """
    settings = ctx.settings()
    app_settings = ctx.app_settings()
    # Imported here so that the other subcommands start without loading Textual.
    from tui.app import EvokafkaApp
    from tui.services import Services

    try:
        services = Services.build(settings, app_settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    EvokafkaApp(services).run()
