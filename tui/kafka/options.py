"""Connection options, built once from :class:`~tui.config.KafkaSettings`, used by every Kafka client.

Publisher, stream readers, admin and registry all take their bootstrap list, client id, timeouts, SASL and
SSL from here, so a setting means the same thing everywhere.

It is also the one door every write goes through: producers and admin clients are built only here
(:meth:`ConnectionOptions.producer`, :meth:`ConnectionOptions.admin_client`; a unit test keeps it so), and in
read-only mode — the options' own ``read_only``, or a :func:`read_only_scope` the command line enters for the
whole process — their writing calls raise :class:`ReadOnlyError` before a byte leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.config import KafkaSettings
from tui.evolution_env import SslMaterial
from tui.failures import reason

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient

_MECHANISMS = {"plain": "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512"}


class ClusterUnreachableError(ConnectionError):
    """The cluster did not answer within the connection timeout."""


class ConnectionSetupError(ValueError):
    """The SSL files named in the settings cannot be used (missing, unreadable, malformed)."""


class ReadOnlyError(PermissionError):
    """A write was asked for while evokafka runs read-only."""

    def __init__(self, what: str) -> None:
        super().__init__(f"read-only mode: refusing to {what}")


_READ_ONLY: ContextVar[bool] = ContextVar("evokafka_read_only", default=False)


@contextlib.contextmanager
def read_only_scope() -> Iterator[None]:
    """Within it, every client built here refuses writes, whatever options it was given (the command line
    enters it for ``--read-only`` / ``EVOKAFKA_READ_ONLY``, so no subcommand can forget to pass the flag)."""
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def writes_refused() -> bool:
    """Whether a :func:`read_only_scope` is in force."""
    return _READ_ONLY.get()


@functools.cache
def _read_only_clients() -> tuple[type[AIOKafkaProducer], type[AIOKafkaAdminClient], type[AIOKafkaConsumer]]:
    """The producer, admin client and consumer that refuse writes. Made when the first client is built, so that
    importing these options (the console does before its first frame) does not import aiokafka."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient

    class _ReadOnlyProducer(AIOKafkaProducer):  # type: ignore[misc]
        """A producer that may connect (metadata, the console's producer state) but never sends."""

        async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError(f"write to topic {topic}")

        async def send_batch(self, batch: Any, topic: str, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError(f"write to topic {topic}")

        async def send_offsets_to_transaction(self, *args: Any, **kwargs: Any) -> None:
            raise ReadOnlyError("commit consumer offsets")


    class _ReadOnlyAdminClient(AIOKafkaAdminClient):  # type: ignore[misc]
        """An admin client whose every changing call is refused (describing and listing still work)."""

        async def create_topics(self, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError("create topics")

        async def delete_topics(self, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError("delete topics")

        async def create_partitions(self, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError("add partitions")

        async def alter_configs(self, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError("change topic or broker configuration")

        async def delete_records(self, *args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError("delete records")


    class _ReadOnlyConsumer(AIOKafkaConsumer):  # type: ignore[misc]
        """A consumer that never commits a group's offsets."""

        async def commit(self, *args: Any, **kwargs: Any) -> None:
            raise ReadOnlyError("commit consumer group offsets")

    return _ReadOnlyProducer, _ReadOnlyAdminClient, _ReadOnlyConsumer


@dataclass(frozen=True)
class ConnectionOptions:
    """What every aiokafka client of the project is given."""

    bootstrap_servers: list[str]
    client_id: str
    connect_timeout_s: float
    """``KAFKA_CONNECTION_TIMEOUT``: bound on reaching the cluster (aiokafka has no such option; the
    services apply it around ``start()``)."""
    request_timeout_ms: int
    security_protocol: str
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    read_only: bool = False
    """Clients built from these options refuse writes (so does any client built in a
    :func:`read_only_scope`)."""

    @property
    def refuses_writes(self) -> bool:
        """Read-only by these options or by the process's :func:`read_only_scope`."""
        return self.read_only or writes_refused()

    def check_write(self, what: str) -> None:
        """:class:`ReadOnlyError` naming ``what`` when writes are refused."""
        if self.refuses_writes:
            raise ReadOnlyError(what)

    def producer(self, **extra: Any) -> AIOKafkaProducer:
        """The only way the project builds a producer: when writes are refused it still connects, but every
        send raises :class:`ReadOnlyError`."""
        from aiokafka import AIOKafkaProducer

        kind = _read_only_clients()[0] if self.refuses_writes else AIOKafkaProducer
        return kind(**self.client_kwargs(), **extra)

    def admin_client(self) -> AIOKafkaAdminClient:
        """The only way the project builds an admin client (creating, deleting, altering refused when
        read-only)."""
        from aiokafka.admin import AIOKafkaAdminClient

        kind = _read_only_clients()[1] if self.refuses_writes else AIOKafkaAdminClient
        return kind(**self.client_kwargs())

    def group_consumer(self, group: str, **extra: Any) -> AIOKafkaConsumer:
        """A consumer of ``group`` that never commits on its own (and cannot commit when read-only)."""
        from aiokafka import AIOKafkaConsumer

        kind = _read_only_clients()[2] if self.refuses_writes else AIOKafkaConsumer
        kwargs: dict[str, Any] = {**self.client_kwargs(), "enable_auto_commit": False, **extra}
        if self.refuses_writes:
            kwargs["enable_auto_commit"] = False  # auto-commit would not pass through commit()
        return kind(**kwargs, group_id=group)

    @classmethod
    def from_settings(cls, settings: KafkaSettings, *, read_only: bool = False) -> ConnectionOptions:
        """Build the options; an unusable SSL file raises :class:`ConnectionSetupError` (one line)."""
        ssl_on, sasl_on = settings.ssl_enabled, settings.sasl_enabled
        protocol = {
            (False, False): "PLAINTEXT",
            (True, False): "SSL",
            (False, True): "SASL_PLAINTEXT",
            (True, True): "SASL_SSL",
        }[(ssl_on, sasl_on)]
        return cls(
            bootstrap_servers=list(settings.brokers),
            client_id=settings.client_id,
            connect_timeout_s=settings.connection_timeout / 1000,
            request_timeout_ms=settings.request_timeout,
            security_protocol=protocol,
            sasl_mechanism=_MECHANISMS[settings.sasl_mechanism] if sasl_on else None,
            sasl_username=settings.sasl_username if sasl_on else None,
            sasl_password=settings.sasl_password.get_secret_value() if sasl_on else None,
            ssl_context=ssl_context(settings) if ssl_on else None,
            read_only=read_only,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by ``AIOKafkaProducer``, ``AIOKafkaConsumer`` and the admin client."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "request_timeout_ms": self.request_timeout_ms,
            "security_protocol": self.security_protocol,
        }
        if self.ssl_context is not None:
            kwargs["ssl_context"] = self.ssl_context
        if self.sasl_mechanism is not None:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password
        return kwargs


def _pem_file(stack: contextlib.ExitStack, material: SslMaterial) -> str:
    """A path holding ``material``: its own for a path, a private temporary file for PEM text (Python's TLS
    loads client certificates from files only); removed when ``stack`` closes."""
    if material.kind == "path":
        return material.value
    handle = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="utf-8"))  # noqa: SIM115
    handle.write(material.value)
    handle.flush()
    return handle.name


def _neither(variable: str, material: SslMaterial) -> str:
    return f"{variable}: neither PEM text (-----BEGIN …-----) nor an existing file ({material.described})"


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    """An SSL context from ``KAFKA_SSL_CA``/``_CERT``/``_KEY``, each PEM text (as Evolution reads them) or a path
    (as the document shows them); verification on unless ``KAFKA_SSL_REJECT_UNAUTHORIZED`` is exactly ``false``.
    Errors never show a key's contents."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca, cert, key = settings.ssl_material("ca"), settings.ssl_material("cert"), settings.ssl_material("key")
    if ca is not None:
        try:
            if ca.kind == "pem":
                context.load_verify_locations(cadata=ca.value)
            else:
                context.load_verify_locations(cafile=ca.value)
        except FileNotFoundError:
            raise ConnectionSetupError(_neither("KAFKA_SSL_CA", ca)) from None
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConnectionSetupError(
                f"KAFKA_SSL_CA ({ca.described}): not a readable PEM CA certificate ({exc.__class__.__name__})"
            ) from None
    if cert is not None:
        with contextlib.ExitStack() as stack:
            try:
                certfile = _pem_file(stack, cert)
                keyfile = _pem_file(stack, key) if key is not None else None
                context.load_cert_chain(certfile=certfile, keyfile=keyfile)
            except FileNotFoundError:
                missing = cert if cert.kind == "path" and not os.path.exists(cert.value) else key
                variable = "KAFKA_SSL_CERT" if missing is cert else "KAFKA_SSL_KEY"
                raise ConnectionSetupError(_neither(variable, missing or cert)) from None
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise ConnectionSetupError(
                    f"KAFKA_SSL_CERT/KAFKA_SSL_KEY: cannot load the client certificate ({exc.__class__.__name__})"
                ) from None
    elif key is not None:
        raise ConnectionSetupError("KAFKA_SSL_KEY is set without KAFKA_SSL_CERT")
    if not settings.ssl_reject_unauthorized:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def stop_quietly(client: Any, *, timeout: float) -> None:
    """Stop (or close) an aiokafka client, bounded, whatever state its connections are in.

    aiokafka's ``stop()`` awaits the fetch tasks it has just cancelled, so a client whose broker went away
    raises ``CancelledError`` from ``stop()`` although nobody cancelled the caller: that one is swallowed
    (a real cancellation of the caller still propagates), as is any error of a connection already lost.
    """
    closer = client.stop if hasattr(client, "stop") else client.close
    try:
        await asyncio.wait_for(closer(), timeout=timeout)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise
    except Exception:  # dropped anyway: its lost connection's error changes nothing
        pass


async def start_client(
    client: Any,
    options: ConnectionOptions,
    *,
    timeout: float | None = None,
    error: type[Exception] = ClusterUnreachableError,
) -> None:
    """Start an aiokafka client within ``timeout`` (default: three connection timeouts, at least 3 s).

    On failure the half-started client is stopped and ``error`` is raised with one line naming the brokers
    and why (the original error is its cause, for :func:`tui.kafka.errors.explain`). With SASL on, a broker
    that answered but refused the SASL step is named as such, not as a cluster out of reach.
    """
    bound = timeout if timeout is not None else max(options.connect_timeout_s, 1.0) * 3
    try:
        await asyncio.wait_for(client.start(), timeout=bound)
    except Exception as exc:
        await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0))
        servers = ",".join(options.bootstrap_servers)
        refused = await _sasl_refusal(options, exc)
        if refused is not None:
            line, cause = refused
            raise error(line) from cause
        raise error(f"cannot reach the cluster at {servers}: {reason(exc)}") from exc


async def _sasl_refusal(options: ConnectionOptions, exc: BaseException) -> tuple[str, BaseException] | None:
    """When SASL is on and the bootstrap failed without timing out, whether the first broker refused the SASL
    step (aiokafka's bootstrap only logs that): the line to say, and the broker's error."""
    if options.sasl_mechanism is None or isinstance(exc, TimeoutError):
        return None
    # Imported here: both modules build on this one.
    from tui.brokers import split_broker
    from tui.kafka.doctor.probe import probe_connection, step_timeout
    from tui.kafka.errors import FailureKind, diagnose

    broker = options.bootstrap_servers[0]
    try:
        host, port = split_broker(broker)
        problem = await probe_connection(host, port, options, timeout=step_timeout(options))
    except Exception:
        return None
    if problem is None:
        return None
    found = diagnose(problem)
    if found.kind not in (FailureKind.AUTH, FailureKind.MECHANISM):
        return None
    line = (
        f"SASL authentication ({options.sasl_mechanism}) with {broker} failed: {found.summary}; {found.fix}"
    )
    return line, problem
