"""``evokafka publish`` through outages on the fast memory broker, as a user runs it (a subprocess), with the
records counted by a foreign client (confluent-kafka, partitions assigned, read from the beginning).

- A silent link cut (no reset: a pulled cable): stderr says "stalled" within 3 s with the default
  ``KAFKA_REQUEST_TIMEOUT`` (30 s), and once the link returns every record is acknowledged.
- The broker restarted empty: the records it had acknowledged are gone; the run says they were lost, counts
  them so (never as acknowledged) and exits non-zero.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import async_wait_until
from tests.faults.conftest import Proxied, read_until_quiet, start_publish
from tui.demo.broker import EmbeddedBroker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

TOPIC = "{prefix}.global.messages.upsert"


async def test_silent_cut_is_said_within_3s_and_every_record_lands(
    proxied: Proxied, prefix: str, tmp_path: Path
) -> None:
    count = 1500
    run = await start_publish(
        proxied.bootstrap, prefix, tmp_path, "messages.upsert", "-i", "acme",
        "--count", str(count), "--rate", "150", "--json",
    )
    try:
        await async_wait_until(lambda: run.acknowledged() >= 150, timeout=30)
        await proxied.proxy.cut_silently()
        cut_at = asyncio.get_running_loop().time()
        await async_wait_until(lambda: run.said("publisher: stalled", after=cut_at) is not None, timeout=10)
        said_at = run.said("publisher: stalled", after=cut_at)
        assert said_at is not None and said_at - cut_at <= 3.0, f"stalled said after {said_at - cut_at:.1f}s"
        # Hold the cut long enough for the probe to give up: the reconnect schedule runs and says so.
        await async_wait_until(lambda: run.said("publisher: reconnecting", after=cut_at) is not None, timeout=15)
        await proxied.proxy.restore()
        restored_at = asyncio.get_running_loop().time()
        code = await run.wait(timeout=120)
    finally:
        run.kill()
    errors = "\n".join(line for _, line in run.stderr)
    assert code == 0, errors[-2000:]
    assert run.said("publisher: connected", after=restored_at) is not None, errors
    summary = run.summary()
    assert summary["acknowledged"] == count and summary["lost"] == 0 and summary["failed"] == 0, summary
    finals = run.final_statuses()
    assert sorted(finals) == list(range(count))
    assert all(line["status"] == "acknowledged" for line in finals.values())
    seen = await asyncio.to_thread(read_until_quiet, proxied.broker.bootstrap, TOPIC.format(prefix=prefix))
    assert len(seen) == count  # every record is there
    duplicates = sum(n - 1 for n in seen.values())
    assert duplicates == summary["duplicates_seen"], (duplicates, summary)
    assert duplicates <= int(summary["resent"])  # type: ignore[call-overload]


async def test_empty_restart_loses_acknowledged_records_and_says_so(
    own_broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    count = 1500
    run = await start_publish(
        own_broker.bootstrap, prefix, tmp_path, "messages.upsert", "-i", "acme",
        "--count", str(count), "--rate", "300", "--json",
        KAFKA_CONNECTION_TIMEOUT="1000", KAFKA_RECONNECT_INITIAL_DELAY_MS="200",
    )
    try:
        await async_wait_until(lambda: run.acknowledged() >= 300, timeout=30)
        # Blocking on purpose: stopped and started again on the same port, empty (memory storage).
        own_broker.stop()
        own_broker.start()
        code = await run.wait(timeout=120)
    finally:
        run.kill()
    errors = "\n".join(line for _, line in run.stderr)
    assert code == 1, errors[-2000:]
    assert "lost by the cluster" in errors
    summary = run.summary()
    lost = int(summary["lost"])  # type: ignore[call-overload]
    acknowledged = int(summary["acknowledged"])  # type: ignore[call-overload]
    assert lost >= 300, summary
    assert acknowledged + lost + int(summary["failed"]) + int(summary["skipped"]) == count  # type: ignore[call-overload]
    finals = run.final_statuses()
    assert sorted(finals) == list(range(count))
    by_status = Counter(str(line["status"]) for line in finals.values())
    assert by_status["acknowledged"] == acknowledged and by_status["lost"] == lost
    # What the reader sees is what the run still calls acknowledged: nothing it calls acknowledged is missing.
    seen = await asyncio.to_thread(read_until_quiet, own_broker.bootstrap, TOPIC.format(prefix=prefix))
    assert len(seen) == acknowledged
