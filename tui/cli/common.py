"""What every subcommand shares: loading settings, one-line errors with exit 2, running async work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:  # imported where used: `evokafka --help` must not pay for pydantic and friends
    from tui.config import AppSettings, KafkaSettings

T = TypeVar("T")


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's input: exit 2 with one line."""
    from tui.catalog import UnknownEventError
    from tui.config import ConfigError
    from tui.topology import InstanceNameError

    return (ConfigError, UnknownEventError, InstanceNameError)


@dataclass
class Context:
    """Options given before the subcommand (``evokafka --brokers … --env-file … SUB``)."""

    env_file: str | None = None
    brokers: str | None = None
    read_only: bool = False

    def settings(self, **overrides: Any) -> KafkaSettings:
        """The effective :class:`KafkaSettings`; invalid → exit 2 with one line per bad variable."""
        from tui.config import ConfigError, load_settings

        if self.brokers:
            overrides.setdefault("brokers", self.brokers)
        try:
            return load_settings(self.env_file, **overrides)
        except ConfigError as exc:
            fail_lines(exc.lines)

    def app_settings(self, **overrides: Any) -> AppSettings:
        """The effective :class:`AppSettings` (read-only flag applied)."""
        from tui.config import ConfigError, load_app_settings

        if self.read_only:
            overrides["read_only"] = True
        try:
            return load_app_settings(self.env_file, **overrides)
        except ConfigError as exc:
            fail_lines(exc.lines)


pass_context = click.make_pass_decorator(Context, ensure=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``evokafka: message`` on stderr and exit (2: the user's input)."""
    click.echo(f"evokafka: {message}", err=True)
    sys.exit(code)


def fail_lines(lines: list[str], code: int = 2) -> NoReturn:
    """Print each line as ``evokafka: line`` on stderr and exit."""
    for line in lines:
        click.echo(f"evokafka: {line}", err=True)
    sys.exit(code)


def run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async work; Ctrl-C stops it cleanly (exit 130), user errors exit 2 with one line."""
    try:
        return asyncio.run(coro_factory())
    except KeyboardInterrupt:
        click.echo("", err=True)
        sys.exit(130)
    except Exception as exc:
        if isinstance(exc, user_errors()):
            fail(str(exc))
        raise


def parse_event_names(value: str) -> list[str]:
    """``A,B , C`` → ``["A", "B", "C"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]
