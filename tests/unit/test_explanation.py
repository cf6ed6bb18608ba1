"""The explanation's verdicts on Evolution's routing, and its wording (pure; the live facts are tested on the
broker)."""

from __future__ import annotations

from tui import catalog
from tui.config import KafkaSettings, load_settings
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.explanation import DISABLED_INSTANCE, ClusterFacts, LastRecord, TopicFacts, explanation
from tui.instance_settings import InstanceSettings
from tui.routing import route_for
from tui.topology import Layout

ON = InstanceSettings.from_request(True, ())
OFF = InstanceSettings.from_request(False, ())
UPSERT = catalog.lookup("messages.upsert")


def _settings(**over: str) -> KafkaSettings:
    return load_settings(None, environ={}, **{"enabled": "true", **DOCUMENT_EVENT_FIELDS, **over})


def test_routing_verdicts() -> None:
    both = route_for(_settings(global_enabled="true"), "acme", UPSERT, ON)
    assert both.verdict == "published" and [leg.taken for leg in both.legs] == [True, True]
    assert both.legs[0].topic == "evolution.acme.messages.upsert" and both.legs[1].key == "acme-messages.upsert"
    groups = route_for(_settings(global_enabled="true"), "acme", catalog.lookup("GROUPS_UPDATE"), ON)
    assert groups.verdict == "not published"
    assert all("never" in leg.reason and not leg.taken for leg in groups.legs)
    facts = [TopicFacts(leg.layout, leg.topic, leg.key, leg.taken, leg.reason, False) for leg in groups.legs]
    said = explanation("acme", catalog.lookup("GROUPS_UPDATE"), groups, facts, ClusterFacts((), True), 0)
    assert said.headline == "groups.update of acme: never published by Evolution API 2.3.6"
    # An event an instance could enable is "not published" under these settings, not "never".
    off_facts = [TopicFacts(leg.layout, leg.topic, leg.key, leg.taken, leg.reason, False) for leg in
                 route_for(_settings(), "acme", UPSERT, OFF).legs]
    assert "not published by" in explanation("acme", UPSERT, route_for(_settings(), "acme", UPSERT, OFF), off_facts,
                                             ClusterFacts((), True), 0).headline
    off = route_for(_settings(), "acme", UPSERT, OFF)
    assert off.verdict == "not published" and not off.legs[0].taken
    said = explanation("acme", UPSERT, off, [], ClusterFacts((), True), 0, instance_enabled=False)
    assert DISABLED_INSTANCE in said.reasons and "publishes nothing per instance" in "\n".join(said.lines())
    never = route_for(_settings(global_enabled="true"), "acme", catalog.lookup("LOGOUT_INSTANCE"), OFF)
    assert "never goes to a global topic" in never.legs[1].reason
    kafka_off = route_for(_settings(enabled="false"), "acme", UPSERT, ON)
    assert kafka_off.verdict == "not published" and any("KAFKA_ENABLED" in r for r in kafka_off.reasons)


def test_headline_and_json() -> None:
    route = route_for(_settings(), "acme", UPSERT, ON)
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
    route = route_for(_settings(), "acme", UPSERT, ON)
    found = explanation("acme", UPSERT, route, [], ClusterFacts(("b:9092",), True), 0, publisher="reconnecting")
    assert "  evokafka's publisher: reconnecting" in found.lines()
    assert found.to_json()["publisher"] == "reconnecting"
    assert explanation("acme", UPSERT, route, [], ClusterFacts((), True), 0).to_json()["publisher"] is None
