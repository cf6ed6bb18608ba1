"""Kafka, OS and TLS errors as one clear line for people, with the fix.

aiokafka reports many failures in a form that says little to an operator: a SCRAM rejection is a bare
``KeyError: 'v'``, a failed bootstrap hides the per-broker reason in a log line, a TLS failure is an
``SSLCertVerificationError`` with OpenSSL's wording. :func:`diagnose` turns any of them into a
:class:`Diagnosis` (what kind of failure, one line saying what happened, one line saying what to do);
:func:`explain` is the one-line form the CLI and the console show.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """What broke, in the terms of the reference's troubleshooting list."""

    AUTH = "authentication"
    MECHANISM = "sasl-mechanism"
    TLS_VERIFY = "tls-verify"
    TLS_HOSTNAME = "tls-hostname"
    TLS_CLIENT_CERT = "tls-client-certificate"
    TLS_PROTOCOL = "tls-protocol"
    REFUSED = "connection-refused"
    NAME_RESOLUTION = "name-resolution"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    DISCONNECTED = "disconnected"
    AUTHORIZATION = "authorization"
    READ_ONLY = "read-only"
    CONFIG = "configuration"
    BROKER = "broker"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """An error as people read it."""

    kind: FailureKind
    summary: str
    """What happened, one line."""
    fix: str
    """What to do about it, one line (may be empty)."""

    def line(self) -> str:
        """``summary`` (no fix): what the CLI prints after ``evokafka:``."""
        return self.summary


# SCRAM (RFC 5802): when the server rejects the client, its message carries ``e=...`` instead of the
# expected attributes, and aiokafka's parser then fails looking up the missing one.
_SCRAM_ATTRIBUTES = frozenset({"v", "r", "s", "i"})

_AUTH_FIX = (
    "check KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD, that KAFKA_SASL_MECHANISM matches the broker, "
    "and the user's ACLs; the broker's log names the reason"
)
_TLS_FIX = (
    "check KAFKA_SSL_CA (the CA that signed the broker's certificate), the certificate's dates; "
    "for a test only: KAFKA_SSL_REJECT_UNAUTHORIZED=false"
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first (bounded: chains can loop)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _ssl(exc: BaseException) -> Diagnosis | None:
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or str(exc)
        if "hostname" in why.lower() or "ip address mismatch" in why.lower():
            return Diagnosis(
                FailureKind.TLS_HOSTNAME,
                f"TLS: the broker's certificate does not match the address connected to ({why})",
                "connect with a name the certificate lists (KAFKA_BROKERS), or reissue the certificate",
            )
        if "expired" in why.lower() or "not yet valid" in why.lower():
            return Diagnosis(
                FailureKind.TLS_VERIFY,
                f"TLS: the broker's certificate is outside its validity dates ({why})",
                "renew the broker's certificate (and check this machine's clock)",
            )
        if "self-signed" in why.lower() or "self signed" in why.lower() or "local issuer" in why.lower():
            return Diagnosis(
                FailureKind.TLS_VERIFY,
                f"TLS: certificate verify failed: the broker's certificate is not signed by a trusted CA ({why})",
                "set KAFKA_SSL_CA to the CA that signed it; for a test only: KAFKA_SSL_REJECT_UNAUTHORIZED=false",
            )
        return Diagnosis(FailureKind.TLS_VERIFY, f"TLS: certificate verify failed ({why})", _TLS_FIX)
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").upper()
        text = str(exc)
        if "CERTIFICATE_REQUIRED" in reason or ("HANDSHAKE_FAILURE" in reason and "ALERT" in reason):
            return Diagnosis(
                FailureKind.TLS_CLIENT_CERT,
                f"TLS: the broker requires a client certificate ({exc.reason})",
                "set KAFKA_SSL_CERT and KAFKA_SSL_KEY to a certificate the broker trusts",
            )
        if "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason or "CERTIFICATE_UNKNOWN" in reason:
            return Diagnosis(
                FailureKind.TLS_CLIENT_CERT,
                f"TLS: the broker rejected the client certificate ({exc.reason})",
                "use a KAFKA_SSL_CERT signed by a CA the broker trusts",
            )
        if "WRONG_VERSION_NUMBER" in reason or "PACKET_LENGTH_TOO_LONG" in reason or "RECORD_LAYER" in reason:
            return Diagnosis(
                FailureKind.TLS_PROTOCOL,
                "TLS: the broker did not answer in TLS (is this a plaintext listener?)",
                "set KAFKA_SSL_ENABLED=false for a plaintext listener, or use the broker's TLS port",
            )
        if isinstance(exc, ssl.SSLEOFError) or "EOF" in reason:
            return Diagnosis(
                FailureKind.TLS_PROTOCOL,
                "TLS: the broker closed the connection during the handshake",
                "the broker may require a client certificate (KAFKA_SSL_CERT/KAFKA_SSL_KEY) or another TLS version",
            )
        return Diagnosis(FailureKind.TLS_PROTOCOL, f"TLS handshake failed ({exc.reason or text})", _TLS_FIX)
    return None


def _os(exc: BaseException) -> Diagnosis | None:
    if isinstance(exc, socket.gaierror):
        return Diagnosis(
            FailureKind.NAME_RESOLUTION,
            f"name resolution failed ({exc.strerror or exc})",
            "check the host names in KAFKA_BROKERS and this machine's DNS",
        )
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
    ):
        return Diagnosis(
            FailureKind.REFUSED,
            "connection refused (nothing listens on that port)",
            "check that the broker runs and that KAFKA_BROKERS has the right port",
        )
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return Diagnosis(
            FailureKind.TIMEOUT,
            "timed out",
            "check firewall rules and the address; on a slow network raise KAFKA_CONNECTION_TIMEOUT",
        )
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return Diagnosis(
            FailureKind.DISCONNECTED,
            f"the connection was closed by the other side ({exc.__class__.__name__})",
            "the port may speak TLS (KAFKA_SSL_ENABLED=true) or SASL (KAFKA_SASL_ENABLED=true)",
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return Diagnosis(
            FailureKind.UNREACHABLE,
            f"host unreachable ({exc.strerror})",
            "check the network route and the addresses in KAFKA_BROKERS",
        )
    return None


def _kafka(exc: BaseException) -> Diagnosis | None:
    # Imported here: the error types are looked at when an error is explained, not when this module is imported
    # (the console imports it before its first frame).
    from aiokafka import errors as kafka_errors

    if isinstance(exc, KeyError) and exc.args and exc.args[0] in _SCRAM_ATTRIBUTES:
        return Diagnosis(
            FailureKind.AUTH,
            "authentication failed (SASL SCRAM: the broker rejected the username or password)",
            _AUTH_FIX,
        )
    if isinstance(exc, ValueError) and "Server sent wrong signature" in str(exc):
        return Diagnosis(
            FailureKind.AUTH,
            "authentication failed (SASL SCRAM: the broker's signature is wrong; is it the right broker?)",
            _AUTH_FIX,
        )
    if isinstance(exc, kafka_errors.UnsupportedSaslMechanismError):
        text = _first_line(exc)
        # aiokafka names the enabled mechanisms only when the handshake answered; otherwise its message is
        # the connection's repr, which says nothing.
        enabled = text.split("Enabled mechanisms are:", 1)[1].strip() if "Enabled mechanisms are:" in text else ""
        return Diagnosis(
            FailureKind.MECHANISM,
            "SASL mechanism refused: the broker does not enable KAFKA_SASL_MECHANISM"
            + (f" (it enables {enabled})" if enabled and enabled != "[]" else " (or SASL at all)"),
            "set KAFKA_SASL_MECHANISM to one the broker enables, or KAFKA_SASL_ENABLED=false",
        )
    if isinstance(
        exc,
        kafka_errors.SaslAuthenticationFailed
        | kafka_errors.AuthenticationFailedError
        | kafka_errors.IllegalSaslStateError,
    ):
        return Diagnosis(
            FailureKind.AUTH, f"authentication failed (SASL: {_first_line(exc) or 'rejected'})", _AUTH_FIX
        )
    if isinstance(
        exc,
        kafka_errors.TopicAuthorizationFailedError
        | kafka_errors.GroupAuthorizationFailedError
        | kafka_errors.ClusterAuthorizationFailedError,
    ):
        return Diagnosis(
            FailureKind.AUTHORIZATION,
            f"not authorized ({exc.__class__.__name__})",
            "grant the user the ACLs it needs on the broker",
        )
    if isinstance(exc, kafka_errors.KafkaTimeoutError | kafka_errors.RequestTimedOutError):
        return Diagnosis(
            FailureKind.TIMEOUT,
            "the broker did not answer in time",
            "check that the broker is up; on a slow network raise KAFKA_REQUEST_TIMEOUT",
        )
    if isinstance(exc, kafka_errors.KafkaConnectionError):
        text = _first_line(exc)
        if text.startswith("Unable to bootstrap"):
            return Diagnosis(
                FailureKind.UNREACHABLE,
                "no broker of KAFKA_BROKERS answered",
                "run `evokafka doctor` to check each broker on its own",
            )
        return Diagnosis(
            FailureKind.DISCONNECTED,
            f"the broker closed the connection ({text or 'closed'})",
            "the listener may want TLS or SASL (KAFKA_SSL_ENABLED, KAFKA_SASL_ENABLED) "
            "or a client certificate (KAFKA_SSL_CERT, KAFKA_SSL_KEY)",
        )
    if isinstance(exc, kafka_errors.NodeNotReadyError | kafka_errors.NoBrokersAvailable):
        return Diagnosis(
            FailureKind.UNREACHABLE, "the broker is not reachable", "check that the broker runs and is reachable"
        )
    if isinstance(exc, kafka_errors.KafkaError):
        name = exc.__class__.__name__
        text = _first_line(exc)
        return Diagnosis(FailureKind.BROKER, f"{name}: {text}" if text and text != name else name, "")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # aiokafka's errors print as "ClassName: message"; the class name says nothing to people.
    text = text.removeprefix(f"{exc.__class__.__name__}: ")
    return text.splitlines()[0] if text else ""


def diagnose(exc: BaseException) -> Diagnosis:
    """What ``exc`` (or the error that caused it) means for the operator."""
    # Our own errors already speak plainly; keep their words.
    from tui.kafka.options import ClusterUnreachableError, ConnectionSetupError, ReadOnlyError

    if isinstance(exc, ReadOnlyError):
        return Diagnosis(FailureKind.READ_ONLY, _first_line(exc), "run without --read-only / EVOKAFKA_READ_ONLY")
    if isinstance(exc, ConnectionSetupError):
        return Diagnosis(FailureKind.CONFIG, _first_line(exc), "fix the KAFKA_SSL_* paths and files")
    for link in _chain(exc):
        found = _ssl(link) or _kafka(link) or _os(link)
        if found is not None:
            if isinstance(exc, ClusterUnreachableError) and link is not exc:
                return Diagnosis(found.kind, f"{_first_line(exc).split(': ')[0]}: {found.summary}", found.fix)
            return found
    if isinstance(exc, ClusterUnreachableError):
        return Diagnosis(FailureKind.UNREACHABLE, _first_line(exc), "run `evokafka doctor` to check each broker")
    text = _first_line(exc)
    name = exc.__class__.__name__
    return Diagnosis(FailureKind.OTHER, f"{name}: {text}" if text else name, "")


def explain(exc: BaseException) -> str:
    """One line for people: what failed and, where known, why (no traceback, no fix)."""
    return diagnose(exc).summary
