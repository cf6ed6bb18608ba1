"""``topics diff`` knows all three global topics Evolution API 2.3.6 auto-creates under the wrong name."""

from __future__ import annotations

from tui.config import load_settings
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.kafka.topics import diff, plan
from tui.topology import parse_topic


def test_the_three_misnamed_global_topics() -> None:
    settings = load_settings(None, environ={}, global_enabled="true", events_typebot_change_status="true",
                             **DOCUMENT_EVENT_FIELDS)
    planned = plan(settings, {})
    existing = {"evolution.global.group.participants.update": 1, "evolution.global.typebot.change.status": 1,
                "evolution.global.group.update": 1, "evolution.global.call": 1}
    result = diff(planned, existing, "evolution")
    assert {(m.topic, m.published_to) for m in result.misnamed} == {
        ("evolution.global.group.participants.update", "evolution.global.group-participants.update"),
        ("evolution.global.typebot.change.status", "evolution.global.typebot.change-status"),
        ("evolution.global.group.update", "evolution.global.groups.update"),
    }
    assert result.unexpected == ()
    ref = parse_topic("evolution.acme.groups.update", "evolution")
    assert ref is not None and not ref.misnamed and ref.instance == "acme"
