"""``evokafka demo --no-ui``: the traffic reaches exactly the planned topics, read by a foreign client.

The demo runs as a subprocess against the session broker (``--brokers``) for a bounded time. Since the same
seed gives the same traffic, the test regenerates the events the demo says it published and routes them
itself: what confluent-kafka reads must be exactly that, topic by topic and key by key, in order per key.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from typing import Any

import orjson
import pytest
from confluent_kafka.admin import AdminClient

from tests.foreign import read_all
from tui.config import load_settings
from tui.demo.broker import EmbeddedBroker
from tui.demo.traffic import Traffic, demo_instances, seed_settings
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.topology import Layout, parse_topic, route, topic_plan

FINAL = re.compile(r"stopped · (\d+) events · (\d+) records acked · (\d+) failed · (\d+) routed nowhere")
# Fields stamped from the clock: the same seed gives the same traffic apart from these.
TIME_FIELDS = {"messageTimestamp", "subjectTime", "creation", "date", "timestampMs"}


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in TIME_FIELDS}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _demo(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "demo", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_"))}
    env.update(extra)
    return env


@pytest.mark.broker
def test_demo_no_ui_publishes_the_planned_traffic(broker: EmbeddedBroker, prefix: str) -> None:
    env = _env(KAFKA_TOPIC_PREFIX=prefix, EVOKAFKA_REGISTRY_TOPIC=f"{prefix}_registry")
    done = _demo(
        ["--no-ui", "--seed", "1", "--duration", "3", "--rate", "100", "--brokers", broker.bootstrap], env
    )
    assert done.returncode == 0, done.stderr
    assert f"existing cluster at {broker.bootstrap}" in done.stdout
    final = FINAL.search(done.stdout)
    assert final, done.stdout
    events, acked, failed, nowhere = (int(g) for g in final.groups())
    assert events > 50 and failed == 0

    # What the demo must have sent: the same seed's first `events` events, routed by the design's rule.
    instances = demo_instances(5)
    registry = seed_settings(instances)
    settings = load_settings(None, environ={}, topic_prefix=prefix, global_enabled="true", **DOCUMENT_EVENT_FIELDS)
    expected: dict[tuple[str, str], list[Any]] = defaultdict(list)
    routed_nowhere = 0
    for item in Traffic(instances, seed=1).take(events):
        targets = route(settings, item.instance, item.event, registry[item.instance]).targets
        routed_nowhere += not targets
        for target in targets:
            expected[(target.topic, target.key)].append((item.event.wire, item.instance, _timeless(item.data)))
    assert sum(len(v) for v in expected.values()) == acked
    assert routed_nowhere == nowhere

    # Exactly the topics published to exist under the prefix, and all of them are in the plan.
    plan = {t.topic for t in topic_plan(settings, registry, layouts=[Layout.INSTANCE, Layout.GLOBAL])}
    names = set(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics)
    created = {n for n in names if n.startswith(prefix + ".")}
    assert created == {topic for topic, _ in expected}
    assert created <= plan

    records = read_all(broker.bootstrap, sorted(created), expected=acked, timeout=30)
    assert len(records) == acked
    seen: dict[tuple[str, str], list[Any]] = defaultdict(list)
    owners = {i.name: i for i in instances}
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        assert record.key is not None and record.value is not None
        key = record.key.decode()
        body = orjson.loads(record.value)
        headers = {k: v.decode() for k, v in record.headers}
        ref = parse_topic(record.topic, prefix)
        assert ref is not None
        instance = body["instance"]
        # Per-instance topics only for enabled instances and the events they list; global: KAFKA_EVENTS_*.
        if ref.layout is Layout.INSTANCE:
            assert ref.instance == instance and key == instance
            assert registry[instance].enables(ref.event)
        else:
            assert key == f"{instance}-{ref.event.wire}"
            assert settings.event_enabled(ref.event)
        assert body["event"] == ref.event.wire
        assert headers == {
            "event": ref.event.wire,
            "instance": instance,
            "origin": "WhatsApp",
            "timestamp": body["date_time"],
        }
        assert body["sender"] == owners[instance].owner
        assert body["apikey"] == owners[instance].apikey
        seen[(record.topic, key)].append((body["event"], instance, _timeless(body["data"])))
    # The same traffic, in the same order per key (same key → same partition → ordered).
    assert Counter({k: len(v) for k, v in seen.items()}) == Counter({k: len(v) for k, v in expected.items()})
    assert seen == expected
    # The disabled instance reached the global topics only.
    disabled = [i.name for i in instances if not i.settings.enabled]
    assert disabled and not any(t for t, _ in expected if any(f"{prefix}.{d}." in t for d in disabled))
    assert any(k.startswith(f"{disabled[0]}-") for _, k in expected)


@pytest.mark.broker
def test_demo_without_global_publishes_per_instance_only(broker: EmbeddedBroker, prefix: str) -> None:
    env = _env(KAFKA_TOPIC_PREFIX=prefix, EVOKAFKA_REGISTRY_TOPIC=f"{prefix}_registry")
    done = _demo(
        ["--no-ui", "--no-global", "--instances", "2", "--duration", "1.5", "--rate", "50",
         "--brokers", broker.bootstrap],
        env,
    )
    assert done.returncode == 0, done.stderr
    final = FINAL.search(done.stdout)
    assert final and int(final.group(2)) > 0 and int(final.group(3)) == 0
    names = set(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics)
    created = {n for n in names if n.startswith(prefix + ".")}
    assert created
    assert not any(n.startswith(f"{prefix}.global.") for n in created)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--rate", "0"], "--rate"),
        (["--instances", "0"], "--instances"),
        (["--instances", "51"], "--instances"),
        (["--duration", "-1"], "--duration"),
        (["--brokers", "not-a-broker"], "KAFKA_BROKERS"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    done = _demo(["--no-ui", *args], _env(), timeout=30)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_cluster_is_one_line() -> None:
    from tui.demo.broker import free_port

    env = _env(KAFKA_CONNECTION_TIMEOUT="500", KAFKA_REQUEST_TIMEOUT="1000")
    done = _demo(["--no-ui", "--duration", "1", "--brokers", f"127.0.0.1:{free_port()}"], env, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot reach" in done.stderr.strip().splitlines()[-1]
