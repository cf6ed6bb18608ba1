"""What every subcommand shares: loading settings, one-line errors with exit 2, running async work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:  # imported where used: `evokafka --help` must not pay for pydantic and friends
    from tui.config import AppSettings, KafkaSettings
    from tui.profiles import Profile

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
    profile_name: str | None = None
    """``--profile NAME``: the settings come from that profile's file in the configuration directory."""
    read_write: bool = False
    """``--read-write``: a profile marked production opens writable (it opens read-only otherwise)."""

    def profile(self) -> Profile | None:
        """The ``--profile`` chosen (None: none); an unknown or unreadable one exits 2 with one line."""
        return _or_exit(self.read_profile)

    def read_profile(self) -> Profile | None:
        """:meth:`profile`, raising :class:`InputProblem` instead of exiting."""
        if self.profile_name is None:
            return None
        from tui.profiles import ProfileError, ProfileStore

        if self.env_file is not None:
            raise InputProblem(["give --profile or --env-file, not both"])
        try:
            return ProfileStore().get(self.profile_name)
        except ProfileError as exc:
            raise InputProblem([str(exc)]) from None

    def with_profile(self, name: str) -> Context:
        """The same options on another profile (the console's profile switcher)."""
        return replace(self, profile_name=name, env_file=None)

    def _env_file(self) -> str | None:
        profile = self.read_profile()
        return str(profile.path) if profile is not None else self.env_file

    def settings(self, **overrides: Any) -> KafkaSettings:
        """The effective :class:`KafkaSettings`; invalid → exit 2 with one line per bad variable."""
        return _or_exit(lambda: self.read_settings(**overrides))

    def read_settings(self, *, enter_scope: bool = True, **overrides: Any) -> KafkaSettings:
        """:meth:`settings`, raising :class:`InputProblem` instead of exiting (``enter_scope``: see
        :meth:`read_app_settings`)."""
        from tui.config import ConfigError, load_settings

        if self.brokers:
            overrides.setdefault("brokers", self.brokers)
        try:
            settings = load_settings(self._env_file(), **overrides)
        except ConfigError as exc:
            raise InputProblem(exc.lines) from None
        if not self.read_only:
            # EVOKAFKA_READ_ONLY may come from the environment or the .env file: every command that reaches
            # Kafka asks for these settings first, so this is where the process learns it is read-only.
            self.read_app_settings(enter_scope=enter_scope)
        return settings

    def app_settings(self, **overrides: Any) -> AppSettings:
        """The effective :class:`AppSettings` (read-only flag applied; a production profile is read-only unless
        ``--read-write``)."""
        return _or_exit(lambda: self.read_app_settings(**overrides))

    def read_app_settings(self, *, enter_scope: bool = True, **overrides: Any) -> AppSettings:
        """:meth:`app_settings`, raising :class:`InputProblem` instead of exiting.

        Settings that make the process read-only enter the command's read-only scope (:func:`enter_read_only`)
        unless ``enter_scope`` is False: the console reads its settings inside its running app, where the scope
        could not be left again, and its session carries the flag to every client it builds instead."""
        from tui.config import ConfigError, load_app_settings

        profile = self.read_profile()
        if self.read_only or (profile is not None and profile.production and not self.read_write):
            overrides["read_only"] = True
        try:
            app = load_app_settings(self._env_file(), **overrides)
        except ConfigError as exc:
            raise InputProblem(exc.lines) from None
        if app.read_only and not self.read_only:
            self.read_only = True
            if enter_scope:
                enter_read_only()
        return app


class InputProblem(Exception):
    """The user's input cannot be used: one line per problem (the command exits 2 with them)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def _or_exit(read: Callable[[], T]) -> T:
    """``read()``; an :class:`InputProblem` exits 2 with its lines."""
    try:
        return read()
    except InputProblem as exc:
        fail_lines(exc.lines)


def enter_read_only() -> None:
    """Make the rest of this invocation read-only in the Kafka layer (every producer, admin client and group
    consumer built from then on refuses writes), until the command ends. Outside a command (a :class:`Context`
    used as a library) there is no invocation to scope: the settings' own flag is what the services get."""
    from tui.kafka.options import read_only_scope

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().with_resource(read_only_scope())


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
