"""``evokafka web``: the console (or the demo) served to browsers with textual-serve, one console per tab.

Each browser tab gets its own console process, started with the options given to ``evokafka`` (``--brokers``,
``--env-file``, ``--read-only``); stopping the server stops them all. Loopback needs no token; any other
address does (``--token``, ``EVOKAFKA_WEB_TOKEN``, or one generated here and printed once).

With ``--demo`` this process owns the demo — one embedded broker, one seeded registry, one stream of traffic,
as ``evokafka demo --no-ui`` runs them — and each tab runs a console on it: ten tabs watch the same traffic
instead of starting ten brokers. The chaos keys (F7, F8) stay with ``evokafka demo`` in a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import secrets
import signal
import socket
import sys

import click

from tui.cli.common import Context, fail, pass_context, run
from tui.demo.traffic import MAX_INSTANCES

TOKEN_ENV = "EVOKAFKA_WEB_TOKEN"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback requires a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port (0: any free port).")
@click.option("--token", metavar="TOKEN", help=f"The token browsers must send [{TOKEN_ENV}]; generated when "
              "needed and not given.")
@click.option("--max-tabs", type=click.IntRange(1, 1000), default=8, show_default=True,
              help="Consoles at once (a process each); one more tab is refused.")
@click.option("--demo", is_flag=True, help="Serve the demo: one embedded broker and its traffic, a console per tab.")
@click.option("--rate", type=click.FloatRange(min=0.1, max=100_000), default=10.0, show_default=True,
              help="With --demo: events per second.")
@click.option("--instances", type=click.IntRange(1, MAX_INSTANCES), default=5, show_default=True,
              help="With --demo: how many seeded instances.")
@click.option("--global/--no-global", "global_enabled", default=True, show_default=True,
              help="With --demo: publish to the global topics too.")
@pass_context
def command(
    ctx: Context,
    host: str,
    port: int,
    token: str | None,
    max_tabs: int,
    demo: bool,
    rate: float,
    instances: int,
    global_enabled: bool,
) -> None:
    """Serve the console to browsers: every tab runs its own console process with the options given to
    evokafka (--brokers, --env-file, --read-only). Ctrl-C stops the server and every console."""
    if importlib.util.find_spec("textual_serve") is None:
        fail("evokafka web needs the web extra: pip install 'evokafka[web]'")
    from tui.web.server import ConsoleServer, console_argv, is_loopback

    token = (token if token is not None else os.environ.get(TOKEN_ENV, "")).strip() or None
    generated = token is None and not is_loopback(host)
    if generated:
        token = secrets.token_urlsafe(24)
    app_settings = ctx.app_settings()  # bad settings: exit 2 here, not in every tab

    runner = None
    if demo:
        from tui.cli.demo_cmd import demo_settings, refuse_when_read_only
        from tui.demo.runner import DemoConfig, DemoRunner
        from tui.kafka.options import ConnectionSetupError

        settings = demo_settings(ctx, ctx.brokers, global_enabled)
        refuse_when_read_only(ctx)
        config = DemoConfig(rate, instances, 1, global_enabled, external=bool(ctx.brokers))
        try:
            runner = DemoRunner(settings, config, registry_topic=app_settings.registry_topic)
        except ConnectionSetupError as exc:
            fail(str(exc))
        flags = ["--instances", str(instances), "--global" if global_enabled else "--no-global"]
        argv = console_argv("tui.web.demo_tab", brokers=runner.bootstrap, env_file=ctx.env_file,
                            read_only=ctx.read_only, extra=flags)
    else:
        ctx.settings()
        argv = console_argv("tui", brokers=ctx.brokers, env_file=ctx.env_file, read_only=ctx.read_only)
    _log_to_stdout()

    async def serve() -> None:
        from tui.demo.broker import BrokerError
        from tui.kafka.options import ClusterUnreachableError

        traffic: asyncio.Task[None] | None = None
        failure = ""
        if runner is not None:
            try:
                await runner.start()
            except (BrokerError, ClusterUnreachableError) as exc:
                fail(str(exc), code=1)
            traffic = asyncio.create_task(runner.run(), name="web:demo-traffic")
        title = "evokafka demo" if demo else "evokafka"
        server = ConsoleServer(argv, host, port, token=token, title=title, max_tabs=max_tabs)
        try:
            try:
                bound = await server.start()
            except OSError as exc:
                why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                fail(f"cannot listen on {host}:{port}: {why}", code=1)
            url = f"http://{_display_host(host)}:{bound}/"
            if token is None:
                click.echo(f"evokafka web: serving on {url} (loopback: no token)")
            elif generated:
                click.echo(f"evokafka web: serving on {url}?token={token}")
                click.echo("evokafka web: that token is printed only now; browsers without it are refused")
            else:
                click.echo(f"evokafka web: serving on {url}?token=<your token> (browsers without it are refused)")
            if runner is not None:
                click.echo(f"evokafka web: demo on {runner.bootstrap} · {len(runner.instances)} instances · "
                           f"{rate:g} events/s · each tab runs a console on it")
            if ctx.read_only:
                click.echo("evokafka web: read-only: every tab's console refuses writes")
            click.echo("evokafka web: Ctrl-C stops the server and every console")
            sys.stdout.flush()
            await _until_stopped(traffic)
            # The traffic ending by itself is a failure (it runs until stopped): say why, after stopping.
            if traffic is not None and traffic.done() and not traffic.cancelled():
                error = traffic.exception()
                failure = f"{error.__class__.__name__}: {error}" if error else "it ended"
        finally:
            await server.stop()
            if runner is not None:
                runner.request_stop()
                if traffic is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(traffic, timeout=15)
                await runner.stop()
        click.echo("evokafka web: stopped")
        if failure:
            fail(f"the demo's traffic stopped: {failure}", code=1)

    run(serve)


def _display_host(host: str) -> str:
    # A wildcard address is not one a browser can open: name the machine instead.
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def _log_to_stdout() -> None:
    """One line per tab opened or closed, and textual-serve's own errors (a console that failed to start)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("evokafka web: %(message)s"))
    for name in ("tui.web", "textual-serve"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


async def _until_stopped(traffic: asyncio.Task[None] | None) -> None:
    """Wait for Ctrl-C or SIGTERM (handled in the loop, so every console stops in order), or for the demo's
    traffic to end."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
    if traffic is not None:
        waits.append(traffic)  # type: ignore[arg-type]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waits[0].cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
