"""``evokafka publish --count N`` accounts for every one of N: a routing change mid-run (the instance disabled in
the registry) is one line when it happens, the records after it are "skipped" with the rule that stopped them,
``acknowledged + skipped + failed + lost = N`` in the summary, and the run exits non-zero."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.conftest import async_wait_until
from tests.faults.conftest import start_publish
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker
from tui.kafka.registry import InstanceRegistry


async def test_routing_change_mid_run_is_said_and_counted(
    broker: EmbeddedBroker, settings: KafkaSettings, prefix: str, tmp_path: Path
) -> None:
    count = 600
    async with InstanceRegistry(settings, topic=f"reg_{prefix}") as registry:
        await registry.set_request("acme", True, ["MESSAGES_UPSERT"])
        run = await start_publish(
            broker.bootstrap, prefix, tmp_path, "messages.upsert", "-i", "acme",
            "--count", str(count), "--rate", "200", "--json", KAFKA_GLOBAL_ENABLED="false",
        )
        try:
            await async_wait_until(lambda: run.acknowledged() >= 100, timeout=30)
            await registry.disable("acme")
            code = await run.wait(timeout=60)
        finally:
            run.kill()
    errors = "\n".join(line for _, line in run.stderr)
    assert code == 1, errors
    changes = [line for _, line in run.stderr if line.startswith("route changed at record")]
    assert len(changes) == 1 and "nowhere" in changes[0], errors
    summary = run.summary()
    skipped = int(summary["skipped"])  # type: ignore[call-overload]
    acknowledged = int(summary["acknowledged"])  # type: ignore[call-overload]
    assert acknowledged >= 100 and skipped > 0
    assert acknowledged + skipped + int(summary["failed"]) + int(summary["lost"]) == count  # type: ignore[call-overload]
    reasons = summary["skipped_reasons"]
    assert isinstance(reasons, dict) and sum(reasons.values()) == skipped
    assert any("disabled" in reason for reason in reasons), reasons
    finals = run.final_statuses()
    assert sorted(finals) == list(range(count))
    assert Counter(str(line["status"]) for line in finals.values()) == {"acknowledged": acknowledged, "skipped": skipped}
    assert f"accounted: {count} records = acknowledged {acknowledged} + skipped {skipped}" in errors
