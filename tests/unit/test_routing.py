"""routing.evolution_route: what Evolution API 2.3.6's KafkaController.emit would do, quirk by quirk."""

from __future__ import annotations

import pytest

from tui import catalog
from tui.config import load_settings
from tui.instance_settings import InstanceSettings
from tui.routing import (
    EVOLUTION_ALL_EVENTS,
    Verdict,
    differences,
    evolution_name,
    evolution_route,
    route_for,
)
from tui.topology import route

EVERY_SWITCH = {k: True for k in load_settings(None, environ={}).evolution_events()}


def test_31_names_with_send_message_update_and_group_update() -> None:
    assert len(EVOLUTION_ALL_EVENTS) == len(set(EVOLUTION_ALL_EVENTS)) == 31
    assert "SEND_MESSAGE_UPDATE" in EVOLUTION_ALL_EVENTS and "GROUP_UPDATE" in EVOLUTION_ALL_EVENTS
    assert "GROUPS_UPDATE" not in EVOLUTION_ALL_EVENTS


def test_we_is_the_wire_name_with_underscores() -> None:
    assert evolution_name(catalog.lookup("group-participants.update")) == "GROUP_PARTICIPANTS_UPDATE"
    assert evolution_name(catalog.lookup("typebot.change-status")) == "TYPEBOT_CHANGE_STATUS"


def test_published_to_both_with_hyphens_kept_in_topic_names() -> None:
    result = evolution_route("group-participants.update", "evo1", instance_enabled=True,
                             instance_events=EVOLUTION_ALL_EVENTS, global_enabled=True, global_events=EVERY_SWITCH)
    assert result.verdict is Verdict.PUBLISHED and result.where == "both"
    assert [leg.topic for leg in result.taken] == ["evolution.evo1.group-participants.update",
                                                   "evolution.global.group-participants.update"]
    assert result.global_.key == "evo1-group-participants.update"


def test_groups_update_is_never_published() -> None:
    result = evolution_route("groups.update", "evo1", instance_enabled=True, instance_events=["GROUP_UPDATE"],
                             global_enabled=True, global_events=EVERY_SWITCH)
    assert result.verdict is Verdict.NOT_PUBLISHED and result.where == "nowhere"
    assert "GROUPS_UPDATE" in result.per_instance.reason and "GROUP_UPDATE" in result.global_.reason


@pytest.mark.parametrize("event", ["STATUS_INSTANCE", "REMOVE_INSTANCE", "LOGOUT_INSTANCE"])
def test_three_instance_events_never_go_global(event: str) -> None:
    result = evolution_route(event, "evo1", instance_enabled=True, instance_events=[event],
                             global_enabled=True, global_events=EVERY_SWITCH)
    assert result.where == "per-instance"
    assert not result.global_.taken and "never goes to a global topic" in result.global_.reason


def test_integration_list_without_kafka_publishes_nothing() -> None:
    result = evolution_route("messages.upsert", "evo1", instance_enabled=True, instance_events=EVOLUTION_ALL_EVENTS,
                             integrations=["webhook", "rabbitmq"])
    assert result.verdict is Verdict.NOT_PUBLISHED and result.reasons == ("the instance's integration list lacks Kafka",)


def test_kafka_disabled_publishes_nothing() -> None:
    result = evolution_route("call", "evo1", kafka_enabled=False, instance_enabled=True, instance_events=["CALL"])
    assert result.verdict is Verdict.NOT_PUBLISHED and "KAFKA_ENABLED" in result.summary


def test_dropped_while_the_connection_is_down() -> None:
    result = evolution_route("call", "evo1", instance_enabled=True, instance_events=["CALL"], connected=False)
    assert result.verdict is Verdict.DROPPED and result.taken == ()
    assert "dropped" in result.summary


@pytest.mark.parametrize(
    ("enabled", "events", "reason"),
    [(None, None, "no Kafka record"), (False, [], "disabled"), (True, ["MESSAGES_UPSERT"], "does not list CALL")],
)
def test_instance_record_reasons(enabled: bool | None, events: list[str] | None, reason: str) -> None:
    result = evolution_route("call", "evo1", instance_enabled=enabled, instance_events=events)
    assert result.verdict is Verdict.NOT_PUBLISHED and reason in result.per_instance.reason


def test_route_for_reads_evokafkas_settings_and_all_events() -> None:
    settings = load_settings(None, environ={"KAFKA_GLOBAL_ENABLED": "true", "KAFKA_EVENTS_CALL": "true"})
    everything = InstanceSettings.from_request(True)
    assert route_for(settings, "evo1", "send.message.update", everything).where == "per-instance"
    assert route_for(settings, "evo1", "call", everything).where == "both"
    assert route_for(settings, "evo1", "groups.update", everything).where == "nowhere"


def test_differences_name_what_evokafka_sends_and_evolution_would_not() -> None:
    settings = load_settings(None, environ={"KAFKA_GLOBAL_ENABLED": "true", "KAFKA_EVENTS_GROUPS_UPDATE": "true"})
    everything = InstanceSettings.from_request(True)
    event = catalog.lookup("groups.update")
    lines = differences(route(settings, "evo1", event, everything), route_for(settings, "evo1", event, everything))
    assert len(lines) == 2 and all("Evolution API 2.3.6 would not" in line for line in lines)
    call = catalog.lookup("call")
    assert differences(route(settings, "evo1", call, everything), route_for(settings, "evo1", call, everything)) == []
