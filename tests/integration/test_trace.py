"""``evokafka trace`` on the real broker: a demo message's whole life in order, and each gap kind flagged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from tests.conftest import async_wait_until
from tui import catalog, templates
from tui.config import KafkaSettings
from tui.demo.runner import DemoConfig, DemoRunner
from tui.demo.traffic import Traffic, TrafficEvent
from tui.flow import GapKind, TraceQuery, references
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.options import ConnectionOptions
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.trace import trace
from tui.status import PublisherState
from tui.topology import Layout

pytestmark = pytest.mark.broker

WHOLE_LIFE = [
    "send.message",
    "messages.upsert",
    "messages.update SERVER_ACK",
    "messages.update DELIVERY_ACK",
    "send.message.update DELIVERY_ACK",
    "messages.update READ",
    "messages.edited",
    "messages.delete",
]

ALL_EVENTS = ("acme-sales", "globex_helpdesk")
"""The demo instances that publish every event per instance."""


def _message_lives(events: list[TrafficEvent]) -> dict[tuple[str, str], list[str]]:
    lives: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in events:
        for ref in references(item.event.wire, item.data):
            if ref.message_id and item.event.wire != "messages.set":
                label = f"{item.event.wire} {ref.status}" if item.event.wire.endswith("update") else item.event.wire
                lives[(item.instance, ref.message_id)].append(label)
    return lives


async def test_trace_shows_a_demo_messages_whole_life_in_order(settings: KafkaSettings, prefix: str) -> None:
    runner = DemoRunner(
        settings.model_copy(update={"global_enabled": True}),
        DemoConfig(rate=500, duration=4, seed=1, external=True),
        registry_topic=f"{prefix}_registry",
    )
    await runner.start()
    try:
        await runner.run()
        await runner.publisher.flush()
    finally:
        await runner.stop()
    published = Traffic(runner.instances, seed=1).take(runner.stats.events)
    lives = _message_lives(published)
    whole = [key for key, life in lives.items() if life == WHOLE_LIFE and key[0] in ALL_EVENTS]
    silent = [key for key, life in lives.items() if life == ["send.message", "messages.upsert"]]
    assert whole and silent, "the demo's first seconds hold a whole life and an unacknowledged message"

    options = ConnectionOptions.from_settings(settings)
    instance, message_id = whole[0]
    result = await trace(
        options, TraceQuery(message_id, instance=instance, since_ms=int(time.time() * 1000) - 600_000), prefix=prefix
    )
    # The instance publishes every event per instance, and the demo publishes globally too: both layouts, each
    # the whole life in order.
    for layout in (Layout.INSTANCE, Layout.GLOBAL):
        assert [s.label for s in result.steps if s.layout is layout] == WHOLE_LIFE, layout
    assert [s.timestamp for s in result.steps] == sorted(s.timestamp for s in result.steps)
    assert result.gaps == ()
    assert all(s.instance == instance and s.message_id == message_id for s in result.steps)

    instance, message_id = silent[0]
    result = await trace(options, TraceQuery(message_id, since_ms=0), prefix=prefix)
    assert [g.kind for g in result.gaps] == [GapKind.NEVER_ACKNOWLEDGED]
    assert result.gaps[0].text.startswith("upsert never acknowledged")


async def _publisher(settings: KafkaSettings) -> EventPublisher:
    lookup = InMemorySettings({"shop": InstanceSettings.from_request(True, ())})
    publisher = EventPublisher(settings, lookup)
    await publisher.start()
    await async_wait_until(lambda: publisher.status.state is PublisherState.CONNECTED, timeout=15)
    return publisher


async def test_each_gap_kind_is_flagged(settings: KafkaSettings, prefix: str) -> None:
    publisher = await _publisher(settings)
    contact, iid = templates.CONTACT, "iid"

    def sent(message_id: str) -> dict[str, object]:
        key = templates.message_key(contact, True, message_id)
        return templates.message(key, "Shop", "hello", seconds=int(time.time()), instance_id=iid, status="PENDING")

    def receipt(message_id: str, status: str) -> dict[str, object]:
        return templates.receipt(message_id, contact, True, status, iid)

    flows: dict[str, list[tuple[str, dict[str, object]]]] = {
        "3EB0AAAA0000000000A1": [("messages.update", receipt("3EB0AAAA0000000000A1", "READ"))],
        "3EB0AAAA0000000000A2": [("send.message", sent("3EB0AAAA0000000000A2"))],
        "3EB0AAAA0000000000A3": [
            ("messages.upsert", sent("3EB0AAAA0000000000A3")),
            ("messages.update", receipt("3EB0AAAA0000000000A3", "SERVER_ACK")),
            ("messages.update", receipt("3EB0AAAA0000000000A3", "READ")),
        ],
        "3EB0AAAA0000000000A4": [
            ("messages.edited", templates.edit(templates.message_key(contact, True, "3EB0AAAA0000000000A4"), "x",
                                               millis=0, instance_id=iid)),
            ("messages.delete", templates.deletion(contact, True, "3EB0AAAA0000000000A4")),
        ],
    }
    try:
        for steps in flows.values():
            for wire, data in steps:
                ticket = await publisher.publish(catalog.lookup(wire), "shop", data)
                assert all(d.error is None for d in await ticket.wait())
    finally:
        await publisher.stop()
    options = ConnectionOptions.from_settings(settings)
    since = int(time.time() * 1000) - 60_000
    kinds = {}
    for message_id in flows:
        result = await trace(options, TraceQuery(message_id, instance="shop", since_ms=since), prefix=prefix)
        assert result.found
        kinds[message_id] = [(g.kind, g.text.split(" (")[0]) for g in result.gaps]
    assert kinds == {
        "3EB0AAAA0000000000A1": [(GapKind.RECEIPT_WITHOUT_UPSERT, "READ without an upsert")],
        "3EB0AAAA0000000000A2": [(GapKind.NEVER_ACKNOWLEDGED, "upsert never acknowledged")],
        "3EB0AAAA0000000000A3": [(GapKind.SKIPPED_RECEIPT, "READ without DELIVERY_ACK")],
        "3EB0AAAA0000000000A4": [
            (GapKind.EDIT_WITHOUT_UPSERT, "edited without an upsert"),
            (GapKind.DELETE_WITHOUT_UPSERT, "deleted without an upsert"),
        ],
    }
    # A window that ends before the records finds nothing.
    result = await trace(
        options, TraceQuery("3EB0AAAA0000000000A1", since_ms=since - 60_000, until_ms=since), prefix=prefix
    )
    assert not result.found


def test_trace_command_json_and_bad_input(settings: KafkaSettings, prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
    env["KAFKA_TOPIC_PREFIX"] = prefix

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", "--brokers", ",".join(settings.brokers), "trace", *args],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )

    both = cli("--message-id", "X", "--chat", "Y")
    assert both.returncode == 2 and both.stderr.count("\n") == 1 and "exactly one" in both.stderr
    bad = cli("--message-id", "X", "--since", "yesterday")
    assert bad.returncode == 2 and "bad time" in bad.stderr and "Traceback" not in bad.stderr
    nothing = cli("--message-id", "3EB0NOTHERE", "--json")
    assert nothing.returncode == 1
    assert json.loads(nothing.stdout)["steps"] == []
