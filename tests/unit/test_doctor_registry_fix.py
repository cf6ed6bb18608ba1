"""The doctor's registry check names the real cause: missing (lost by the cluster?), unreadable, or empty."""

from __future__ import annotations

from tui.kafka.doctor.cluster import check_instances


def test_missing_topic_points_at_the_restore() -> None:
    (result,) = check_instances({}, " (reg)", topic_exists=False)
    assert "does not exist" in result.detail
    assert "evokafka instances import FILE" in result.fix and "lost" in result.fix
    (lost_console,) = check_instances(None, " (reg)", topic_exists=False)
    assert lost_console.fix == result.fix


def test_unreadable_topic_is_not_called_missing() -> None:
    (result,) = check_instances(None, " (reg)", topic_exists=True)
    assert "exists but could not be read" in result.detail
    assert "check that the registry topic exists" not in result.fix


def test_empty_registry_says_enable() -> None:
    (result,) = check_instances({}, " (reg)", topic_exists=True)
    assert "no instance has Kafka settings" in result.detail
