"""The layout view's pure parts: the plan joined with the cluster's topics, and rates from successive counts."""

from __future__ import annotations

from tui.config import load_settings
from tui.instance_settings import InstanceSettings
from tui.topic_rows import RateMeter, layout_rows
from tui.topology import Layout, PlannedTopic, topic_plan


def _plan(global_enabled: bool = True) -> list[PlannedTopic]:
    settings = load_settings(None, environ={}, topic_prefix="evo", global_enabled=str(global_enabled).lower())
    shop = InstanceSettings.from_request(True, ["MESSAGES_UPSERT", "CALL"])
    layouts = (Layout.GLOBAL, Layout.INSTANCE) if global_enabled else (Layout.INSTANCE,)
    return topic_plan(settings, {"shop.main": shop}, layouts)


def test_missing_existing_and_unplanned_rows_in_order() -> None:
    existing = {
        "evo.shop.main.messages.upsert": 4,
        "evo.shop.main.contacts.set": 2,  # exists, nothing plans it
        "evo.not-an-event": 1,  # under the prefix but not an event topic: left out
        "other.shop.main.call": 1,  # another prefix: left out
    }
    rows = layout_rows(_plan(), existing, "evo", {"evo.shop.main.messages.upsert": 10}, {"evo.shop.main.messages.upsert": 2.5})
    by_topic = {r.topic: r for r in rows}
    upsert = by_topic["evo.shop.main.messages.upsert"]
    assert upsert.planned and not upsert.missing and upsert.partitions == 4
    assert (upsert.messages, upsert.rate, upsert.instance, upsert.group) == (10, 2.5, "shop.main", "shop.main")
    call = by_topic["evo.shop.main.call"]
    assert call.missing and call.messages is None and call.rate is None
    extra = by_topic["evo.shop.main.contacts.set"]
    assert extra.unplanned and not extra.planned and extra.partitions == 2
    assert "evo.not-an-event" not in by_topic and "other.shop.main.call" not in by_topic
    # Global rows first, then instances; within a group the catalog's event order.
    groups = [r.group for r in rows]
    assert groups == sorted(groups, key=lambda g: g != "global")
    shop = [r.event.wire for r in rows if r.group == "shop.main"]
    assert shop == ["messages.upsert", "contacts.set", "call"]


def test_global_off_plans_no_global_topics_but_shows_existing_ones_as_unplanned() -> None:
    rows = layout_rows(_plan(global_enabled=False), {"evo.global.call": 1}, "evo")
    by_topic = {r.topic: r for r in rows}
    assert by_topic["evo.global.call"].unplanned and by_topic["evo.global.call"].layout is Layout.GLOBAL
    assert all(r.layout is Layout.INSTANCE for r in rows if r.planned)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_meter_from_successive_counts() -> None:
    clock = FakeClock()
    meter = RateMeter(clock)
    assert meter.update({"a": 10}) == {}  # nothing to compare with yet
    clock.now += 2.0
    assert meter.update({"a": 30, "b": 5}) == {"a": 10.0, "b": 0.0}  # b is new: no rate yet, 0
    assert meter.update({"a": 40, "b": 5}) == {}  # the clock did not move
    clock.now += 4.0
    assert meter.update({"a": 0, "b": 25}) == {"a": 0.0, "b": 5.0}  # a went down (restarted broker): 0
    meter.reset()
    clock.now += 1.0
    assert meter.update({"a": 50}) == {}
