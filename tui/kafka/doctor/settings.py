"""The doctor's checks that need no network: ``KAFKA_ENABLED``, the events the global topics carry, and the
TLS files (CA, client certificate and key).
"""

from __future__ import annotations

import ssl
import time

from cryptography import x509

from tui import catalog
from tui.config import KafkaSettings
from tui.diagnosis import CheckResult, Status
from tui.kafka.doctor.certificates import describe_certificate
from tui.kafka.options import ConnectionSetupError


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
    """``KAFKA_SSL_CA``: readable, at least one well-formed PEM certificate, not expired."""
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
            decoded = describe_certificate(x509.load_pem_x509_certificate(handle.read()))
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
