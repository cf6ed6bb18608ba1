"""Broker addresses (``KAFKA_BROKERS``): ``host:port`` parsed in one place, for the settings and the probes.

Pure domain module.
"""

from __future__ import annotations

ALLOWED = "comma-separated host:port list"


def split_broker(broker: str) -> tuple[str, int]:
    """``host:port`` → ``(host, port)`` (IPv6 ``[::1]:9092`` too); a ValueError naming the address otherwise."""
    host, sep, port = str(broker).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{broker!r} is not host:port; allowed: {ALLOWED}")
    return host.strip("[]"), int(port)


def split_brokers(value: str) -> list[str]:
    """``"a:1, b:2"`` → ``["a:1", "b:2"]``, each checked with :func:`split_broker`."""
    brokers = [part.strip() for part in value.split(",") if part.strip()]
    if not brokers:
        raise ValueError(f"no broker given; allowed: {ALLOWED}")
    for broker in brokers:
        split_broker(broker)
    return brokers
