"""Opening the console (``evokafka`` without a subcommand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui import collector
from tui.cli.common import Context, fail
from tui.kafka.options import ConnectionSetupError

if TYPE_CHECKING:
    from tui.console.app import EvokafkaApp
    from tui.selection import PaneSpec


def build_console(ctx: Context, panes: tuple[PaneSpec, ...] = ()) -> EvokafkaApp:
    """The console for the effective settings (``--brokers``, ``--env-file``, ``--profile``, ``--read-only``
    applied), opening on ``panes`` when given.

    Bad settings exit 2 with one line per problem, before any screen opens.
    """
    settings = ctx.settings()
    app_settings = ctx.app_settings()
    # Imported here so that the other subcommands start without loading Textual.
    from tui.console.app import EvokafkaApp
    from tui.console.session import Session

    try:
        session = Session.build(settings, app_settings, profile=ctx.profile())
    except ConnectionSetupError as exc:
        fail(str(exc))
    return EvokafkaApp(session, panes=panes)


def open_console(ctx: Context, panes: tuple[PaneSpec, ...] = ()) -> None:
    """Open the Textual console on the configured cluster (on ``panes`` when given).

    The console opens even when no broker answers: it shows the state and keeps retrying. Switching profile
    in the console closes it and opens it again on the chosen profile.
    """
    while True:
        # Off while the console imports and builds what its first frame needs; the app turns it on after that
        # frame (EvokafkaApp._tune_gc).
        collector.hold()
        app = build_console(ctx, panes)
        app.run()
        if app.next_profile is None:
            return
        ctx = ctx.with_profile(app.next_profile)
