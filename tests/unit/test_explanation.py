"""The explanation's routing stand-in and its wording (pure; the live facts are tested on the broker)."""

from __future__ import annotations

from tui import catalog
from tui.config import KafkaSettings, load_settings
from tui.explanation import (
    ClusterFacts,
    LastRecord,
    TopicFacts,
    explanation,
    provisional_route,
)
from tui.instance_settings import InstanceSettings
from tui.topology import Layout

ON = InstanceSettings.from_request(True, ())
OFF = InstanceSettings.from_request(False, ())
UPSERT = catalog.lookup("messages.upsert")


def _settings(**over: str) -> KafkaSettings:
    return load_settings(None, environ={}, **over)


def test_routing_verdicts() -> None:
    both = provisional_route(_settings(global_enabled="true"), "acme", UPSERT, ON)
    assert both.verdict == "published" and [leg.taken for leg in both.legs] == [True, True]
    assert both.legs[0].topic == "evolution.acme.messages.upsert" and both.legs[1].key == "acme-messages.upsert"
    groups = provisional_route(_settings(global_enabled="true"), "acme", catalog.lookup("GROUPS_UPDATE"), ON)
    assert groups.verdict == "not published"
    assert all("never published by Evolution API" in leg.reason for leg in groups.legs)
    off = provisional_route(_settings(), "acme", UPSERT, OFF)
    assert off.verdict == "not published" and "publishes nothing per instance" in off.legs[0].reason
    never = provisional_route(_settings(global_enabled="true"), "acme", catalog.lookup("LOGOUT_INSTANCE"), OFF)
    assert "never goes to a global topic" in never.legs[1].reason
    kafka_off = provisional_route(_settings(enabled="false"), "acme", UPSERT, ON)
    assert kafka_off.verdict == "not published" and "KAFKA_ENABLED" in kafka_off.reasons[0]


def test_headline_and_json() -> None:
    route = provisional_route(_settings(), "acme", UPSERT, ON)
    last = LastRecord(1, 41, 1_000_000)
    facts = [TopicFacts(Layout.INSTANCE, route.legs[0].topic, "acme", True, route.legs[0].reason, True, 3, last, 2)]
    found = explanation("acme", UPSERT, route, facts, ClusterFacts(("b:9092",), True), 1_060_000)
    assert found.headline.startswith("messages.upsert of acme: published to evolution.acme.messages.upsert;")
    assert "at offset 41" in found.headline and "(60 s ago)" in found.headline
    assert found.to_json()["topics"][0]["last"]["offset"] == 41
    down = explanation("acme", UPSERT, route, facts, ClusterFacts(("b:9092",), False, "refused"), 0)
    assert "cannot tell" in down.headline
    empty = TopicFacts(Layout.INSTANCE, "t", "acme", True, "r", True, 3)
    nothing = explanation("acme", UPSERT, route, [empty], ClusterFacts((), True), 0)
    assert "no record of it found there yet" in nothing.headline


def test_publisher_state_is_a_fact_when_given() -> None:
    route = provisional_route(_settings(), "acme", UPSERT, ON)
    found = explanation("acme", UPSERT, route, [], ClusterFacts(("b:9092",), True), 0, publisher="reconnecting")
    assert "  evokafka's publisher: reconnecting" in found.lines()
    assert found.to_json()["publisher"] == "reconnecting"
    assert explanation("acme", UPSERT, route, [], ClusterFacts((), True), 0).to_json()["publisher"] is None
