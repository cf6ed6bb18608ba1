"""A registry value over the size of any real entry is refused before it is parsed (a 5 MB garbage record costs
its fetch, not a parse into millions of objects) and reported with its key, offset and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

import orjson
import pytest

from tui.config import KafkaSettings
from tui.instance_settings import MAX_STORED_BYTES
from tui.kafka.doctor.cluster import RegistryReading
from tui.kafka.doctor.runner import run_doctor
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry

pytestmark = pytest.mark.broker


async def test_oversized_values_are_skipped_unparsed_and_reported(settings: KafkaSettings, prefix: str) -> None:
    topic = f"reg_{prefix}"
    async with InstanceRegistry(settings, topic=topic) as writer:
        stored = await writer.set_request("shop", True, ["CALL"])
    garbage = orjson.dumps(list(range(700_000)))  # about 5 MB, millions of objects once parsed
    assert len(garbage) > 4_000_000
    producer = ConnectionOptions.from_settings(settings).producer(max_request_size=8 * 2**20, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, garbage, key=b"bloat")
        small_but_over = b'{"enabled": true, "events": [], "pad": "' + b"x" * MAX_STORED_BYTES + b'"}'
        over = await producer.send_and_wait(topic, small_but_over, key=b"padded")
    finally:
        await producer.stop()

    tracemalloc.start()
    try:
        async with InstanceRegistry(settings, topic=topic, read_only=True) as reader:
            _, peak = tracemalloc.get_traced_memory()
            assert reader.all() == {"shop": stored}
            problems = {(p.key, p.offset): p.reason for p in reader.problems}
    finally:
        tracemalloc.stop()
    assert set(problems) == {("bloat", sent.offset), ("padded", over.offset)}
    assert f"value of {len(garbage):,} bytes is over the {MAX_STORED_BYTES:,}-byte limit" in problems[
        ("bloat", sent.offset)
    ]
    # Parsed, the garbage alone would take tens of MB of objects; unparsed it costs about its own bytes.
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.0f} MiB"

    # `instances list` reports every skipped record (key, offset, why) on stderr; stdout stays its table or JSON.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_"))}
    env.update(KAFKA_BROKERS=",".join(settings.brokers), KAFKA_TOPIC_PREFIX=prefix, EVOKAFKA_REGISTRY_TOPIC=topic)
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui", "instances", "list", *extra], capture_output=True, text=True, env=env,
            timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr
        warnings = [line for line in done.stderr.splitlines() if "registry record skipped" in line]
        assert len(warnings) == 2, done.stderr
        assert f"key 'bloat' at offset {sent.offset}: value of {len(garbage):,} bytes" in warnings[0]
        if extra:
            assert [item["name"] for item in json.loads(done.stdout)] == ["shop"]

    # The doctor names each skipped record too (a warning: an instance may be missing its settings).
    doctor = subprocess.run(
        [sys.executable, "-m", "tui", "doctor", "--json"], capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )
    checks = [c for c in json.loads(doctor.stdout)["checks"] if c["check"] == "registry.record"]
    assert {(c["subject"], c["status"]) for c in checks} == {("bloat", "warn"), ("padded", "warn")}, checks
    assert any(f"offset {sent.offset}" in c["detail"] and "bytes" in c["detail"] for c in checks)


async def test_the_doctor_of_a_console_names_what_its_registry_skipped(settings: KafkaSettings, prefix: str) -> None:
    topic = f"reg_{prefix}"
    producer = ConnectionOptions.from_settings(settings).producer(acks="all")
    await producer.start()
    try:
        bad = await producer.send_and_wait(topic, b"{not json", key=b"broken")
    finally:
        await producer.stop()
    # The console's way: the registry it follows already, asked from memory.
    async with InstanceRegistry(settings, topic=topic, read_only=True) as followed:
        report = await run_doctor(settings, registry_topic=topic, instances=RegistryReading.following(followed))
    skipped = [r for r in report.results if r.check == "registry.record"]
    assert [(r.subject, r.status.value) for r in skipped] == [("broken", "warn")]
    assert f"offset {bad.offset}" in skipped[0].detail and "not JSON" in skipped[0].detail
