"""The command line: ``evokafka`` opens the console; subcommands build on the same session construction.

Every subcommand lives in its own module and registers itself on :data:`cli`.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click

from tui import __version__, collector
from tui.cli.common import Context, enter_read_only, user_errors

SUBCOMMANDS: dict[str, str] = {
    "publish": "Publish envelopes exactly as Evolution API does.",
    "tail": "Print records of topics as JSON lines, without a consumer group.",
    "config": "Print the effective settings, secrets masked.",
    "instances": "Instances and their event toggles (registry or Evolution API).",
    "topics": "The topics the configuration implies: plan, diff, create.",
    "doctor": "Check connection, configuration and cluster, with fixes.",
    "bench": "Measure throughput, latency and memory; print JSON.",
    "demo": "Embedded broker with realistic WhatsApp traffic, in the console.",
    "serve": "Answer Evolution API's Kafka endpoints from the registry.",
    "web": "Serve the console (or the demo) to browsers, one console per tab.",
    "trace": "A WhatsApp message's life across the topics, with its gaps.",
    "replay": "Move a consumer group back (dry run first), or re-send records.",
    "explain": "Why an event of an instance did or did not arrive, checked live.",
    "watch": "Open the console straight onto panes: TOPIC…, -i INSTANCE, -e EVENT.",
}
"""Modules ``tui.cli.<name>_cmd`` each define a click command named ``command``, imported only when used
(:func:`load_command`), so ``evokafka --help`` starts without loading aiokafka or Textual."""
WATCH_OPTIONS = frozenset({"-i", "--instance", "-e", "--event", "--from"})
"""``watch``'s options, which the bare command takes too."""


def load_command(name: str) -> click.Command | None:
    """The subcommand ``name``, imported now (None: no such subcommand)."""
    match name:
        case "publish":
            from tui.cli.publish_cmd import command as publish_command

            return publish_command
        case "tail":
            from tui.cli.tail_cmd import command as tail_command

            return tail_command
        case "config":
            from tui.cli.config_cmd import command as config_command

            return config_command
        case "instances":
            from tui.cli.instances_cmd import command as instances_command

            return instances_command
        case "topics":
            from tui.cli.topics_cmd import command as topics_command

            return topics_command
        case "doctor":
            from tui.cli.doctor_cmd import command as doctor_command

            return doctor_command
        case "bench":
            from tui.cli.bench_cmd import command as bench_command

            return bench_command
        case "demo":
            from tui.cli.demo_cmd import command as demo_command

            return demo_command
        case "serve":
            from tui.cli.serve_cmd import command as serve_command

            return serve_command
        case "web":
            from tui.cli.web_cmd import command as web_command

            return web_command
        case "trace":
            from tui.cli.trace_cmd import command as trace_command

            return trace_command
        case "replay":
            from tui.cli.replay_cmd import command as replay_command

            return replay_command
        case "explain":
            from tui.cli.explain_cmd import command as explain_command

            return explain_command
        case "watch":
            from tui.cli.watch_cmd import command as watch_command

            return watch_command
    return None


class LazyGroup(click.Group):
    """Subcommands imported on first use, so ``evokafka --help`` starts fast. Arguments that name no
    subcommand (``evokafka evolution.shop.call``, ``evokafka -i shop``) are ``watch``'s: the console opens on
    those panes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._with_watch(ctx, args))

    def _with_watch(self, ctx: click.Context, args: list[str]) -> list[str]:
        """``args`` with ``watch`` put before the first one that is neither a global option nor a subcommand."""
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not param.is_flag and not param.count
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                return args
            name = arg.split("=", 1)[0]
            if name in takes_value:
                index += 2 if takes_value[name] and "=" not in arg else 1
                continue
            if arg in SUBCOMMANDS:
                return args
            if arg.startswith("-") and arg not in WATCH_OPTIONS:
                return args  # an unknown global option: click says so
            if not arg.startswith("-") and "." not in arg:
                # Topics of the layout always hold a dot; a bare word is a mistyped subcommand (`evokafka tial`):
                # click says "no such command". `evokafka watch WORD` still reads a topic named so.
                return args
            return [*args[:index], "watch", *args[index:]]
        return args

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = load_command(cmd_name) if cmd_name in SUBCOMMANDS else None
        if command is None:
            return None
        command.name = cmd_name
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("--brokers", metavar="HOST:PORT,…", help="Override KAFKA_BROKERS.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    help="Read settings from this .env file (default: ./.env when present).",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Refuse every write to the cluster (publish, registry, topic creation or deletion, group offsets; "
    "demo and bench traffic), in the Kafka layer itself. Also EVOKAFKA_READ_ONLY=true.",
)
@click.option("--profile", metavar="NAME",
              help="Settings from the named profile (<config dir>/profiles/NAME.env) instead of --env-file.")
@click.option("--read-write", is_flag=True, help="Open a profile marked production writable (it opens read-only).")
@click.version_option(__version__, prog_name="evokafka")
@click.pass_context
def cli(
    ctx: click.Context,
    brokers: str | None,
    env_file: str | None,
    read_only: bool,
    profile: str | None,
    read_write: bool,
) -> None:
    """evokafka: a console for Evolution API's WhatsApp event streams in Kafka.

    Without a subcommand it opens the console on KAFKA_BROKERS; with topics, -i INSTANCE or -e EVENT it opens
    on those panes (see `evokafka watch --help`).
    """
    ctx.obj = Context(
        env_file=env_file, brokers=brokers, read_only=read_only, profile_name=profile, read_write=read_write
    )
    if read_only:
        enter_read_only()
    if ctx.invoked_subcommand is None:
        from tui.cli.console_cmd import open_console

        open_console(ctx.obj)  # the console turns the collector on after its first frame (see main)
    else:
        # The subcommand's module is imported (see main): what the imports allocated is never garbage, and a
        # collector that looks at it pays each full pass and, at exit, the interpreter's last collections (~50 ms
        # of `instances list`'s exit at the scale bench's size).
        collector.freeze_imports()
        collector.release()



def _quiet_logging() -> None:
    # aiokafka logs every failed connection attempt; the commands report state themselves, in one line.
    level = logging.DEBUG if os.environ.get("EVOKAFKA_DEBUG") else logging.CRITICAL
    logging.getLogger("aiokafka").setLevel(level)
    logging.getLogger("asyncio").setLevel(level)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click errors become one line on stderr (exit 2), never a traceback."""
    _quiet_logging()
    # Off until the subcommand's module is imported (the console: until its first frame), and on again whatever
    # happens (tui.collector).
    collector.hold()
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
    except Exception as exc:  # one line, never a traceback, unless asked
        if isinstance(exc, user_errors()):
            click.echo(f"evokafka: {exc}", err=True)
            sys.exit(2)
        if os.environ.get("EVOKAFKA_DEBUG"):
            traceback.print_exc()
        click.echo(f"evokafka: error: {exc.__class__.__name__}: {exc}", err=True)
        sys.exit(1)
    finally:
        collector.release()
