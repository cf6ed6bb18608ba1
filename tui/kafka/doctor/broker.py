"""The doctor's checks of one broker of ``KAFKA_BROKERS``, step by step: name resolution, TCP, TLS handshake
and certificate, API versions, SASL. Each broker is checked on its own, so one that is down is named.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from tui.brokers import split_broker
from tui.config import KafkaSettings
from tui.diagnosis import CheckResult, Status
from tui.kafka.doctor.certificates import certificate_results, peer_certificate
from tui.kafka.doctor.probe import kwargs_without_sasl, open_broker_connection, probe_connection, step_timeout
from tui.kafka.doctor.results import failed_check
from tui.kafka.errors import FailureKind, diagnose
from tui.kafka.options import ConnectionOptions


async def check_broker(settings: KafkaSettings, options: ConnectionOptions, broker: str) -> list[CheckResult]:
    """Name resolution, TCP, TLS (certificate dates, hostname), API versions and SASL of one broker."""
    out: list[CheckResult] = []
    host, port = split_broker(broker)
    limit = step_timeout(options)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=limit)
    except Exception as exc:
        out.append(failed_check("broker.resolve", exc, broker))
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
        out.append(failed_check("broker.tcp", exc, broker))
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
        conn = await open_broker_connection(host, port, kwargs_without_sasl(options), budget)
    except Exception as exc:
        out.append(failed_check("broker.api-versions", exc, broker))
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
    """The TLS handshake as the clients do it, then the broker certificate's dates and hostname."""
    out: list[CheckResult] = []
    assert options.ssl_context is not None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=options.ssl_context, server_hostname=host), timeout=limit
        )
    except Exception as exc:
        out.append(failed_check("tls.handshake", exc, broker))
        cert = await peer_certificate(host, port, limit)
        if cert is not None:
            out.extend(r for r in certificate_results(cert, broker, host) if r.status is not Status.PASS)
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
    cert = await peer_certificate(host, port, limit)
    if cert is not None:
        out.extend(certificate_results(cert, broker, host))
    return out
