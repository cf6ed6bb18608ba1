"""The event catalog: 31 events, 5 categories, wire names, defaults, the GROUP_UPDATE alias."""

from __future__ import annotations

import pytest

from tui import catalog
from tui.catalog import Category, UnknownEventError


def test_catalog_has_the_designs_31_events_in_5_categories() -> None:
    assert len(catalog.EVENTS) == 31
    groups = catalog.by_category()
    assert list(groups) == list(Category)
    assert {c: len(v) for c, v in groups.items()} == {
        Category.INSTANCE: 8,
        Category.MESSAGE: 7,
        Category.CONTACT: 4,
        Category.CHAT_GROUP: 7,
        Category.OTHER: 5,
    }


def test_names_are_unique_in_both_forms() -> None:
    assert len({e.name for e in catalog.EVENTS}) == 31
    assert len({e.wire for e in catalog.EVENTS}) == 31


@pytest.mark.parametrize(
    ("name", "wire", "default"),
    [
        ("MESSAGES_UPSERT", "messages.upsert", True),
        ("GROUP_PARTICIPANTS_UPDATE", "group-participants.update", True),
        ("TYPEBOT_CHANGE_STATUS", "typebot.change-status", False),
        ("APPLICATION_STARTUP", "application.startup", False),
        ("SEND_MESSAGE_UPDATE", "send.message.update", True),
        ("CALL", "call", True),
    ],
)
def test_wire_names_and_defaults(name: str, wire: str, default: bool) -> None:
    event = catalog.lookup(name)
    assert event.wire == wire
    assert event.default is default
    assert catalog.lookup(wire) is event


def test_defaults_match_the_reference_false_list() -> None:
    off = {e.name for e in catalog.EVENTS if not e.default}
    assert off == {
        "APPLICATION_STARTUP",
        "INSTANCE_CREATE",
        "INSTANCE_DELETE",
        "STATUS_INSTANCE",
        "REMOVE_INSTANCE",
        "LOGOUT_INSTANCE",
        "TYPEBOT_START",
        "TYPEBOT_CHANGE_STATUS",
    }


def test_alias_group_update_is_groups_update() -> None:
    assert catalog.lookup("GROUP_UPDATE").name == "GROUPS_UPDATE"
    assert catalog.lookup("group_update").name == "GROUPS_UPDATE"


def test_lookup_is_case_and_separator_tolerant() -> None:
    assert catalog.lookup("messages_upsert").name == "MESSAGES_UPSERT"
    assert catalog.lookup(" Messages.Upsert ").name == "MESSAGES_UPSERT"
    assert catalog.lookup("GROUP-PARTICIPANTS-UPDATE").wire == "group-participants.update"


def test_unknown_event_lists_the_nearest_names() -> None:
    with pytest.raises(UnknownEventError) as info:
        catalog.lookup("MESAGES_UPSRT")
    assert "MESSAGES_UPSERT" in info.value.suggestions
    assert "MESSAGES_UPSERT" in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_event_with_nothing_near() -> None:
    with pytest.raises(UnknownEventError) as info:
        catalog.lookup("zzzzzz")
    assert str(info.value) == "unknown event 'zzzzzz'"
