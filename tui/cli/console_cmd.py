"""Opening the console (``evokafka`` without a subcommand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.cli.common import Context, fail
from tui.kafka.options import ConnectionSetupError

if TYPE_CHECKING:
    from tui.console.app import EvokafkaApp


def build_console(ctx: Context) -> EvokafkaApp:
    """The console for the effective settings (``--brokers``, ``--env-file``, ``--read-only`` applied).

    Bad settings exit 2 with one line per problem, before any screen opens.
    """
    settings = ctx.settings()
    app_settings = ctx.app_settings()
    # Imported here so that the other subcommands start without loading Textual.
    from tui.console.app import EvokafkaApp
    from tui.console.session import Session

    try:
        session = Session.build(settings, app_settings)
    except ConnectionSetupError as exc:
        fail(str(exc))
    return EvokafkaApp(session)


def open_console(ctx: Context) -> None:
    """Open the Textual console on the configured cluster.

    The console opens even when no broker answers: it shows the state and keeps retrying.
    """
    build_console(ctx).run()
