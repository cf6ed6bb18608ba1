"""Configuration: the integration's own ``KAFKA_*`` variables, and evokafka's few of its own.

Read from the environment and from a ``.env`` file. The reference's blocks pasted verbatim
(``KEY = value`` with spaces around ``=``, ``#`` comment lines, blank lines) load as written.

Pure domain module: no I/O beyond reading the ``.env`` file it is pointed at, no Textual, no aiokafka.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from tui import catalog
from tui.brokers import split_brokers
from tui.config_errors import report
from tui.evolution_env import (
    INT32_MAX,
    NO_VARIABLE,
    Source,
    SslMaterial,
    note_for_bool,
    note_for_event_variable,
    note_for_number,
    parse_bool,
    parse_int,
    ssl_material,
)

SaslMechanism = Literal["plain", "scram-sha-256", "scram-sha-512"]

DEFAULT_ENV_FILE = ".env"

_S = TypeVar("_S", bound=BaseSettings)


class ConfigError(ValueError):
    """Invalid configuration: one line per bad variable (name, problem, what is allowed)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class KafkaSettings(BaseSettings):
    """Every ``KAFKA_*`` variable Evolution API 2.3.6 reads, read as it reads them (:mod:`tui.evolution_env`).

    Defaults are Evolution's, except ``KAFKA_ENABLED`` (true here, as in the document's block; Evolution's is
    false, and ``evokafka config`` says so). Three resilience settings come from the design (the reference's
    numbers): the first reconnect delay, the number of reconnect attempts and the number of send attempts.
    """

    model_config = SettingsConfigDict(
        env_prefix="KAFKA_",
        case_sensitive=False,
        extra="ignore",
        env_file=None,
        validate_default=True,
        # Validators are built on first use: settings are loaded through the subclasses of _isolated, so this
        # class's own would cost the console's start for nothing.
        defer_build=True,
    )

    # Basic connection
    enabled: bool = True
    """Master switch: ``false`` publishes nothing."""
    client_id: str = "evolution-api"
    brokers: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["localhost:9092"])
    """Comma-separated ``host:port`` list."""
    connection_timeout: int = Field(3000, ge=1, le=INT32_MAX)
    """Milliseconds to establish a connection."""
    request_timeout: int = Field(30000, ge=1, le=INT32_MAX)
    """Milliseconds to wait for a request's answer."""

    # Topics
    global_enabled: bool = False
    """Publish to the shared ``<prefix>.global.<event>`` topics too."""
    topic_prefix: str = Field("evolution", min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    num_partitions: int = Field(1, ge=1, le=100000)
    replication_factor: int = Field(1, ge=1, le=32767)
    auto_create_topics: bool = False

    # Consumer
    consumer_group_id: str = Field("evolution-api-consumers", min_length=1)

    # SASL
    sasl_enabled: bool = False
    sasl_mechanism: SaslMechanism = "plain"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")

    # SSL
    ssl_enabled: bool = False
    ssl_reject_unauthorized: bool = True
    ssl_ca: str | None = None
    """PEM contents (as Evolution reads it) or a file path (as the document shows it)."""
    ssl_cert: str | None = None
    ssl_key: str | None = Field(None, repr=False)

    # Resilience (design: the reference's numbers); the longest delay (32 times the first) must fit a timer.
    reconnect_initial_delay_ms: int = Field(5000, ge=1, le=INT32_MAX // 32)
    reconnect_max_attempts: int = Field(10, ge=1, le=1000)
    send_retries: int = Field(3, ge=1, le=100)
    """Attempts per message before it is reported failed and the connection counts as lost."""

    # Events, for the global topics: Evolution's 28 KAFKA_EVENTS_<NAME> variables, each false when missing.
    events_application_startup: bool = False
    events_instance_create: bool = False
    events_instance_delete: bool = False
    events_qrcode_updated: bool = False
    events_connection_update: bool = False
    events_messages_set: bool = False
    events_messages_upsert: bool = False
    events_messages_edited: bool = False
    events_messages_update: bool = False
    events_messages_delete: bool = False
    events_send_message: bool = False
    events_send_message_update: bool = False
    events_contacts_set: bool = False
    events_contacts_upsert: bool = False
    events_contacts_update: bool = False
    events_presence_update: bool = False
    events_chats_set: bool = False
    events_chats_upsert: bool = False
    events_chats_update: bool = False
    events_chats_delete: bool = False
    events_groups_upsert: bool = False
    events_groups_update: bool = False
    events_group_participants_update: bool = False
    events_labels_edit: bool = False
    events_labels_association: bool = False
    events_call: bool = False
    events_typebot_start: bool = False
    events_typebot_change_status: bool = False

    @field_validator("brokers", mode="before")
    @classmethod
    def _split_brokers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return split_brokers(value)
        if isinstance(value, list):
            return split_brokers(",".join(str(broker) for broker in value))
        return value

    @field_validator("sasl_mechanism", mode="before")
    @classmethod
    def _mechanism_any_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower().replace("_", "-")
        return value

    @field_validator("ssl_ca", "ssl_cert", "ssl_key", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return str(value) if isinstance(value, os.PathLike) else value

    def ssl_material(self, which: Literal["ca", "cert", "key"]) -> SslMaterial | None:
        """``KAFKA_SSL_<WHICH>`` as PEM text or as a path (see :func:`tui.evolution_env.ssl_material`)."""
        return ssl_material(getattr(self, f"ssl_{which}"))

    def event_enabled(self, event: catalog.Event) -> bool:
        """``KAFKA_EVENTS_<NAME>`` (false for the three events Evolution has no variable for)."""
        if event.name in NO_VARIABLE:
            return False
        return bool(getattr(self, f"events_{event.name.lower()}"))

    def evolution_events(self) -> dict[str, bool]:
        """Evolution's ``EVENTS`` map as it holds it: 28 keys, ``GROUP_UPDATE`` (not ``GROUPS_UPDATE``)."""
        return {
            ("GROUP_UPDATE" if e.name == "GROUPS_UPDATE" else e.name): self.event_enabled(e)
            for e in catalog.EVENTS
            if e.name not in NO_VARIABLE
        }

    @property
    def max_reconnect_delay_ms(self) -> int:
        """The backoff cap: 2^5 times the first delay, as Evolution API does."""
        return self.reconnect_initial_delay_ms * 32


class AppSettings(BaseSettings):
    """evokafka's own settings (``EVOKAFKA_*``), and the Evolution API server to take instances from."""

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_file=None, populate_by_name=True, defer_build=True
    )

    registry_topic: str = Field(
        "__evokafka_instances",
        validation_alias=AliasChoices("EVOKAFKA_REGISTRY_TOPIC"),
        pattern=r"^[A-Za-z0-9_-]{1,249}$",
    )
    """The compacted topic holding per-instance settings. No dots: it can never parse as an event topic."""
    read_only: bool = Field(False, validation_alias=AliasChoices("EVOKAFKA_READ_ONLY"))
    """Refuse every write (publish, registry, topic creation) in the Kafka layer."""
    pane_buffer: int = Field(5000, ge=10, le=1_000_000, validation_alias=AliasChoices("EVOKAFKA_PANE_BUFFER"))
    """Records a stream pane keeps; older ones fall out (counted, never silently)."""
    pane_buffer_bytes: int = Field(
        64 * 2**20, ge=2**20, le=2**40, validation_alias=AliasChoices("EVOKAFKA_PANE_BUFFER_BYTES")
    )
    """Bytes of records (keys, values, headers) a stream pane keeps, whatever their count: the oldest fall out
    first (counted as dropped), so memory follows this, not the size of the records (default 64 MiB)."""
    evolution_api_url: str | None = Field(None, validation_alias=AliasChoices("EVOLUTION_API_URL"))
    evolution_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("EVOLUTION_API_KEY"))
    evolution_api_timeout: float = Field(
        10.0, gt=0, le=600, validation_alias=AliasChoices("EVOLUTION_API_TIMEOUT")
    )
    """Seconds to wait for an answer of the Evolution API server."""
    instance_source: Literal["auto", "evolution", "registry"] = Field(
        "auto", validation_alias=AliasChoices("EVOKAFKA_INSTANCE_SOURCE")
    )
    """Where instances and their toggles come from: Evolution API when configured (auto), or as chosen."""

    @field_validator("evolution_api_url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        return _check_url(value)


def _isolated(model: type[_S]) -> type[_S]:
    """``model`` reading only its keyword arguments: :func:`load_settings` merges the sources itself."""

    class Isolated(model):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    Isolated.__name__ = model.__name__
    Isolated.__qualname__ = model.__qualname__
    return Isolated


def _check_url(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s)://host[:port] URL")
        return value.strip().rstrip("/")
    return value


def read_env_file(path: str | os.PathLike[str] | None) -> dict[str, str]:
    """Read a ``.env`` file; a line that is not ``KEY = value`` is a :class:`ConfigError` naming file and line.

    A missing default ``.env`` is no error; a missing file that was asked for by name is, and so is anything
    but a regular file (a FIFO or a device would block the read).
    """
    if path is None:
        return {}
    file = Path(path)
    if not file.exists():
        raise ConfigError([f"{file}: no such file"])
    if not file.is_file():
        raise ConfigError([f"{file}: not a regular file; give a .env file"])
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot read ({exc.__class__.__name__}: {exc})"]) from None
    from dotenv.parser import parse_stream  # here: importing python-dotenv costs a start without a .env file

    values: dict[str, str] = {}
    problems: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string.strip()
        shown = repr(original.splitlines()[0][:60]) if original else "''"
        where = f"{file}:{binding.original.line}"
        if binding.error:
            problems.append(f"{where}: cannot parse {shown}; expected KEY = value")
        elif binding.key is not None and binding.value is None:
            # ``KAFKA_BROKERS`` alone, or a long line without ``=``: never a silent empty value.
            problems.append(f"{where}: {shown} has no '='; expected KEY = value")
        elif binding.key is not None:
            values[binding.key] = binding.value or ""
    if problems:
        raise ConfigError(problems)
    return values


def _collect(
    env_file: str | os.PathLike[str] | None, environ: Mapping[str, str] | None
) -> tuple[dict[str, str], dict[str, Source]]:
    from_file = read_env_file(env_file)
    env = os.environ if environ is None else environ
    values = {**from_file, **env}  # the environment wins over .env, as pydantic-settings does
    sources = {key.upper(): Source.ENV_FILE for key in from_file}
    sources.update({key.upper(): Source.ENVIRONMENT for key in env})
    return values, sources


def default_env_file(env_file: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """The ``.env`` to read: the one given, else ``./.env`` when it exists, else none."""
    if env_file is not None:
        return env_file
    return DEFAULT_ENV_FILE if Path(DEFAULT_ENV_FILE).is_file() else None


@dataclass(frozen=True, slots=True)
class TracedSettings:
    """Settings with where each ``KAFKA_*`` value came from and how Evolution reads what was written."""

    settings: KafkaSettings
    sources: dict[str, Source]
    """``KAFKA_<FIELD>`` → environment, .env, command line or default."""
    notes: dict[str, str]
    """``KAFKA_<FIELD>`` (or an unread ``KAFKA_EVENTS_*``) → one line on how Evolution reads the value."""


def _evolution_value(field: str, raw: str, variable: str, notes: dict[str, str]) -> Any:
    """``raw`` as Evolution reads it, or :data:`_DEFAULT` when Evolution falls back to the default."""
    info = KafkaSettings.model_fields[field]
    if raw == "":
        return _DEFAULT  # JavaScript's ``||``: an empty value takes the default
    if info.annotation is bool:
        parsed = parse_bool(raw, true_unless_false=field == "ssl_reject_unauthorized")
        if note := note_for_bool(variable, raw, parsed):
            notes[variable] = note
        return parsed
    if info.annotation is int:
        number = parse_int(raw)
        if note := note_for_number(variable, raw, number, int(info.default)):
            notes[variable] = note
        return number if number else _DEFAULT
    return raw


_DEFAULT = object()


def load_traced(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> TracedSettings:
    """:func:`load_settings` with the source of every value and the notes ``evokafka config`` shows."""
    values, origins = _collect(default_env_file(env_file), environ)
    data: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    notes: dict[str, str] = {}
    for key, value in values.items():
        upper = key.upper()
        if not upper.startswith("KAFKA_"):
            continue
        field = upper.removeprefix("KAFKA_").lower()
        if field not in KafkaSettings.model_fields:
            if note := note_for_event_variable(upper):
                notes[upper] = note
            continue
        parsed = _evolution_value(field, value, upper, notes)
        if parsed is not _DEFAULT:
            data[field] = parsed
            sources[upper] = origins.get(upper, Source.ENVIRONMENT)
    for name, value in overrides.items():
        if value is None:
            continue
        variable = f"KAFKA_{name.upper()}"
        parsed = _evolution_value(name, value, variable, notes) if isinstance(value, str) else value
        if parsed is not _DEFAULT:
            data[name] = parsed
            sources[variable] = Source.OVERRIDE
    for field in KafkaSettings.model_fields:
        sources.setdefault(f"KAFKA_{field.upper()}", Source.DEFAULT)
    try:
        # Build from the merged mapping only, so the result does not depend on hidden sources.
        settings = _ISOLATED_KAFKA(**data)
    except ValidationError as exc:
        raise ConfigError(report(KafkaSettings, exc, values)) from None
    for which in ("ca", "cert", "key"):
        material = settings.ssl_material(which)
        if material is not None:
            notes[f"KAFKA_SSL_{which.upper()}"] = f"used as {material.described}"
    for group, switch in (("SSL", settings.ssl_enabled), ("SASL", settings.sasl_enabled)):
        given = [v for v, src in sources.items() if v.startswith(f"KAFKA_{group}_") and src is not Source.DEFAULT]
        for variable in given if not switch else ():
            if not variable.endswith("_ENABLED"):
                unread = f"Evolution reads it only when KAFKA_{group}_ENABLED is true"
                notes[variable] = f"{notes[variable]}; {unread}" if variable in notes else unread
    raw_brokers = values.get("KAFKA_BROKERS", "")
    if any(part != part.strip() for part in raw_brokers.split(",")):
        notes["KAFKA_BROKERS"] = "Evolution does not trim the parts: a broker written with spaces fails there"
    return TracedSettings(settings, sources, notes)


def load_settings(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> KafkaSettings:
    """Load :class:`KafkaSettings` from ``environ`` (default: the process environment) and ``env_file``,
    each value read as Evolution API reads it.

    ``overrides`` (field names, e.g. ``brokers="h:1"``) win over both. Invalid values raise
    :class:`ConfigError` with one line per bad variable.
    """
    return load_traced(env_file, environ, **overrides).settings


def load_app_settings(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> AppSettings:
    """Load :class:`AppSettings` the same way as :func:`load_settings`."""
    values, _ = _collect(default_env_file(env_file), environ)
    data: dict[str, Any] = {}
    for name, info in AppSettings.model_fields.items():
        alias = info.validation_alias
        var = str(alias.choices[0]) if isinstance(alias, AliasChoices) else name.upper()
        for key, value in values.items():
            if key.upper() == var:
                data[name] = value
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return _ISOLATED_APP(**data)
    except ValidationError as exc:
        raise ConfigError(report(AppSettings, exc, values)) from None


_ISOLATED_KAFKA = _isolated(KafkaSettings)
_ISOLATED_APP = _isolated(AppSettings)
