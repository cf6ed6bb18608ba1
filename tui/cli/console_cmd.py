"""Opening the console (``evokafka`` without a subcommand, and ``evokafka watch``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui import collector
from tui.cli.common import Context, InputProblem, fail, fail_lines

if TYPE_CHECKING:
    from tui.console.app import OpeningConsole
    from tui.console.session import Session
    from tui.selection import PaneSpec


def open_session(ctx: Context, *, enter_scope: bool = True) -> Session:
    """The console's session for the effective settings (``--brokers``, ``--env-file``, ``--profile``,
    ``--read-only`` applied); raises :class:`InputProblem` with one line per problem.

    Read-only settings make a read-only session (every client it builds refuses writes); ``enter_scope`` also
    enters the command's read-only scope (:meth:`Context.read_app_settings`): not from inside a running console.
    """
    from tui.console.session import Session
    from tui.kafka.options import ConnectionSetupError

    settings = ctx.read_settings(enter_scope=enter_scope)
    app_settings = ctx.read_app_settings(enter_scope=enter_scope)
    try:
        return Session.build(settings, app_settings, profile=ctx.read_profile())
    except ConnectionSetupError as exc:
        raise InputProblem([str(exc)]) from None


def settings_source(ctx: Context) -> str:
    """Where the settings come from, in the operator's words (the opening screen says it)."""
    if ctx.profile_name is not None:
        return f"profile {ctx.profile_name}"
    if ctx.env_file is not None:
        return ctx.env_file
    return "the environment and ./.env" if Path(".env").is_file() else "the environment"


def opening_console(ctx: Context, panes: tuple[PaneSpec, ...] = ()) -> OpeningConsole:
    """The console as the command line opens it: the first frame at once, the settings read and validated right
    after it (:class:`tui.console.app.OpeningConsole`); bad settings close it with their lines (see
    :func:`open_console`)."""
    from tui.console.app import OpeningConsole
    from tui.console.session_app import OpeningFailed

    def opener() -> Session:
        try:
            return open_session(ctx, enter_scope=False)
        except InputProblem as exc:
            raise OpeningFailed(exc.lines) from None

    return OpeningConsole(opener, source=settings_source(ctx), panes=panes)


def open_console(ctx: Context, panes: tuple[PaneSpec, ...] = ()) -> None:
    """Open the Textual console on the configured cluster (on ``panes`` when given).

    The console opens even when no broker answers: it shows the state and keeps retrying. Settings that cannot
    be used close it right after its first frame, and each problem is printed as one line (exit 2). Switching
    profile in the console closes it and opens it again on the chosen profile.
    """
    while True:
        # Off while the console imports and builds what its first frame needs; the app turns it on after that
        # frame (EvokafkaApp._tune_gc).
        collector.hold()
        app = opening_console(ctx, panes)
        app.run()
        if app.failure is not None:
            if app.failure.code == 2:
                fail_lines(app.failure.lines)
            fail("\n".join(app.failure.lines), code=app.failure.code)
        if app.next_profile is None:
            return
        ctx = ctx.with_profile(app.next_profile)
