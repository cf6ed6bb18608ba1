"""Evolution API's JSON shapes: parsing its answers, producing them for ``evokafka serve``.

The bodies below are shaped field for field like Evolution API v2's (repository EvolutionAPI/evolution-api):

- fetchInstances entries: Prisma model ``Instance`` in ``prisma/postgresql-schema.prisma`` /
  ``prisma/mysql-schema.prisma`` (``id, name, connectionStatus, ownerJid, profileName, profilePicUrl, integration,
  number, businessId, token, clientName, disconnectionReasonCode, disconnectionObject, disconnectionAt,
  createdAt, updatedAt``), returned with its included relations and ``_count`` by
  ``WAMonitoringService.instanceInfo`` in ``src/api/services/monitor.service.ts``;
- the Kafka record: ``prisma/postgresql-migrations/20250918182355_add_kafka_integration/migration.sql``
  (``id, enabled, events, createdAt, updatedAt, instanceId``), answered by ``KafkaRouter`` in
  ``src/api/integrations/event/kafka/kafka.router.ts`` (``find`` → the row or ``null``; ``set`` → 201 and the row);
- "all events": ``EventController.events`` and ``EventController.set`` in
  ``src/api/integrations/event/event.controller.ts``; the publisher's exact-name match
  (``event.replace(/[.-]/gm, '_').toUpperCase()``, ``kafkaLocal.includes(we)``) in
  ``src/api/integrations/event/kafka/kafka.controller.ts``;
- error bodies: the error handler of ``src/main.ts`` (``{status, error, response: {message}}``) with the
  exceptions of ``src/exceptions/40x.exception.ts`` and the messages of ``src/api/guards/instance.guard.ts``
  and ``src/api/abstract/abstract.router.ts`` (validation errors: a list in a list).
"""

from __future__ import annotations

from typing import Any

import pytest

from tui import catalog
from tui.evolution import models
from tui.evolution.models import ConnectionStatus, EvolutionInstance, EvolutionShapeError, KafkaRecord
from tui.instance_settings import InstanceSettings
from tui.routing import EVOLUTION_ALL_EVENTS

FETCH_INSTANCES: list[dict[str, Any]] = [
    {
        "id": "cm0x1y2z30000abcd1234efgh",
        "name": "acme-sales",
        "connectionStatus": "open",
        "ownerJid": "5511999999999@s.whatsapp.net",
        "profileName": "Acme Sales",
        "profilePicUrl": "https://pps.whatsapp.net/v/t61.24694-24/1234.jpg",
        "integration": "WHATSAPP-BAILEYS",
        "number": None,
        "businessId": None,
        "token": "B6D711FCDE4D4FD5936544120E713976",
        "clientName": "evolution_exchange",
        "disconnectionReasonCode": None,
        "disconnectionObject": None,
        "disconnectionAt": None,
        "createdAt": "2025-01-10T12:00:00.000Z",
        "updatedAt": "2025-03-04T10:30:00.000Z",
        "Chatwoot": None,
        "Proxy": None,
        "Rabbitmq": None,
        "Sqs": None,
        "Websocket": None,
        "Setting": {
            "id": "cm0x1y2z30001abcd1234efgh",
            "rejectCall": False,
            "msgCall": "",
            "groupsIgnore": False,
            "alwaysOnline": False,
            "readMessages": False,
            "readStatus": False,
            "syncFullHistory": False,
            "wavoipToken": "",
            "createdAt": "2025-01-10T12:00:00.000Z",
            "updatedAt": "2025-01-10T12:00:00.000Z",
            "instanceId": "cm0x1y2z30000abcd1234efgh",
        },
        "_count": {"Message": 1204, "Contact": 310, "Chat": 88},
    },
    {
        "id": "cm0x1y2z30002abcd1234efgh",
        "name": "support line",
        "connectionStatus": "close",
        "ownerJid": None,
        "profileName": None,
        "profilePicUrl": None,
        "integration": "WHATSAPP-BUSINESS",
        "number": "5511988887777",
        "businessId": "123456789012345",
        "token": "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        "clientName": "evolution_exchange",
        "disconnectionReasonCode": 401,
        "disconnectionObject": {"error": {"output": {"statusCode": 401}}},
        "disconnectionAt": "2025-03-01T08:00:00.000Z",
        "createdAt": "2025-02-01T09:00:00.000Z",
        "updatedAt": "2025-03-01T08:00:00.000Z",
        "Chatwoot": None,
        "Proxy": None,
        "Rabbitmq": None,
        "Sqs": None,
        "Websocket": None,
        "Setting": None,
        "_count": {"Message": 0, "Contact": 0, "Chat": 0},
    },
    {
        "id": "cm0x1y2z30003abcd1234efgh",
        "name": "pairing",
        "connectionStatus": "connecting",
        "ownerJid": None,
        "profileName": None,
        "profilePicUrl": None,
        "integration": "WHATSAPP-BAILEYS",
        "number": None,
        "businessId": None,
        "token": "AAAABBBBCCCCDDDDEEEEFFFF00001111",
        "clientName": "evolution_exchange",
        "disconnectionReasonCode": None,
        "disconnectionObject": None,
        "disconnectionAt": None,
        "createdAt": "2025-03-04T10:29:00.000Z",
        "updatedAt": "2025-03-04T10:29:00.000Z",
        "Chatwoot": None,
        "Proxy": None,
        "Rabbitmq": None,
        "Sqs": None,
        "Websocket": None,
        "Setting": None,
        "_count": {"Message": 0, "Contact": 0, "Chat": 0},
    },
]

KAFKA_FIND: dict[str, Any] = {
    "id": "cm0x1y2z30004abcd1234efgh",
    "enabled": True,
    "events": ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"],
    "createdAt": "2025-03-04T10:30:00.000Z",
    "updatedAt": "2025-03-04T10:30:00.000Z",
    "instanceId": "cm0x1y2z30000abcd1234efgh",
}

KAFKA_SET_ALL = {  # POST /kafka/set with {"kafka": {"enabled": true, "events": []}}: EventController.events
    **KAFKA_FIND,
    "events": list(EVOLUTION_ALL_EVENTS),
    "updatedAt": "2025-03-04T10:31:00.000Z",
}

KAFKA_SET_DISABLED = {**KAFKA_FIND, "enabled": False, "events": []}

ERROR_404 = {
    "status": 404,
    "error": "Not Found",
    "response": {"message": ['The "ghost" instance does not exist']},
}
ERROR_401 = {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
ERROR_400 = {
    "status": 400,
    "error": "Bad Request",
    "response": {"message": [["kafka.events[0] is not one of enum values: APPLICATION_STARTUP,QRCODE_UPDATED"]]},
}


def test_fetch_instances_entries_parse_every_field_the_console_shows() -> None:
    instances = models.parse_instances(FETCH_INSTANCES)
    assert [i.name for i in instances] == ["acme-sales", "support line", "pairing"]
    sales, support, pairing = instances
    assert sales.connection_status is ConnectionStatus.OPEN
    assert support.connection_status is ConnectionStatus.CLOSE
    assert pairing.connection_status is ConnectionStatus.CONNECTING
    assert sales.owner_jid == "5511999999999@s.whatsapp.net"
    assert sales.profile_name == "Acme Sales"
    assert sales.integration == "WHATSAPP-BAILEYS"
    assert sales.created_at == "2025-01-10T12:00:00.000Z"
    assert sales.id == "cm0x1y2z30000abcd1234efgh"
    assert support.number == "5511988887777"
    # The number to show: "number" when set, else the owner's JID user part.
    assert sales.phone == "5511999999999"
    assert support.phone == "5511988887777"
    assert pairing.phone is None


def test_the_instance_token_is_never_kept() -> None:
    """The token is that instance's own API key: it must not travel into the console or logs."""
    instance = EvolutionInstance.from_json(FETCH_INSTANCES[0])
    assert "B6D711FCDE4D4FD5936544120E713976" not in repr(instance)
    assert not hasattr(instance, "token")


def test_an_unknown_connection_status_is_kept_raw_not_refused() -> None:
    instance = EvolutionInstance.from_json({**FETCH_INSTANCES[0], "connectionStatus": "refused"})
    assert instance.connection_status is ConnectionStatus.UNKNOWN
    assert instance.raw_status == "refused"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"instances": []}, "not answer a JSON array"),
        ([{"connectionStatus": "open"}], "no 'name'"),
        ([{**FETCH_INSTANCES[0], "profileName": 42}], "'profileName' is not a string"),
        (["acme"], "not a JSON object"),
    ],
)
def test_fetch_instances_of_another_shape_is_one_clear_error(body: object, problem: str) -> None:
    with pytest.raises(EvolutionShapeError, match=problem):
        models.parse_instances(body)


def test_kafka_find_record_and_null() -> None:
    record = models.parse_kafka_find(KAFKA_FIND)
    assert record is not None
    assert record.enabled is True
    assert record.events == ("MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE")
    assert record.id == "cm0x1y2z30004abcd1234efgh"
    assert record.instance_id == "cm0x1y2z30000abcd1234efgh"
    assert record.created_at == record.updated_at == "2025-03-04T10:30:00.000Z"
    assert [e.wire for e in record.published] == [
        "qrcode.updated",
        "connection.update",
        "messages.upsert",
        "messages.update",
    ]
    assert record.missed == ()
    assert models.parse_kafka_find(None) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({**KAFKA_FIND, "enabled": "yes"}, "'enabled' is not true/false"),
        ({**KAFKA_FIND, "events": "MESSAGES_UPSERT"}, "'events' is not a list"),
        ([], "not a JSON object"),
    ],
)
def test_kafka_record_of_another_shape_is_one_clear_error(body: object, problem: str) -> None:
    with pytest.raises(EvolutionShapeError, match=problem):
        KafkaRecord.from_json(body)


def test_disabled_record_publishes_nothing() -> None:
    record = KafkaRecord.from_json(KAFKA_SET_DISABLED)
    assert record.published == ()
    assert record.missed == ()


def test_evolution_all_events_misses_only_groups_update() -> None:
    """Evolution's "all" (31 names) has SEND_MESSAGE_UPDATE and GROUP_UPDATE; its publisher matches
    GROUPS_UPDATE, derived from the wire name groups.update, so only that one is never published."""
    assert len(EVOLUTION_ALL_EVENTS) == 31 and "SEND_MESSAGE_UPDATE" in EVOLUTION_ALL_EVENTS
    missed = [e.wire for e in models.evolution_all_misses()]
    assert missed == ["groups.update"]
    record = KafkaRecord.from_json(KAFKA_SET_ALL)
    assert [e.wire for e in record.missed] == ["groups.update"]
    published = {e.wire for e in record.published}
    assert published == {e.wire for e in catalog.EVENTS} - {"groups.update"}


def test_every_other_name_of_evolutions_list_is_a_catalog_settings_name() -> None:
    """So the exact-name match works for them; only GROUP_UPDATE is the odd one out."""
    assert [n for n in EVOLUTION_ALL_EVENTS if n not in catalog.BY_NAME] == ["GROUP_UPDATE"]
    assert len(set(EVOLUTION_ALL_EVENTS)) == len(EVOLUTION_ALL_EVENTS)


def test_an_explicit_group_update_is_flagged_as_never_published() -> None:
    missed = models.silently_missed(["MESSAGES_UPSERT", "GROUP_UPDATE"])
    assert [e.wire for e in missed] == ["groups.update"]
    assert models.silently_missed(["GROUP_UPDATE"], enabled=False) == ()


def test_evokafkas_all_list_misses_nothing() -> None:
    """``evokafka serve`` spells "all" as the whole catalog: nothing is flagged."""
    every = [e.name for e in catalog.EVENTS]
    assert models.silently_missed(every) == ()
    # GROUPS_UPDATE is matched by name, but Evolution never publishes groups.update per instance.
    assert len(models.published_events(every, True)) == len(catalog.EVENTS) - 1


def test_which_events_evolutions_set_schema_refuses() -> None:
    refused = [e.wire for e in catalog.EVENTS if models.evolution_rejects(e)]
    assert refused == ["groups.update"]


def test_error_messages_of_every_shape_read_as_one_line() -> None:
    assert models.error_message(ERROR_404) == 'The "ghost" instance does not exist'
    assert models.error_message(ERROR_401) == "Unauthorized"
    assert models.error_message(ERROR_400) == (
        "kafka.events[0] is not one of enum values: APPLICATION_STARTUP,QRCODE_UPDATED"
    )
    assert models.error_message({"status": 500, "error": "Internal Server Error", "response": {}}) == (
        "Internal Server Error"
    )
    assert models.error_message("<html>") is None


def test_produced_record_has_evolutions_fields_and_spells_all_out() -> None:
    settings = InstanceSettings.from_request(True, [], updated_at="2025-03-04T10:30:00.000Z")
    body = models.kafka_record_json("acme-sales", settings)
    assert set(body) == set(KAFKA_FIND)
    assert body["events"] == list(EVOLUTION_ALL_EVENTS)  # what Evolution stores for "enabled, no events"
    assert body["instanceId"] == models.instance_id("acme-sales")
    # It parses back with the same parser that reads Evolution's answers.
    record = KafkaRecord.from_json(body)
    assert len(record.published) == len(catalog.EVENTS) - 1
    disabled = models.kafka_record_json("acme-sales", InstanceSettings.from_request(False, ["CALL"]))
    assert disabled["enabled"] is False and disabled["events"] == []


def test_produced_instance_entry_parses_as_an_evolution_instance() -> None:
    body = models.instance_json("acme-sales", None, "EVOKAFKA")
    assert set(body) >= set(FETCH_INSTANCES[0])  # every field Evolution clients read
    parsed = EvolutionInstance.from_json(body)
    assert parsed.name == "acme-sales"
    assert parsed.connection_status is ConnectionStatus.CLOSE
    assert parsed.integration == "EVOKAFKA"
