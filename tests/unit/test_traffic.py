"""The demo's WhatsApp traffic: deterministic, realistic, in order, with valid JIDs."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

import orjson
import pytest

from tui import catalog
from tui.demo.traffic import (
    GENERATED_EVENTS,
    MAX_INSTANCES,
    Traffic,
    TrafficEvent,
    demo_instances,
    seed_settings,
)
from tui.demo.words import Language
from tui.topology import validate_instance

PERSONAL_JID = re.compile(r"^55\d{2}9\d{8}@s\.whatsapp\.net$")
GROUP_JID = re.compile(r"^120363\d{12}@g\.us$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _fingerprint(events: list[TrafficEvent]) -> str:
    return hashlib.sha256(
        orjson.dumps([(e.event.wire, e.instance, e.data) for e in events], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


@pytest.fixture(scope="module")
def sample() -> list[TrafficEvent]:
    return Traffic(demo_instances(), seed=1).take(3000)


def test_same_seed_same_traffic_different_seed_different() -> None:
    first = Traffic(demo_instances(), seed=7).take(500)
    again = Traffic(demo_instances(), seed=7).take(500)
    other = Traffic(demo_instances(), seed=8).take(500)
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other)


def test_same_seed_same_traffic_across_processes() -> None:
    # String hashing differs per process: nothing in the generator may depend on set or hash order.
    code = (
        "from tests.unit.test_traffic import _fingerprint;"
        "from tui.demo.traffic import Traffic, demo_instances;"
        "print(_fingerprint(Traffic(demo_instances(), seed=3).take(400)))"
    )
    prints = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        prints.add(out.stdout.strip())
    assert prints == {_fingerprint(Traffic(demo_instances(), seed=3).take(400))}


def test_every_default_event_appears_and_nothing_else(sample: list[TrafficEvent]) -> None:
    seen = {e.event.wire for e in sample}
    assert seen == GENERATED_EVENTS
    assert {e.wire for e in catalog.EVENTS if e.default} == GENERATED_EVENTS


def test_bodies_are_json_and_jids_are_valid(sample: list[TrafficEvent]) -> None:
    jids = 0
    for item in sample:
        orjson.dumps(item.data)  # what the envelope will carry
        for text in _strings(item.data):
            if text.endswith("@s.whatsapp.net"):
                assert PERSONAL_JID.match(text), text
                jids += 1
            elif text.endswith("@g.us"):
                assert GROUP_JID.match(text), text
                jids += 1
    assert jids > 1000


def test_each_instance_connects_first_qrcode_then_connecting_then_open(sample: list[TrafficEvent]) -> None:
    by_instance: dict[str, list[TrafficEvent]] = defaultdict(list)
    for item in sample:
        by_instance[item.instance].append(item)
    assert set(by_instance) == {i.name for i in demo_instances()}
    for name, items in by_instance.items():
        head = items[:3]
        assert [e.event.wire for e in head] == ["qrcode.updated", "connection.update", "connection.update"], name
        assert head[0].data["qrcode"]["instance"] == name
        assert [e.data["state"] for e in head[1:]] == ["connecting", "open"]
        # Reconnects after a close go connecting → open again, without a new QR code.
        states = [e.data["state"] for e in items if e.event.wire == "connection.update"]
        for index, state in enumerate(states):
            if state == "close":
                assert states[index + 1 : index + 3] == ["connecting", "open"], (name, states)
        assert sum(1 for e in items if e.event.wire == "qrcode.updated") == 1


def _lives(sample: list[TrafficEvent]) -> dict[tuple[str, str], list[str]]:
    """Each message's events in order, ``(instance, id)`` → ``["send.message", "messages.update:READ", …]``."""
    lives: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in sample:
        wire, data = item.event.wire, item.data
        if wire in ("messages.upsert", "send.message", "messages.edited"):
            lives[(item.instance, data["key"]["id"])].append(wire)
        elif wire in ("messages.update", "send.message.update"):
            lives[(item.instance, data["keyId"])].append(f"{wire}:{data['status']}")
        elif wire == "messages.delete":
            lives[(item.instance, data["id"])].append(wire)
    return lives


def test_receipts_edits_and_deletes_follow_their_message(sample: list[TrafficEvent]) -> None:
    lives = _lives(sample)
    for (instance, message_id), life in lives.items():
        first = life[0]
        assert first in ("messages.upsert", "send.message"), f"{life} of {message_id} starts without its message"
        statuses = [step.split(":")[1] for step in life if step.startswith("messages.update:")]
        # The sample may end between receipts: what is there is a prefix of the order, never out of it.
        assert statuses == ["SERVER_ACK", "DELIVERY_ACK", "READ"][: len(statuses)], (instance, life)
        if "messages.edited" in life or "messages.delete" in life:
            assert statuses == ["SERVER_ACK", "DELIVERY_ACK", "READ"], (instance, life)
        if "messages.delete" in life:
            assert life[-1] == "messages.delete", life
    edit = next(e.data for e in sample if e.event.wire == "messages.edited")
    assert edit["message"]["protocolMessage"]["type"] == "MESSAGE_EDIT"
    assert sum(1 for life in lives.values() if life.count("messages.update:READ") == 1) > 100


def test_whole_lives_and_unacknowledged_messages(sample: list[TrafficEvent]) -> None:
    """The flows ``evokafka trace`` follows are in the traffic: a whole life, and a message never acknowledged."""
    whole = [
        "send.message",
        "messages.upsert",
        "messages.update:SERVER_ACK",
        "messages.update:DELIVERY_ACK",
        "send.message.update:DELIVERY_ACK",
        "messages.update:READ",
        "messages.edited",
        "messages.delete",
    ]
    lives = list(_lives(sample).values())
    assert whole in lives
    edited_only = whole[:-1]
    deleted_only = [*whole[:-2], "messages.delete"]
    assert edited_only in lives and deleted_only in lives
    # Never acknowledged: sent and stored, nothing after, although the same instance went on emitting.
    positions = {(e.instance, e.data["key"]["id"]): i for i, e in enumerate(sample) if e.event.wire == "send.message"}
    silent = [
        key
        for key, life in _lives(sample).items()
        if life == ["send.message", "messages.upsert"]
        and sum(1 for e in sample[positions[key] :] if e.instance == key[0]) > 50
    ]
    assert len(silent) >= 3
    upsert = next(
        e.data for e in sample if e.event.wire == "messages.upsert" and (e.instance, e.data["key"]["id"]) == silent[0]
    )
    assert upsert["status"] == "PENDING" and upsert["key"]["fromMe"] is True


def test_flows_reuse_the_templates_shapes(sample: list[TrafficEvent]) -> None:
    from tui import catalog as cat
    from tui.templates import template

    for wire in ("messages.upsert", "messages.update", "messages.edited", "messages.delete", "call"):
        expected = set(template(cat.lookup(wire), "acme"))
        for item in (e for e in sample if e.event.wire == wire):
            assert set(item.data) <= expected | {"participant"}, (wire, sorted(item.data))


def test_group_participant_actions_and_calls(sample: list[TrafficEvent]) -> None:
    actions = {e.data["action"] for e in sample if e.event.wire == "group-participants.update"}
    assert {"add", "remove", "promote"} <= actions
    calls = [e.data for e in sample if e.event.wire == "call"]
    assert {c["status"] for c in calls} >= {"offer"}
    assert all(PERSONAL_JID.match(c["from"]) for c in calls)


def test_texts_in_portuguese_and_english(sample: list[TrafficEvent]) -> None:
    texts = [
        e.data["message"].get("conversation") or e.data["message"]["imageMessage"]["caption"]
        for e in sample
        if e.event.wire == "messages.upsert"
    ]
    assert any(t in ("Vocês aceitam Pix?", "Oi, tudo bem?", "Bom dia! Vocês abrem hoje?") for t in texts)
    assert any(t in ("Hi there!", "Thanks for the quick reply!", "Do you take credit cards?") for t in texts)


def test_sender_is_the_instance_number() -> None:
    instances = demo_instances()
    traffic = Traffic(instances, seed=1)
    for instance in instances:
        sender = traffic.sender(instance.name)
        assert sender is not None and PERSONAL_JID.match(sender)
    assert traffic.sender("nobody") is None


def test_seed_instances_cover_every_case() -> None:
    instances = demo_instances()
    assert len(instances) == 5
    names = [i.name for i in instances]
    assert any("." in n for n in names)
    assert sum(1 for i in instances if not i.settings.enabled) == 1
    assert any(i.settings.enabled and i.settings.events for i in instances)  # partial list
    assert any(i.settings.all_events for i in instances)
    assert {i.language for i in instances} == set(Language)
    assert "acme.support.br" in names
    assert seed_settings(instances) == {i.name: i.settings for i in instances}


def test_seed_instances_scale_with_legal_unique_names() -> None:
    instances = demo_instances(MAX_INSTANCES)
    names = [i.name for i in instances]
    assert len(set(names)) == MAX_INSTANCES
    for name in names:
        validate_instance(name)
    assert [i.name for i in demo_instances(2)] == names[:2]
    for bad in (0, MAX_INSTANCES + 1):
        with pytest.raises(ValueError, match="between 1 and"):
            demo_instances(bad)


def test_clock_moves_forward_and_stamps_messages() -> None:
    traffic = Traffic(demo_instances(1), seed=2, start=1_700_000_000)
    stamps = [e.data["messageTimestamp"] for e in traffic.take(300) if e.event.wire == "messages.upsert"]
    assert stamps == sorted(stamps)
    assert 1_700_000_000 <= stamps[0] <= traffic.now
    with pytest.raises(ValueError):
        Traffic([], seed=1)


def test_the_live_demos_timestamps_follow_the_wall_clock() -> None:
    """Ten minutes of the demo stamp ten minutes, not the ~13x faster simulated clock (the same events)."""
    now = [1_800_000_000.0]
    traffic = Traffic(demo_instances(), seed=1, wall=lambda: now[0])
    stamps: list[int] = []
    for _ in range(6000):  # 10 events/s for ten minutes
        now[0] += 0.1
        item = next(traffic)
        data = item.data if isinstance(item.data, dict) else {}
        if isinstance(data.get("messageTimestamp"), int):
            stamps.append(data["messageTimestamp"])
    assert stamps and max(stamps) <= now[0] + 1 and min(stamps) >= 1_800_000_000
    assert traffic.now <= now[0] + 1
    simulated = Traffic(demo_instances(), seed=1, start=1_800_000_000.0)
    simulated.take(6000)
    assert simulated.now - 1_800_000_000 > 3600  # the simulated clock runs far ahead: the test can fail
    assert [e.event for e in Traffic(demo_instances(), seed=1, wall=lambda: now[0]).take(200)] == [
        e.event for e in Traffic(demo_instances(), seed=1).take(200)
    ]
