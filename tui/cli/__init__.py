"""The command line: ``evokafka`` opens the console; subcommands share the same services.

Every subcommand lives in its own module and registers itself on :data:`cli`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import traceback

import click

from tui import __version__
from tui.cli.common import USER_ERRORS, Context

SUBCOMMANDS = ("publish", "tail", "config", "instances", "topics", "doctor", "bench", "demo", "serve")
"""Modules ``tui.cli.<name>_cmd`` each define a click command named ``command``."""


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--brokers", metavar="HOST:PORT,…", help="Override KAFKA_BROKERS.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    help="Read settings from this .env file (default: ./.env when present).",
)
@click.option("--read-only", is_flag=True, help="Refuse every write (publish, registry, topic creation).")
@click.version_option(__version__, prog_name="evokafka")
@click.pass_context
def cli(ctx: click.Context, brokers: str | None, env_file: str | None, read_only: bool) -> None:
    """evokafka: a console for Evolution API's WhatsApp event streams in Kafka.

    Without a subcommand it opens the console on KAFKA_BROKERS.
    """
    ctx.obj = Context(env_file=env_file, brokers=brokers, read_only=read_only)
    if ctx.invoked_subcommand is None:
        from tui.cli.console_cmd import open_console

        open_console(ctx.obj)


for _name in SUBCOMMANDS:
    if importlib.util.find_spec(f"tui.cli.{_name}_cmd") is None:
        continue  # a subcommand whose module is not in this build
    _module = importlib.import_module(f"tui.cli.{_name}_cmd")
    cli.add_command(_module.command, name=_name)


def _quiet_logging() -> None:
    # aiokafka logs every failed connection attempt; the commands report state themselves, in one line.
    level = logging.DEBUG if os.environ.get("EVOKAFKA_DEBUG") else logging.CRITICAL
    logging.getLogger("aiokafka").setLevel(level)
    logging.getLogger("asyncio").setLevel(level)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click errors become one line on stderr (exit 2), never a traceback."""
    _quiet_logging()
    try:
        cli.main(args=argv, prog_name="evokafka", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        command = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else "evokafka"
        click.echo(f"{command}: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except USER_ERRORS as exc:
        click.echo(f"evokafka: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # one line, never a traceback, unless asked
        if os.environ.get("EVOKAFKA_DEBUG"):
            traceback.print_exc()
        click.echo(f"evokafka: error: {exc.__class__.__name__}: {exc}", err=True)
        sys.exit(1)
