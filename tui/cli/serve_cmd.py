"""``evokafka serve``: Evolution API's Kafka endpoints over HTTP, backed by the cluster registry."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import sys

import click
from pydantic import SecretStr

from tui.cli.common import Context, fail, pass_context, run
from tui.config_view import mask
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError
from tui.kafka.registry import InstanceRegistry
from tui.topology import InstanceNameError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free port)."
)
@click.option("--apikey", metavar="KEY", help="The key callers must send in the apikey header [EVOLUTION_API_KEY].")
@click.option("--no-auth", is_flag=True, help="Answer without checking any key (loopback tests, demos).")
@click.option(
    "--instance",
    "instances",
    multiple=True,
    metavar="NAME",
    help="An instance that exists even before the registry has settings for it (repeatable).",
)
@click.option("--allow-new", is_flag=True, help="Let /kafka/set create instances the registry does not know.")
@pass_context
def command(
    ctx: Context,
    host: str,
    port: int,
    apikey: str | None,
    no_auth: bool,
    instances: tuple[str, ...],
    allow_new: bool,
) -> None:
    """Answer POST /kafka/set/<instance>, GET /kafka/find/<instance> and GET /instance/fetchInstances as
    Evolution API does, from the registry in the cluster. Ctrl-C stops."""
    settings = ctx.settings()
    app_settings = ctx.app_settings()
    key: SecretStr | None = SecretStr(apikey) if apikey is not None else app_settings.evolution_api_key
    if key is not None and not key.get_secret_value().strip():
        key = None
    if no_auth:
        if not _loopback(host):
            fail(f"--no-auth only on a loopback host (127.0.0.1, ::1, localhost), not {host!r}")
        key = None
    elif key is None:
        fail("no API key: give --apikey KEY, set EVOLUTION_API_KEY, or pass --no-auth")
    try:
        options = ConnectionOptions.from_settings(settings)
        for name in instances:
            if not name.strip():
                raise InstanceNameError("illegal instance name '': it is empty")
        config = ServeConfig(
            key, read_only=app_settings.read_only, instances=instances, allow_new=allow_new,
            prefix=settings.topic_prefix,
        )
    except (ConnectionSetupError, InstanceNameError) as exc:
        fail(str(exc))

    async def serve() -> None:
        registry = InstanceRegistry(
            settings, topic=app_settings.registry_topic, options=options, read_only=app_settings.read_only
        )
        try:
            await registry.start()
        except ClusterUnreachableError as exc:
            fail(str(exc), code=1)
        server = EvolutionServer(registry, config, host, port)
        try:
            try:
                url = await server.start()
            except OSError as exc:
                # asyncio's message repeats the address; the errno's text is the part worth a line.
                why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                fail(f"cannot listen on {host}:{port}: {why}", code=1)
            auth = f"apikey {mask(key)} required" if key is not None else "NO AUTH: any caller may change settings"
            mode = "; read-only: /kafka/set answers 403" if app_settings.read_only else ""
            click.echo(f"evokafka serve: listening on {url} ({auth}{mode})")
            click.echo(
                f"evokafka serve: registry {app_settings.registry_topic} on {','.join(settings.brokers)}; "
                f"try: curl -X POST {url}/kafka/set/<instance> -H 'apikey: …' "
                "-H 'Content-Type: application/json' -d '{\"kafka\": {\"enabled\": true, \"events\": []}}'"
            )
            sys.stdout.flush()
            await _until_stopped()
        finally:
            await server.stop()
            await registry.stop()
        click.echo("evokafka serve: stopped")

    run(serve)


def _loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM, handled in the loop so the server and the registry stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
