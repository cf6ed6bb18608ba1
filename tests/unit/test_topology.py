"""Topic layouts: names, keys, parsing back (dots in instance names), validation, routing, the plan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui import catalog
from tui.config import load_settings
from tui.instance_settings import InstanceSettings
from tui.topology import (
    InstanceNameError,
    Layout,
    message_key,
    parse_topic,
    route,
    topic_name,
    topic_plan,
    validate_instance,
)

UPSERT = catalog.lookup("MESSAGES_UPSERT")

legal_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1, max_size=120
).filter(lambda n: n != "global")
prefixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=30)


def test_topic_names_and_keys_of_the_reference() -> None:
    assert topic_name("evolution", Layout.INSTANCE, "my_instance", UPSERT) == "evolution.my_instance.messages.upsert"
    assert topic_name("evolution", Layout.GLOBAL, "my_instance", UPSERT) == "evolution.global.messages.upsert"
    assert message_key(Layout.INSTANCE, "my_instance", UPSERT) == "my_instance"
    assert message_key(Layout.GLOBAL, "my_instance", UPSERT) == "my_instance-messages.upsert"


@given(prefix=prefixes, instance=legal_names, event=st.sampled_from(catalog.EVENTS))
def test_parse_round_trips_every_legal_instance_and_event(prefix: str, instance: str, event: catalog.Event) -> None:
    try:
        validate_instance(instance, prefix)
    except InstanceNameError:
        return  # too long for this prefix: refused, never published
    ref = parse_topic(topic_name(prefix, Layout.INSTANCE, instance, event), prefix)
    assert ref is not None
    assert (ref.layout, ref.instance, ref.event) == (Layout.INSTANCE, instance, event)
    glob = parse_topic(topic_name(prefix, Layout.GLOBAL, instance, event), prefix)
    assert glob is not None
    assert (glob.layout, glob.instance, glob.event) == (Layout.GLOBAL, None, event)


def test_instance_with_dots_parses() -> None:
    ref = parse_topic("evolution.acme.support.br.send.message.update", "evolution")
    assert ref is not None
    assert ref.instance == "acme.support.br"
    assert ref.event.wire == "send.message.update"


def test_evolution_misnamed_topic_is_recognised() -> None:
    ref = parse_topic("evolution.x.group.participants.update", "evolution")
    assert ref is not None and ref.misnamed
    assert ref.event.wire == "group-participants.update"


@pytest.mark.parametrize(
    "topic", ["other.x.messages.upsert", "evolution.messages.upsert", "evolution.x.unknown", "__evokafka_instances"]
)
def test_non_event_topics_do_not_parse(topic: str) -> None:
    assert parse_topic(topic, "evolution") is None


@pytest.mark.parametrize("name", ["", "has space", "ümlaut", "a/b", "global", "x" * 230])
def test_illegal_instance_names_are_refused_with_a_clear_error(name: str) -> None:
    with pytest.raises(InstanceNameError) as info:
        validate_instance(name)
    assert "illegal instance name" in str(info.value)
    assert "\n" not in str(info.value)


def test_longest_legal_name_fits_249() -> None:
    longest = max(len(e.wire) for e in catalog.EVENTS)
    limit = 249 - len("evolution") - 2 - longest
    validate_instance("a" * limit)
    with pytest.raises(InstanceNameError):
        validate_instance("a" * (limit + 1))


def _settings(**kw: str):  # type: ignore[no-untyped-def]
    return load_settings(None, environ={}, **kw)


@pytest.mark.parametrize("kafka_enabled", [True, False])
@pytest.mark.parametrize("global_enabled", [True, False])
@pytest.mark.parametrize("event_name", ["MESSAGES_UPSERT", "TYPEBOT_START"])
@pytest.mark.parametrize(
    "instance_settings",
    [None, InstanceSettings.from_request(False), InstanceSettings.from_request(True),
     InstanceSettings.from_request(True, ["MESSAGES_UPSERT"])],
)
def test_routing_table(
    kafka_enabled: bool, global_enabled: bool, event_name: str, instance_settings: InstanceSettings | None
) -> None:
    # Evolution's reading: only the exact text "true" is true; a missing KAFKA_EVENTS_* is false.
    settings = _settings(enabled=str(kafka_enabled).lower(), global_enabled=str(global_enabled).lower(),
                         events_messages_upsert="true")
    event = catalog.lookup(event_name)
    result = route(settings, "inst", event, instance_settings)
    expect_instance = kafka_enabled and instance_settings is not None and instance_settings.enables(event)
    expect_global = kafka_enabled and global_enabled and event.name == "MESSAGES_UPSERT"
    layouts = {t.layout for t in result.targets}
    assert (Layout.INSTANCE in layouts) is expect_instance
    assert (Layout.GLOBAL in layouts) is expect_global
    assert result.reasons
    assert result.where == {(True, True): "both", (True, False): "per-instance",
                            (False, True): "global", (False, False): "nowhere"}[(expect_instance, expect_global)]


def test_plan_for_both_layouts() -> None:
    settings = _settings(global_enabled="true", num_partitions="3", events_messages_upsert="true")
    plan = topic_plan(settings, {"a": InstanceSettings.from_request(True, ["CALL", "MESSAGES_UPSERT"]),
                                 "b": InstanceSettings.from_request(False)})
    names = [p.topic for p in plan]
    assert "evolution.a.call" in names and "evolution.a.messages.upsert" in names
    assert not any(n.startswith("evolution.b.") for n in names)
    assert "evolution.global.messages.upsert" in names
    assert "evolution.global.typebot.start" not in names  # KAFKA_EVENTS_TYPEBOT_START missing: false
    assert all(p.partitions == 3 for p in plan)
    assert names == sorted(names)
    assert topic_plan(_settings(enabled="false"), {}) == []
