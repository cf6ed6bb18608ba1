"""The doctor's checks that need no network: ``KAFKA_ENABLED``, the events the global topics carry (and the
switches Evolution API 2.3.6 never acts on), and the TLS material (CA, client certificate and key).
"""

from __future__ import annotations

import ssl
import time

from cryptography import x509

from tui import catalog
from tui.config import KafkaSettings
from tui.diagnosis import CheckResult, Status
from tui.evolution_env import SslMaterial
from tui.kafka.doctor.certificates import describe_certificate
from tui.kafka.options import ConnectionSetupError, ssl_context
from tui.routing import route_for


def check_files(settings: KafkaSettings) -> list[CheckResult]:
    """The CA file (readable, well-formed PEM, dates) and the client certificate and key."""
    if not settings.ssl_enabled:
        return [CheckResult("tls.files", Status.SKIP, "KAFKA_SSL_ENABLED=false")]
    out: list[CheckResult] = []
    ca = settings.ssl_material("ca")
    if ca is None:
        out.append(CheckResult("tls.ca-file", Status.PASS, "KAFKA_SSL_CA not set: the system's CAs are used"))
    else:
        out.append(_check_ca_file(ca))
    cert = settings.ssl_material("cert")
    if cert is not None or settings.ssl_key is not None:
        try:
            if cert is None:
                raise ConnectionSetupError("KAFKA_SSL_KEY is set without KAFKA_SSL_CERT")
            ssl_context(settings)  # loads the certificate and key, PEM text or files, as every client does
        except (OSError, ssl.SSLError, ValueError, ConnectionSetupError) as exc:
            out.append(
                CheckResult(
                    "tls.client-cert", Status.FAIL,
                    f"KAFKA_SSL_CERT/KAFKA_SSL_KEY cannot be loaded ({exc.__class__.__name__}: {exc})"[:200],
                    "point KAFKA_SSL_CERT and KAFKA_SSL_KEY at a PEM certificate and its unencrypted key",
                )
            )
        else:
            out.append(CheckResult("tls.client-cert", Status.PASS, f"{cert.described} loads with its key"))
    return out


def _check_ca_file(material: SslMaterial) -> CheckResult:
    """``KAFKA_SSL_CA`` (PEM text, as Evolution reads it, or a file): at least one well-formed PEM certificate,
    not expired."""
    fix = "set KAFKA_SSL_CA to the PEM (text or file) of the CA that signed the broker's certificate"
    where = f"KAFKA_SSL_CA ({material.described})"
    text = material.value
    if material.kind == "path":
        try:
            with open(material.value, encoding="ascii", errors="replace") as handle:
                text = handle.read(4 * 1024 * 1024)
        except OSError as exc:
            why = f"neither PEM text nor a readable file ({exc.strerror})"
            return CheckResult("tls.ca-file", Status.FAIL, f"KAFKA_SSL_CA={material.value}: {why}", fix)
    count = text.count("-----BEGIN CERTIFICATE-----")
    if count == 0:
        return CheckResult("tls.ca-file", Status.FAIL, f"{where}: no PEM certificate in it", fix)
    try:
        ssl.create_default_context().load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        return CheckResult("tls.ca-file", Status.FAIL, f"{where}: malformed PEM ({exc.__class__.__name__})", fix)
    try:
        decoded = describe_certificate(x509.load_pem_x509_certificate(text.encode("ascii", "replace")))
        not_after = ssl.cert_time_to_seconds(decoded["notAfter"])
    except Exception:
        return CheckResult("tls.ca-file", Status.PASS, f"{material.described}: {count} certificate(s)")
    if not_after < time.time():
        return CheckResult(
            "tls.ca-file", Status.FAIL, f"{where}: the CA certificate expired on {decoded['notAfter']}",
            "get the CA's current certificate",
        )
    return CheckResult(
        "tls.ca-file", Status.PASS, f"{material.described}: {count} certificate(s), valid until {decoded['notAfter']}"
    )


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
        out.extend(_global_quirks(settings))
    return out


def _global_quirks(settings: KafkaSettings) -> list[CheckResult]:
    """Global switches that Evolution API 2.3.6 never acts on (:func:`tui.routing.evolution_route`)."""
    out: list[CheckResult] = []
    for event in catalog.EVENTS:
        if not settings.event_enabled(event):
            continue
        route = route_for(settings, "any", event, None)
        if not route.global_.taken:
            out.append(
                CheckResult(
                    "evolution.global-route", Status.WARN, f"{event.setting}=true, but {route.global_.reason}",
                    "nothing to fix in the settings: Evolution API 2.3.6 does this whatever they say",
                )
            )
    return out
