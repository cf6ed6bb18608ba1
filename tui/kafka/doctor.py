"""``evokafka doctor``: the integration document's troubleshooting list, as checks.

Each check ends ``pass``, ``warn``, ``fail`` or ``skip`` (not applicable), with one line saying what was seen
and, when it is not a pass, one line saying what to do. The checks return structured results
(:class:`CheckResult`, :class:`DoctorReport`) so that the CLI and the console's doctor screen show the same
thing. The whole run is bounded in time: a check still running at the deadline is reported failed.

Every broker of ``KAFKA_BROKERS`` is checked on its own, step by step (name resolution, TCP, TLS, API
versions, SASL), because aiokafka's own bootstrap tries them in turn and only logs why each one failed.
Nothing here writes to the cluster: the registry is read read-only, idempotence is probed with a bare
``InitProducerId`` request, lag with :mod:`tui.kafka.lag` (a consumer's ``committed()``; the admin call fails to decode on Tansu).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from ipaddress import ip_address
from typing import Any

from aiokafka.conn import AIOKafkaConnection, create_conn
from aiokafka.protocol.transaction import InitProducerIdRequest
from cryptography import x509

from tui import events as catalog
from tui.config import KafkaSettings
from tui.instances import InstanceSettings
from tui.kafka.admin import Admin, ClusterUnreachableError
from tui.kafka.errors import FailureKind, diagnose
from tui.kafka.lag import group_lag
from tui.kafka.options import ConnectionOptions, ConnectionSetupError
from tui.layout import parse_topic, topic_plan

CERT_WARN_DAYS = 14
"""A broker certificate that expires sooner than this is a warning."""
LAG_WARN = 1000
"""Total lag of the consumer group above which the doctor warns."""


class Status(StrEnum):
    """The outcome of one check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome: what was checked (``check``, on ``subject``), what was seen, what to do."""

    check: str
    status: Status
    detail: str
    fix: str = ""
    subject: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        out = asdict(self)
        out["status"] = self.status.value
        return out


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Every check's result, in the order they were listed."""

    results: tuple[CheckResult, ...]
    elapsed_s: float = 0.0

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that failed."""
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def warnings(self) -> list[CheckResult]:
        """The checks that warned."""
        return [r for r in self.results if r.status is Status.WARN]

    def ok(self, strict: bool = False) -> bool:
        """No check failed (and, when ``strict``, none warned)."""
        return not self.failed and not (strict and self.warnings)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        counts = {s.value: sum(1 for r in self.results if r.status is s) for s in Status}
        return {
            "ok": self.ok(),
            "counts": counts,
            "elapsed_s": round(self.elapsed_s, 3),
            "checks": [r.to_json() for r in self.results],
        }


ResultSink = Callable[[CheckResult], None]


# -- probing one broker -----------------------------------------------------------------------------------


def split_broker(broker: str) -> tuple[str, int]:
    """``host:port`` → ``(host, port)`` (IPv6 ``[::1]:9092`` too)."""
    host, _, port = broker.rpartition(":")
    return host.strip("[]"), int(port)


def _without_sasl(options: ConnectionOptions) -> dict[str, Any]:
    return {
        "client_id": options.client_id,
        "request_timeout_ms": options.request_timeout_ms,
        "ssl_context": options.ssl_context,
        "security_protocol": "SSL" if options.ssl_context is not None else "PLAINTEXT",
    }


def _with_sasl(options: ConnectionOptions) -> dict[str, Any]:
    kwargs = _without_sasl(options)
    kwargs["security_protocol"] = options.security_protocol
    if options.sasl_mechanism is not None:
        kwargs.update(
            sasl_mechanism=options.sasl_mechanism,
            sasl_plain_username=options.sasl_username,
            sasl_plain_password=options.sasl_password,
        )
    return kwargs


def _timeout(options: ConnectionOptions) -> float:
    return max(options.connect_timeout_s, 0.5)


async def _connect(host: str, port: int, kwargs: Mapping[str, Any], timeout: float) -> AIOKafkaConnection:
    return await asyncio.wait_for(create_conn(host, port, **kwargs), timeout=timeout)


async def probe_connection(
    host: str, port: int, options: ConnectionOptions, *, timeout: float | None = None
) -> BaseException | None:
    """Connect to one broker as every client would (TLS, API versions, SASL); None when it worked, else
    the error that stopped it (which aiokafka's bootstrap only logs)."""
    budget = timeout if timeout is not None else _timeout(options) + options.request_timeout_ms / 1000
    try:
        conn = await _connect(host, port, _with_sasl(options), budget)
    except Exception as exc:
        return exc
    conn.close()
    return None


async def unreachable_reason(options: ConnectionOptions, timeout: float | None = None) -> str | None:
    """Why the cluster cannot be reached, from the first broker's probe (one line), or None if it answers.

    Bounded by ``timeout`` (default ``KAFKA_CONNECTION_TIMEOUT``): it runs after a failure, and the user
    has waited once already.
    """
    for broker in options.bootstrap_servers[:1]:
        host, port = split_broker(broker)
        problem = await probe_connection(host, port, options, timeout=timeout or _timeout(options))
        if problem is None:
            return None
        return f"{broker}: {diagnose(problem).summary}"
    return None


def _cert_time(moment: datetime) -> str:
    """The ssl module's date format (``Jan  5 09:00:00 2027 GMT``), which ``ssl.cert_time_to_seconds`` reads."""
    return moment.astimezone(UTC).strftime("%b %e %H:%M:%S %Y GMT")


def _describe_cert(cert: x509.Certificate) -> dict[str, Any]:
    """Subject, SANs and dates of a certificate, in the shape of ``ssl.SSLSocket.getpeercert()``."""
    subject = tuple(((attr.rfc4514_attribute_name, str(attr.value)),) for attr in cert.subject)
    names: list[tuple[str, str]] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [("DNS", name) for name in san.get_values_for_type(x509.DNSName)]
        names += [("IP Address", str(ip)) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return {
        "subject": subject,
        "subjectAltName": tuple(names),
        "notBefore": _cert_time(cert.not_valid_before_utc),
        "notAfter": _cert_time(cert.not_valid_after_utc),
    }


def _decode_der(der: bytes) -> dict[str, Any]:
    """Subject, SANs and dates of a DER certificate (Python's ``getpeercert()`` returns nothing for an
    unverified peer, so the doctor reads the certificate itself)."""
    return _describe_cert(x509.load_der_x509_certificate(der))


async def _peer_certificate(host: str, port: int, timeout: float) -> dict[str, Any] | None:
    """The broker's certificate, read without verifying it (so that a refused one can be described)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout=timeout
        )
    except Exception:
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        return _decode_der(der) if der else None
    except Exception:
        return None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def _hostname_matches(cert: Mapping[str, Any], host: str) -> bool:
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    try:
        wanted_ip: Any = ip_address(host)
    except ValueError:
        wanted_ip = None
    for name in names:
        if wanted_ip is not None:
            with contextlib.suppress(ValueError):
                if ip_address(name.strip()) == wanted_ip:
                    return True
            continue
        name = name.lower()
        if name == host.lower():
            return True
        if name.startswith("*.") and "." in host and host.lower().split(".", 1)[1] == name[2:]:
            return True
    return False


def _certificate_results(cert: Mapping[str, Any], subject: str, host: str) -> list[CheckResult]:
    now = time.time()
    out: list[CheckResult] = []
    try:
        not_before = ssl.cert_time_to_seconds(cert["notBefore"])
        not_after = ssl.cert_time_to_seconds(cert["notAfter"])
    except (KeyError, ValueError):
        out.append(CheckResult("tls.certificate-dates", Status.WARN, "cannot read the dates", "", subject))
    else:
        days = (not_after - now) / 86400
        if now < not_before:
            out.append(
                CheckResult(
                    "tls.certificate-dates", Status.FAIL, f"not valid before {cert['notBefore']}",
                    "check this machine's clock, or the certificate's start date", subject,
                )
            )
        elif days < 0:
            out.append(
                CheckResult(
                    "tls.certificate-dates", Status.FAIL, f"expired on {cert['notAfter']}",
                    "renew the broker's certificate", subject,
                )
            )
        elif days < CERT_WARN_DAYS:
            out.append(
                CheckResult(
                    "tls.certificate-dates", Status.WARN, f"expires in {days:.0f} days ({cert['notAfter']})",
                    "renew the broker's certificate soon", subject,
                )
            )
        else:
            out.append(
                CheckResult("tls.certificate-dates", Status.PASS, f"valid until {cert['notAfter']}", "", subject)
            )
    if _hostname_matches(cert, host):
        out.append(CheckResult("tls.hostname", Status.PASS, f"certificate names {host}", "", subject))
    else:
        names = ", ".join(v for _, v in cert.get("subjectAltName", ())) or "no subjectAltName"
        out.append(
            CheckResult(
                "tls.hostname", Status.FAIL, f"certificate is for {names}, not {host}",
                "connect with a name the certificate lists (KAFKA_BROKERS), or reissue it", subject,
            )
        )
    return out


def _fail(check: str, exc: BaseException, subject: str | None) -> CheckResult:
    found = diagnose(exc)
    return CheckResult(check, Status.FAIL, found.summary, found.fix, subject)


async def check_broker(settings: KafkaSettings, options: ConnectionOptions, broker: str) -> list[CheckResult]:
    """Name resolution, TCP, TLS (certificate dates, hostname), API versions and SASL of one broker."""
    out: list[CheckResult] = []
    host, port = split_broker(broker)
    limit = _timeout(options)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=limit)
    except Exception as exc:
        out.append(_fail("broker.resolve", exc, broker))
        return out
    addresses = sorted({str(info[4][0]) for info in infos})
    out.append(CheckResult("broker.resolve", Status.PASS, f"{host} → {', '.join(addresses[:3])}", "", broker))

    started = time.monotonic()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=limit)
    except TimeoutError:
        out.append(
            CheckResult(
                "broker.tcp", Status.FAIL,
                f"no answer within KAFKA_CONNECTION_TIMEOUT={settings.connection_timeout} ms",
                "check firewall rules and the address; on a slow network raise KAFKA_CONNECTION_TIMEOUT", broker,
            )
        )
        return out
    except Exception as exc:
        out.append(_fail("broker.tcp", exc, broker))
        return out
    elapsed_ms = (time.monotonic() - started) * 1000
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    if elapsed_ms > settings.connection_timeout / 2:
        out.append(
            CheckResult(
                "broker.tcp", Status.WARN,
                f"connected in {elapsed_ms:.0f} ms, close to KAFKA_CONNECTION_TIMEOUT={settings.connection_timeout}",
                "raise KAFKA_CONNECTION_TIMEOUT", broker,
            )
        )
    else:
        out.append(CheckResult("broker.tcp", Status.PASS, f"port open, connected in {elapsed_ms:.0f} ms", "", broker))

    if options.ssl_context is not None:
        out.extend(await _check_tls(settings, options, host, port, broker, limit))
        if any(r.status is Status.FAIL and r.check == "tls.handshake" for r in out):
            return out
    else:
        out.append(CheckResult("tls.handshake", Status.SKIP, "KAFKA_SSL_ENABLED=false", "", broker))

    budget = limit + options.request_timeout_ms / 1000
    try:
        conn = await _connect(host, port, _without_sasl(options), budget)
    except Exception as exc:
        out.append(_fail("broker.api-versions", exc, broker))
        return out
    try:
        versions: dict[int, tuple[int, int]] = dict(getattr(conn, "_versions", {}))
        needed = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata"}
        absent = [name for key, name in needed.items() if key not in versions]
        if absent:
            out.append(
                CheckResult(
                    "broker.api-versions", Status.FAIL, f"the broker lacks {', '.join(absent)}",
                    "use a Kafka-compatible broker that supports produce and fetch", broker,
                )
            )
        else:
            produce = versions[0]
            out.append(
                CheckResult(
                    "broker.api-versions", Status.PASS,
                    f"{len(versions)} APIs (Produce v{produce[0]}-v{produce[1]})", "", broker,
                )
            )
    finally:
        conn.close()

    if options.sasl_mechanism is None:
        out.append(CheckResult("broker.sasl", Status.SKIP, "KAFKA_SASL_ENABLED=false", "", broker))
        return out
    problem = await probe_connection(host, port, options, timeout=budget)
    if problem is None:
        out.append(
            CheckResult(
                "broker.sasl", Status.PASS,
                f"authenticated as {options.sasl_username!r} with {options.sasl_mechanism}", "", broker,
            )
        )
    else:
        found = diagnose(problem)
        if found.kind not in (FailureKind.AUTH, FailureKind.MECHANISM):
            found = type(found)(found.kind, f"SASL handshake failed: {found.summary}", found.fix)
        out.append(CheckResult("broker.sasl", Status.FAIL, found.summary, found.fix, broker))
    return out


async def _check_tls(
    settings: KafkaSettings, options: ConnectionOptions, host: str, port: int, broker: str, limit: float
) -> list[CheckResult]:
    out: list[CheckResult] = []
    assert options.ssl_context is not None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=options.ssl_context, server_hostname=host), timeout=limit
        )
    except Exception as exc:
        out.append(_fail("tls.handshake", exc, broker))
        cert = await _peer_certificate(host, port, limit)
        if cert is not None:
            out.extend(r for r in _certificate_results(cert, broker, host) if r.status is not Status.PASS)
        return out
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "?"
    # With TLS 1.3 a broker that wants a client certificate says so only after the client's handshake
    # has ended: listen briefly for its alert (a broker that accepted us just waits for a request).
    refusal: BaseException | None = None
    try:
        data = await asyncio.wait_for(reader.read(1), timeout=min(limit, 0.5))
        if not data:
            refusal = ConnectionResetError("closed right after the TLS handshake")
    except TimeoutError:
        pass
    except Exception as exc:
        refusal = exc
    writer.close()
    if refusal is not None:
        found = diagnose(refusal)
        if found.kind not in (FailureKind.TLS_CLIENT_CERT, FailureKind.TLS_VERIFY):
            found = type(found)(
                FailureKind.TLS_CLIENT_CERT,
                "TLS: the broker closed the connection after the handshake (it may require a client certificate)",
                "set KAFKA_SSL_CERT and KAFKA_SSL_KEY to a certificate the broker trusts",
            )
        out.append(CheckResult("tls.handshake", Status.FAIL, found.summary, found.fix, broker))
        return out
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    if settings.ssl_reject_unauthorized:
        out.append(CheckResult("tls.handshake", Status.PASS, f"{version}, certificate verified", "", broker))
    else:
        out.append(
            CheckResult(
                "tls.handshake", Status.WARN, f"{version}, certificate NOT verified "
                "(KAFKA_SSL_REJECT_UNAUTHORIZED=false)",
                "set KAFKA_SSL_CA to the broker's CA and KAFKA_SSL_REJECT_UNAUTHORIZED=true", broker,
            )
        )
    cert = await _peer_certificate(host, port, limit)
    if cert is not None:
        out.extend(_certificate_results(cert, broker, host))
    return out


# -- settings-only checks ---------------------------------------------------------------------------------


def check_files(settings: KafkaSettings) -> list[CheckResult]:
    """The CA file (readable, well-formed PEM, dates) and the client certificate and key."""
    if not settings.ssl_enabled:
        return [CheckResult("tls.files", Status.SKIP, "KAFKA_SSL_ENABLED=false")]
    out: list[CheckResult] = []
    if settings.ssl_ca is None:
        out.append(CheckResult("tls.ca-file", Status.PASS, "KAFKA_SSL_CA not set: the system's CAs are used"))
    else:
        out.append(_check_ca_file(str(settings.ssl_ca)))
    if settings.ssl_cert is not None or settings.ssl_key is not None:
        context = ssl.create_default_context()
        try:
            if settings.ssl_cert is None:
                raise ConnectionSetupError("KAFKA_SSL_KEY is set without KAFKA_SSL_CERT")
            context.load_cert_chain(str(settings.ssl_cert), str(settings.ssl_key) if settings.ssl_key else None)
        except (OSError, ssl.SSLError, ValueError) as exc:
            out.append(
                CheckResult(
                    "tls.client-cert", Status.FAIL,
                    f"KAFKA_SSL_CERT/KAFKA_SSL_KEY cannot be loaded ({exc.__class__.__name__}: {exc})"[:200],
                    "point KAFKA_SSL_CERT and KAFKA_SSL_KEY at a PEM certificate and its unencrypted key",
                )
            )
        else:
            out.append(CheckResult("tls.client-cert", Status.PASS, f"{settings.ssl_cert} loads with its key"))
    return out


def _check_ca_file(path: str) -> CheckResult:
    fix = "point KAFKA_SSL_CA at the PEM file of the CA that signed the broker's certificate"
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read(4 * 1024 * 1024)
    except OSError as exc:
        return CheckResult("tls.ca-file", Status.FAIL, f"KAFKA_SSL_CA={path}: cannot read ({exc.strerror})", fix)
    count = text.count("-----BEGIN CERTIFICATE-----")
    if count == 0:
        return CheckResult("tls.ca-file", Status.FAIL, f"KAFKA_SSL_CA={path}: no PEM certificate in it", fix)
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        return CheckResult(
            "tls.ca-file", Status.FAIL, f"KAFKA_SSL_CA={path}: malformed PEM ({exc.__class__.__name__})", fix
        )
    try:
        with open(path, "rb") as handle:
            decoded = _describe_cert(x509.load_pem_x509_certificate(handle.read()))
        not_after = ssl.cert_time_to_seconds(decoded["notAfter"])
    except Exception:
        return CheckResult("tls.ca-file", Status.PASS, f"{path}: {count} certificate(s)")
    if not_after < time.time():
        return CheckResult(
            "tls.ca-file", Status.FAIL, f"KAFKA_SSL_CA={path}: the CA certificate expired on {decoded['notAfter']}",
            "get the CA's current certificate",
        )
    return CheckResult("tls.ca-file", Status.PASS, f"{path}: {count} certificate(s), valid until {decoded['notAfter']}")


def check_settings(settings: KafkaSettings) -> list[CheckResult]:
    """``KAFKA_ENABLED`` and which events go to the global topics."""
    out: list[CheckResult] = []
    if settings.enabled:
        out.append(CheckResult("config.enabled", Status.PASS, "KAFKA_ENABLED=true"))
    else:
        out.append(
            CheckResult(
                "config.enabled", Status.WARN, "KAFKA_ENABLED=false: nothing is published",
                "set KAFKA_ENABLED=true",
            )
        )
    on = [e for e in catalog.EVENTS if settings.event_enabled(e)]
    if not settings.global_enabled:
        out.append(
            CheckResult(
                "config.events", Status.PASS,
                f"KAFKA_GLOBAL_ENABLED=false: per-instance settings decide ({len(on)} KAFKA_EVENTS_* on, unused)",
            )
        )
    elif not on:
        out.append(
            CheckResult(
                "config.events", Status.WARN, "KAFKA_GLOBAL_ENABLED=true but every KAFKA_EVENTS_* is false",
                "set KAFKA_EVENTS_<NAME>=true for the events the global topics should carry",
            )
        )
    else:
        off = [e.name for e in catalog.EVENTS if not settings.event_enabled(e)]
        tail = f"; off: {', '.join(off)}" if off else ""
        out.append(
            CheckResult("config.events", Status.PASS, f"{len(on)} of {len(catalog.EVENTS)} events on{tail}")
        )
    return out


# -- cluster checks ---------------------------------------------------------------------------------------


def check_instances(instances: Mapping[str, InstanceSettings] | None, registry_note: str = "") -> list[CheckResult]:
    """Each instance of the registry: enabled or not, and for which events."""
    if instances is None:
        return [
            CheckResult(
                "registry.instances", Status.WARN, f"the instance registry cannot be read{registry_note}",
                "check that the registry topic exists (any console or `evokafka instances` creates it)",
            )
        ]
    if not instances:
        return [
            CheckResult(
                "registry.instances", Status.WARN, "no instance has Kafka settings: per-instance topics get nothing",
                "enable instances: evokafka instances enable <name> (or POST /kafka/set/<name>)",
            )
        ]
    out: list[CheckResult] = []
    for name in sorted(instances):
        cfg = instances[name]
        if not cfg.enabled:
            out.append(
                CheckResult(
                    "registry.instance", Status.WARN, "disabled: nothing goes to its per-instance topics",
                    f"evokafka instances enable {name}", name,
                )
            )
        elif cfg.all_events:
            out.append(CheckResult("registry.instance", Status.PASS, "enabled for every event", "", name))
        else:
            shown = ", ".join(cfg.events[:4]) + (" …" if len(cfg.events) > 4 else "")
            out.append(
                CheckResult("registry.instance", Status.PASS, f"enabled for {len(cfg.events)} events: {shown}", "", name)
            )
    return out


def check_planned_topics(
    settings: KafkaSettings, instances: Mapping[str, InstanceSettings], existing: Mapping[str, int]
) -> list[CheckResult]:
    """The planned topics against the cluster; missing ones fail when auto-creation is off."""
    plan = topic_plan(settings, instances)
    if not plan:
        return [CheckResult("topics.planned", Status.PASS, "the configuration plans no topic")]
    missing = [p.topic for p in plan if p.topic not in existing]
    out: list[CheckResult] = []
    if not missing:
        out.append(CheckResult("topics.planned", Status.PASS, f"all {len(plan)} planned topics exist"))
    elif settings.auto_create_topics:
        out.append(
            CheckResult(
                "topics.planned", Status.PASS,
                f"{len(missing)} of {len(plan)} planned topics missing; KAFKA_AUTO_CREATE_TOPICS=true creates them",
            )
        )
    else:
        shown = ", ".join(missing[:3]) + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else "")
        out.append(
            CheckResult(
                "topics.planned", Status.FAIL,
                f"{len(missing)} of {len(plan)} planned topics missing with KAFKA_AUTO_CREATE_TOPICS=false: {shown}",
                "evokafka topics create --yes (or set KAFKA_AUTO_CREATE_TOPICS=true)",
            )
        )
    short = [p.topic for p in plan if p.topic in existing and existing[p.topic] < p.partitions]
    if short:
        out.append(
            CheckResult(
                "topics.partitions", Status.WARN,
                f"{len(short)} topics have fewer partitions than KAFKA_NUM_PARTITIONS={settings.num_partitions}: "
                + ", ".join(short[:3]),
                "add partitions with your Kafka tools (evokafka topics diff lists them)",
            )
        )
    misnamed = [t for t in existing if (ref := parse_topic(t, settings.topic_prefix)) is not None and ref.misnamed]
    if misnamed:
        out.append(
            CheckResult(
                "topics.misnamed", Status.WARN,
                f"{', '.join(sorted(misnamed)[:3])}: Evolution API's auto-created name; events go to "
                f"'{catalog.BY_NAME['GROUP_PARTICIPANTS_UPDATE'].wire}'",
                "consumers must read group-participants.update; the misnamed topic stays empty",
            )
        )
    return out


async def check_lag(
    settings: KafkaSettings, options: ConnectionOptions, existing: Mapping[str, int]
) -> CheckResult:
    """Consumer lag of ``KAFKA_CONSUMER_GROUP_ID`` on the event topics under the prefix."""
    group = settings.consumer_group_id
    topics = {t: n for t, n in existing.items() if parse_topic(t, settings.topic_prefix) is not None}
    if not topics:
        return CheckResult("consumer.lag", Status.SKIP, f"no event topic under {settings.topic_prefix!r} yet", "", group)
    found = await group_lag(options, group, sorted(topics))
    committed = len(found.partitions)
    total = found.total
    per_topic: dict[str, int] = {}
    for row in found.partitions:
        per_topic[row.topic] = per_topic.get(row.topic, 0) + (row.lag or 0)
    if committed == 0:
        return CheckResult(
            "consumer.lag", Status.WARN, f"group {group!r} has committed no offset on {len(topics)} event topics",
            "start a consumer with this group id, or set KAFKA_CONSUMER_GROUP_ID to the consumers' group", group,
        )
    worst = max(per_topic.items(), key=lambda item: item[1])
    if total > LAG_WARN:
        return CheckResult(
            "consumer.lag", Status.WARN, f"lag {total} records (most on {worst[0]}: {worst[1]})",
            "add consumers to the group, speed up processing, or add partitions", group,
        )
    return CheckResult("consumer.lag", Status.PASS, f"lag {total} records over {committed} partitions", "", group)


async def check_idempotence(options: ConnectionOptions) -> CheckResult:
    """Whether the broker hands out producer ids (what ``enable_idempotence`` needs). Writes nothing."""
    host, port = split_broker(options.bootstrap_servers[0])
    budget = _timeout(options) + options.request_timeout_ms / 1000
    fix = (
        "the publisher carries on with acks=all and one request in flight; enable idempotent producers "
        "on the broker for exactly-once"
    )
    try:
        conn = await _connect(host, port, _with_sasl(options), budget)
    except Exception as exc:
        return _fail("producer.idempotence", exc, None)
    try:
        response = await asyncio.wait_for(conn.send(InitProducerIdRequest(None, 60000)), timeout=budget)
        code = int(getattr(response, "error_code", -1))
    except Exception as exc:
        return CheckResult("producer.idempotence", Status.WARN, f"InitProducerId failed ({diagnose(exc).summary})", fix)
    finally:
        conn.close()
    if code != 0:
        from aiokafka.errors import for_code

        return CheckResult(
            "producer.idempotence", Status.WARN, f"the broker refuses producer ids ({for_code(code).__name__})", fix
        )
    return CheckResult("producer.idempotence", Status.PASS, "the broker hands out producer ids")


# -- the whole run ------------------------------------------------------------------------------------


InstancesSource = Callable[[], Awaitable[Mapping[str, InstanceSettings] | None]]


def registry_source(settings: KafkaSettings, options: ConnectionOptions, topic: str) -> InstancesSource:
    """Read the instance registry (read-only: the doctor never creates its topic)."""

    async def load() -> Mapping[str, InstanceSettings] | None:
        from tui.kafka.registry import InstanceRegistry

        registry = InstanceRegistry(settings, topic=topic, options=options, read_only=True)
        try:
            await registry.start()
        except Exception:
            return None
        try:
            return registry.all()
        finally:
            await registry.stop()

    return load


@dataclass
class Doctor:
    """Runs every check within ``budget_s`` seconds; ``sink`` sees each result as soon as it is known."""

    settings: KafkaSettings
    options: ConnectionOptions | None = None
    registry_topic: str = "__evokafka_instances"
    budget_s: float | None = None
    sink: ResultSink | None = None
    instances: InstancesSource | None = None
    _results: list[CheckResult] = field(default_factory=list)

    def _add(self, *results: CheckResult) -> None:
        for result in results:
            self._results.append(result)
            if self.sink is not None:
                self.sink(result)

    def default_budget(self) -> float:
        """Connection timeout and request timeout per step, a few steps, and never less than 10 s."""
        s = self.settings
        return max(10.0, 4 * s.connection_timeout / 1000 + 2 * min(s.request_timeout / 1000, 15.0))

    async def run(self) -> DoctorReport:
        """Run the checks; the report is complete even when the deadline cut some short."""
        started = time.monotonic()
        budget = self.budget_s if self.budget_s is not None else self.default_budget()
        self._add(*check_settings(self.settings))
        self._add(*check_files(self.settings))
        if self.options is None:
            try:
                self.options = ConnectionOptions.from_settings(self.settings)
            except ConnectionSetupError as exc:
                self._add(CheckResult("connection.options", Status.FAIL, str(exc), "fix the KAFKA_SSL_* files"))
                return DoctorReport(tuple(self._results), time.monotonic() - started)
        try:
            await asyncio.wait_for(self._network(self.options), timeout=budget)
        except TimeoutError:
            self._add(
                CheckResult(
                    "doctor.deadline", Status.FAIL, f"checks still running after {budget:.0f} s were stopped",
                    "the cluster answers slowly: raise KAFKA_REQUEST_TIMEOUT or check the network",
                )
            )
        return DoctorReport(tuple(self._results), time.monotonic() - started)

    async def _network(self, options: ConnectionOptions) -> None:
        per_broker = await asyncio.gather(
            *(check_broker(self.settings, options, b) for b in self.settings.brokers), return_exceptions=True
        )
        for broker, found in zip(self.settings.brokers, per_broker, strict=True):
            if isinstance(found, BaseException):
                self._add(_fail("broker", found, broker))
            else:
                self._add(*found)
        try:
            admin = await Admin(options).start()
        except ClusterUnreachableError as exc:
            self._add(
                CheckResult(
                    "cluster.metadata", Status.FAIL, diagnose(exc).summary, "fix the broker checks above first"
                )
            )
            return
        try:
            info = await admin.cluster()
            existing = await admin.topics()
        except Exception as exc:
            self._add(_fail("cluster.metadata", exc, None))
            await admin.close()
            return
        await admin.close()
        self._add(
            CheckResult(
                "cluster.metadata", Status.PASS,
                f"cluster {info.cluster_id or '?'}: {len(info.brokers)} broker(s), {len(existing)} topics",
            )
        )
        source = self.instances or registry_source(self.settings, options, self.registry_topic)
        instances = await source()
        self._add(*check_instances(instances, f" ({self.registry_topic})"))
        self._add(*check_planned_topics(self.settings, instances or {}, existing))
        try:
            self._add(await check_lag(self.settings, options, existing))
        except Exception as exc:
            self._add(_fail("consumer.lag", exc, self.settings.consumer_group_id))
        self._add(await check_idempotence(options))


async def run_doctor(
    settings: KafkaSettings,
    *,
    options: ConnectionOptions | None = None,
    registry_topic: str = "__evokafka_instances",
    budget_s: float | None = None,
    sink: ResultSink | None = None,
    instances: InstancesSource | None = None,
) -> DoctorReport:
    """Run every check once (see :class:`Doctor`)."""
    doctor = Doctor(settings, options, registry_topic, budget_s, sink, instances)
    return await doctor.run()
