"""Reading a broker's or a CA's certificate and judging it: dates (expired, not yet valid, expiring soon)
and whether it names the host the client connects to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from cryptography import x509

from tui.diagnosis import CheckResult, Status

CERT_WARN_DAYS = 14
"""A broker certificate that expires sooner than this is a warning."""


def _cert_time(moment: datetime) -> str:
    """The ssl module's date format (``Jan  5 09:00:00 2027 GMT``), which ``ssl.cert_time_to_seconds`` reads."""
    return moment.astimezone(UTC).strftime("%b %e %H:%M:%S %Y GMT")


def describe_certificate(cert: x509.Certificate) -> dict[str, Any]:
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
    return describe_certificate(x509.load_der_x509_certificate(der))


async def peer_certificate(host: str, port: int, timeout: float) -> dict[str, Any] | None:
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
    """Whether a subjectAltName of ``cert`` (DNS, wildcard or IP) names ``host``."""
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


def certificate_results(cert: Mapping[str, Any], subject: str, host: str) -> list[CheckResult]:
    """The ``tls.certificate-dates`` and ``tls.hostname`` checks of a broker's certificate."""
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
