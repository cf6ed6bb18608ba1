"""Per-instance settings: the reference's /kafka/set semantics, toggles, the registry value's shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui import catalog
from tui.instance_settings import (
    InMemorySettings,
    InstanceSettings,
    InstanceSettingsError,
    parse_set_body,
)

ALL = len(catalog.EVENTS)


def test_disabled_is_stored_with_no_events_whatever_was_asked() -> None:
    settings = InstanceSettings.from_request(False, ["MESSAGES_UPSERT", "CALL"])
    assert settings.enabled is False and settings.events == ()
    assert not settings.all_events
    assert settings.enabled_events() == []
    assert not any(settings.enables(e) for e in catalog.EVENTS)


def test_enabled_with_an_empty_list_means_every_event() -> None:
    settings = InstanceSettings.from_request(True, [])
    assert settings.all_events
    assert settings.enabled_events() == list(catalog.EVENTS)


def test_events_by_either_name_stored_by_settings_name_in_catalog_order() -> None:
    settings = InstanceSettings.from_request(True, ["call", "MESSAGES_UPSERT", "group-participants.update", "CALL"])
    assert settings.events == ("MESSAGES_UPSERT", "GROUP_PARTICIPANTS_UPDATE", "CALL")
    assert settings.enables(catalog.lookup("messages.upsert"))
    assert not settings.enables(catalog.lookup("MESSAGES_UPDATE"))


def test_alias_group_update_is_stored_as_groups_update() -> None:
    assert InstanceSettings.from_request(True, ["GROUP_UPDATE"]).events == ("GROUPS_UPDATE",)


def test_unknown_event_names_the_nearest() -> None:
    with pytest.raises(catalog.UnknownEventError) as caught:
        InstanceSettings.from_request(True, ["MESAGES_UPSERT"])
    assert "MESSAGES_UPSERT" in str(caught.value)


def test_updated_at_is_stamped_now_unless_given() -> None:
    assert InstanceSettings.from_request(True, []).updated_at.endswith("Z")
    given_time = "2024-03-04T10:30:00.000Z"
    assert InstanceSettings.from_request(True, [], updated_at=given_time).updated_at == given_time


def test_toggle_from_all_leaves_all_but_one_and_back() -> None:
    call = catalog.lookup("CALL")
    fewer = InstanceSettings.from_request(True, []).toggled(call)
    assert fewer.enabled and len(fewer.events) == ALL - 1 and "CALL" not in fewer.events
    back = fewer.toggled(call)
    assert back.all_events and back.events == ()


def test_toggle_the_last_event_off_disables_and_on_from_disabled_enables_one() -> None:
    call = catalog.lookup("CALL")
    only = InstanceSettings.from_request(True, ["CALL"])
    off = only.toggled(call)
    assert off.enabled is False and off.events == ()
    on = off.toggled(call)
    assert on.enabled and on.events == ("CALL",)


def test_enable_keeps_the_list_disable_drops_it() -> None:
    some = InstanceSettings.from_request(True, ["CALL", "MESSAGES_UPSERT"])
    assert some.with_enabled(True).events == ("MESSAGES_UPSERT", "CALL")
    disabled = some.with_enabled(False)
    assert disabled.enabled is False and disabled.events == ()
    # A disabled instance kept no list: enabling it gives every event, as /kafka/set with [] does.
    assert disabled.with_enabled(True).all_events


def test_registry_value_round_trip() -> None:
    settings = InstanceSettings.from_request(True, ["CALL"], updated_at="2024-03-04T10:30:00.000Z")
    value = settings.to_json()
    assert value == {"enabled": True, "events": ["CALL"], "updated_at": "2024-03-04T10:30:00.000Z"}
    assert InstanceSettings.from_json(value) == settings


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([1, 2], "not a JSON object"),
        ("text", "not a JSON object"),
        ({"events": []}, "'enabled'"),
        ({"enabled": "yes"}, "'enabled'"),
        ({"enabled": True, "events": "CALL"}, "'events'"),
        ({"enabled": True, "events": [1]}, "'events'"),
        ({"enabled": True, "events": [], "updated_at": 5}, "'updated_at'"),
        ({"enabled": True, "events": ["NOPE_NOPE"]}, "NOPE_NOPE"),
        ({"enabled": True, "events": [["CALL"]]}, "'events'"),
        ({"enabled": True, "events": [{"name": "CALL"}]}, "'events'"),
        ({"enabled": True, "events": ["CALL", None]}, "'events'"),
        ({"enabled": False, "events": ["NOPE_NOPE"]}, "NOPE_NOPE"),
        # The value's fields are checked in order: an unknown event is reported after the other fields.
        ({"enabled": True, "events": ["NOPE_NOPE"], "token": 5}, "'token'"),
        ({"enabled": True, "events": ["NOPE_NOPE"], "updated_at": 5}, "'updated_at'"),
        ({"enabled": True, "events": ["NOPE_NOPE"], "sent": "x"}, "'sent'"),
        ({"enabled": True, "events": ["CALL"] * 65 + [1]}, "'events'"),
        ({"enabled": True, "events": ["CALL"] * 65 + ["NOPE_NOPE"]}, "NOPE_NOPE"),
    ],
)
def test_a_registry_value_of_another_shape_is_one_clear_error(value: Any, problem: str) -> None:
    with pytest.raises(InstanceSettingsError, match=problem):
        InstanceSettings.from_json(value)


def test_registry_values_parse_the_same_every_time() -> None:
    """Event lists are remembered once resolved (a replay parses thousands of values): a list seen before, in
    another value or after an error, gives the same answer as the first time."""
    for _ in range(3):
        with pytest.raises(InstanceSettingsError, match="NOPE_NOPE"):
            InstanceSettings.from_json({"enabled": True, "events": ["CALL", "NOPE_NOPE"]})
        with pytest.raises(InstanceSettingsError, match="'events'"):
            InstanceSettings.from_json({"enabled": True, "events": ["CALL", 1]})
        first = InstanceSettings.from_json({"enabled": True, "events": ["call", "MESSAGES_UPSERT"], "updated_at": "t1"})
        assert first == InstanceSettings(True, ("MESSAGES_UPSERT", "CALL"), "t1")
        second = InstanceSettings.from_json(
            {"enabled": True, "events": ["call", "MESSAGES_UPSERT"], "updated_at": "t2", "sent": ["call"], "token": "k"}
        )
        assert second == InstanceSettings(True, ("MESSAGES_UPSERT", "CALL"), "t2", sent=("call",), token="k")
        off = InstanceSettings.from_json({"enabled": False, "events": ["call"], "updated_at": "t3"})
        assert off == InstanceSettings(False, (), "t3")
        token_only = InstanceSettings.from_json({"enabled": False, "events": [], "updated_at": "t4", "has_record": False})
        assert not token_only.has_record


def test_set_body_as_the_reference_sends_it() -> None:
    body = {"kafka": {"enabled": True, "events": ["MESSAGES_UPSERT", "QRCODE_UPDATED", "GROUP_UPDATE"]}}
    assert parse_set_body(body).events == ("QRCODE_UPDATED", "MESSAGES_UPSERT", "GROUPS_UPDATE")
    assert parse_set_body({"kafka": {"enabled": True}}).all_events
    assert parse_set_body({"kafka": {"enabled": True, "events": None}}).all_events
    assert parse_set_body({"kafka": {"enabled": False, "events": ["CALL"]}}).events == ()


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"kafka": []}, {"kafka": {}}, {"kafka": {"enabled": "true"}},
     {"kafka": {"enabled": True, "events": "CALL"}}, {"kafka": {"enabled": True, "events": [None]}}],
)
def test_a_set_body_of_another_shape_is_refused(body: Any) -> None:
    with pytest.raises(InstanceSettingsError):
        parse_set_body(body)


def test_in_memory_settings() -> None:
    store = InMemorySettings({"a": InstanceSettings.from_request(True, [])})
    assert store.get("a") is not None and store.get("b") is None
    store.set("b", InstanceSettings.from_request(False, []))
    assert set(store.all()) == {"a", "b"}
    store.delete("a")
    store.delete("never")
    assert set(store.all()) == {"b"}


@given(st.booleans(), st.lists(st.sampled_from([e.name for e in catalog.EVENTS] + [e.wire for e in catalog.EVENTS])))
def test_any_request_round_trips_through_the_registry_value(enabled: bool, names: list[str]) -> None:
    settings = InstanceSettings.from_request(enabled, names)
    assert InstanceSettings.from_json(settings.to_json()) == settings
    expected = {catalog.lookup(n).name for n in names} if enabled and names else set()
    assert set(settings.events) == expected
    assert settings.all_events is (enabled and not names)
