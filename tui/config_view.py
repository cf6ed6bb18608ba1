"""The effective settings as people see them: grouped as the integration document groups them, secrets masked.

Pure domain module.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from tui import catalog
from tui.config import KafkaSettings
from tui.evolution_env import NO_VARIABLE, ssl_material


def mask(secret: SecretStr | None, reveal: bool = False) -> str:
    """A secret as shown to people: ``********`` unless ``reveal``; empty stays empty."""
    if secret is None:
        return ""
    value = secret.get_secret_value()
    if not value:
        return ""
    return value if reveal else "********"


GROUPS: dict[str, list[str]] = {
    "Basic Connection": ["enabled", "client_id", "brokers", "connection_timeout", "request_timeout"],
    "Topics": ["global_enabled", "topic_prefix", "num_partitions", "replication_factor", "auto_create_topics"],
    "Consumer": ["consumer_group_id"],
    "SASL": ["sasl_enabled", "sasl_mechanism", "sasl_username", "sasl_password"],
    "SSL": ["ssl_enabled", "ssl_reject_unauthorized", "ssl_ca", "ssl_cert", "ssl_key"],
    "Resilience": ["reconnect_initial_delay_ms", "reconnect_max_attempts", "send_retries"],
    "Events": [f"events_{e.name.lower()}" for e in catalog.EVENTS if e.name not in NO_VARIABLE],
}
"""The settings grouped as the integration document groups them (Evolution's 28 event variables)."""


def describe(settings: KafkaSettings, reveal: bool = False) -> dict[str, dict[str, Any]]:
    """The effective settings by group, as ``{group: {VARIABLE: value}}``, secrets masked unless ``reveal``.

    SSL material is shown as its path, or as ``PEM text (N bytes)``: a key's contents never (the key is masked
    even then unless ``reveal``)."""
    out: dict[str, dict[str, Any]] = {}
    for group, fields in GROUPS.items():
        section: dict[str, Any] = {}
        for field in fields:
            value = getattr(settings, field)
            if isinstance(value, SecretStr):
                value = mask(value, reveal)
            elif field.startswith("ssl_") and isinstance(value, str):
                material = ssl_material(value)
                value = "" if material is None else (material.value if material.kind == "path" else material.described)
            elif isinstance(value, list):
                value = ",".join(value)
            elif value is None:
                value = ""
            section[f"KAFKA_{field.upper()}"] = value
        out[group] = section
    return out
