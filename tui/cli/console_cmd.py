"""Opening the console (``evokafka`` without a subcommand)."""

from __future__ import annotations

import click

from tui.cli.common import Context


def open_console(ctx: Context) -> None:
    """Open the Textual console on the configured cluster."""
    # The console lands with its own issue; until then, show what the command line offers.
    click.echo(click.get_current_context().get_help())
