"""The doctor says where Evolution API 2.3.6 ignores a switch (routing.evolution_route), without a network."""

from __future__ import annotations

from tui.config import load_settings
from tui.diagnosis import Status
from tui.instance_settings import InstanceSettings
from tui.kafka.doctor.cluster import check_instances
from tui.kafka.doctor.settings import check_settings


def test_global_switches_evolution_never_acts_on_are_warned() -> None:
    settings = load_settings(None, environ={"KAFKA_GLOBAL_ENABLED": "true", "KAFKA_EVENTS_GROUPS_UPDATE": "true",
                                            "KAFKA_EVENTS_CALL": "true"})
    quirks = [r for r in check_settings(settings) if r.check == "evolution.global-route"]
    assert len(quirks) == 1 and quirks[0].status is Status.WARN
    assert "KAFKA_EVENTS_GROUPS_UPDATE=true" in quirks[0].detail and "GROUP_UPDATE" in quirks[0].detail


def test_an_instance_enabled_for_groups_update_is_warned() -> None:
    results = check_instances({"evo1": InstanceSettings.from_request(True), "evo2": InstanceSettings.from_request(True, ["CALL"])})
    warned = [(r.subject, r.check) for r in results if r.check == "evolution.instance-route"]
    assert warned == [("evo1", "evolution.instance-route")]
