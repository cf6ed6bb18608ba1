"""Connecting to one broker as a client would, outside aiokafka's bootstrap (which only logs why a broker failed).

Used by the doctor's per-broker and cluster checks, and by commands that want one line saying why the cluster
cannot be reached (:func:`unreachable_reason`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka.conn import AIOKafkaConnection, create_conn

from tui.brokers import split_broker
from tui.kafka.errors import diagnose
from tui.kafka.options import ConnectionOptions


def kwargs_without_sasl(options: ConnectionOptions) -> dict[str, Any]:
    """aiokafka connection arguments for TLS (when configured) but no SASL: the API-versions step."""
    return {
        "client_id": options.client_id,
        "request_timeout_ms": options.request_timeout_ms,
        "ssl_context": options.ssl_context,
        "security_protocol": "SSL" if options.ssl_context is not None else "PLAINTEXT",
    }


def kwargs_with_sasl(options: ConnectionOptions) -> dict[str, Any]:
    """aiokafka connection arguments as every client uses them, SASL included."""
    kwargs = kwargs_without_sasl(options)
    kwargs["security_protocol"] = options.security_protocol
    if options.sasl_mechanism is not None:
        kwargs.update(
            sasl_mechanism=options.sasl_mechanism,
            sasl_plain_username=options.sasl_username,
            sasl_plain_password=options.sasl_password,
        )
    return kwargs


def step_timeout(options: ConnectionOptions) -> float:
    """How long one step (resolve, connect, handshake) may take: the connection timeout, at least 0.5 s."""
    return max(options.connect_timeout_s, 0.5)


async def open_broker_connection(host: str, port: int, kwargs: Mapping[str, Any], timeout: float) -> AIOKafkaConnection:
    """One aiokafka connection to ``host:port`` (bootstrap handshake done), bounded by ``timeout``."""
    return await asyncio.wait_for(create_conn(host, port, **kwargs), timeout=timeout)


async def probe_connection(
    host: str, port: int, options: ConnectionOptions, *, timeout: float | None = None
) -> BaseException | None:
    """Connect to one broker as every client would (TLS, API versions, SASL); None when it worked, else
    the error that stopped it (which aiokafka's bootstrap only logs)."""
    budget = timeout if timeout is not None else step_timeout(options) + options.request_timeout_ms / 1000
    try:
        conn = await open_broker_connection(host, port, kwargs_with_sasl(options), budget)
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
        problem = await probe_connection(host, port, options, timeout=timeout or step_timeout(options))
        if problem is None:
            return None
        return f"{broker}: {diagnose(problem).summary}"
    return None


async def accepts_connection(broker: str, timeout: float) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds."""
    try:
        host, port = split_broker(broker)
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
