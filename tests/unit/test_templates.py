"""Templates: realistic WhatsApp-shaped data for every event of the catalog (pure domain)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tui import catalog
from tui.templates import template

PERSONAL = re.compile(r"^\d{10,15}@s\.whatsapp\.net$")
GROUP = re.compile(r"^\d{15,20}@g\.us$")
NOW = datetime(2024, 3, 4, 10, 30, tzinfo=UTC)


def _jids(value: Any) -> list[str]:
    """Every string in ``value`` that claims to be a JID (a WhatsApp or group address)."""
    if isinstance(value, str):
        return [value] if "@s.whatsapp" in value or "@g.us" in value else []
    if isinstance(value, dict):
        return [j for k, v in value.items() for j in _jids(k) + _jids(v)]
    if isinstance(value, list):
        return [j for v in value for j in _jids(v)]
    return []


@pytest.mark.parametrize("event", catalog.EVENTS, ids=lambda e: e.name)
def test_every_event_has_a_json_object(event: catalog.Event) -> None:
    data = template(event, "acme-sales", now=NOW)
    assert isinstance(data, dict) and data
    assert orjson.loads(orjson.dumps(data)) == data


@pytest.mark.parametrize("event", catalog.EVENTS, ids=lambda e: e.name)
def test_every_jid_is_valid(event: catalog.Event) -> None:
    for jid in _jids(template(event, "acme-sales", now=NOW)):
        assert PERSONAL.match(jid) or GROUP.match(jid), jid


def test_messages_upsert_has_the_reference_shape() -> None:
    data = template(catalog.lookup("messages.upsert"), "acme", now=NOW)
    assert data["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert data["key"]["fromMe"] is False
    assert re.fullmatch(r"3EB0[0-9A-F]{16}", data["key"]["id"])
    assert data["pushName"] == "John Doe"
    assert data["message"]["conversation"] == "Hello from WhatsApp!"
    assert data["messageTimestamp"] == int(NOW.timestamp())  # seconds, as Baileys


def test_connection_update_has_a_state() -> None:
    data = template(catalog.lookup("CONNECTION_UPDATE"), "acme", now=NOW)
    assert data["state"] in {"open", "connecting", "close"}
    assert data["instance"] == "acme"


def test_group_participants_update() -> None:
    data = template(catalog.lookup("group-participants.update"), "acme", now=NOW)
    assert GROUP.match(data["id"])
    assert data["action"] in {"add", "remove", "promote", "demote"}
    assert data["participants"] and all(PERSONAL.match(p) for p in data["participants"])


def test_seq_varies_message_ids_and_is_deterministic() -> None:
    event = catalog.lookup("MESSAGES_UPSERT")
    first = template(event, "acme", seq=1, now=NOW)
    assert first == template(event, "acme", seq=1, now=NOW)
    assert first["key"]["id"] != template(event, "acme", seq=2, now=NOW)["key"]["id"]


def test_templates_stay_pure() -> None:
    code = "import sys, tui.templates; print(any(m.split('.')[0] in ('aiokafka', 'textual') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
