"""Fixtures of the fault tests: a memory broker behind a link proxy, a durable three-broker cluster, and
``evokafka publish`` run as a user runs it, its stderr read while it runs.

Slow by nature (outages of seconds, S3 storage): marked ``slow``, part of the default run, each bounded.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from tests.foreign import read_all
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.durable import DurableCluster
from tui.demo.linkproxy import LinkProxy
from tui.evolution_env import DOCUMENT_EVENT_BLOCK


@pytest.fixture
def durable_cluster(tmp_path: Path) -> Iterator[DurableCluster]:
    """``moto_server`` and three Tansu brokers on one S3 bucket (a restarted broker keeps its data)."""
    with DurableCluster(tmp_path, size=3) as cluster:
        yield cluster


@dataclass
class Proxied:
    """A memory broker whose clients go through a link proxy (the broker advertises the proxy's port)."""

    broker: EmbeddedBroker
    proxy: LinkProxy

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxy.port}"


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[Proxied]:
    broker_port = free_port()
    proxy = await LinkProxy("127.0.0.1", broker_port).start()
    broker = EmbeddedBroker(port=broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
    try:
        yield Proxied(broker, proxy)
    finally:
        await proxy.stop()
        broker.stop()


@dataclass
class Run:
    """``evokafka publish`` running: its stderr lines with the time each arrived, its stdout lines."""

    process: asyncio.subprocess.Process
    started: float
    stderr: list[tuple[float, str]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def _read(self, stream: asyncio.StreamReader, into: str) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip("\n")
            if into == "stderr":
                self.stderr.append((time.monotonic(), text))
            else:
                self.stdout.append(text)

    def acknowledged(self) -> int:
        """Record lines that say acknowledged (``--json``)."""
        return sum(1 for line in self.stdout if '"status":"acknowledged"' in line)

    def said(self, text: str, after: float = 0.0) -> float | None:
        """When stderr first said ``text`` (after ``after``), or None."""
        return next((at for at, line in self.stderr if at >= after and text in line), None)

    async def wait(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout=timeout)
        await asyncio.gather(*self._readers)
        return code

    def summary(self) -> dict[str, object]:
        last = orjson.loads(self.stdout[-1])
        assert "summary" in last, self.stdout[-3:]
        summary: dict[str, object] = last["summary"]
        return summary

    def final_statuses(self) -> dict[int, dict[str, object]]:
        """The last line of each record number (a record lost after its acknowledgement has two)."""
        out: dict[int, dict[str, object]] = {}
        for line in self.stdout[:-1]:
            body = orjson.loads(line)
            out[int(body["n"])] = body
        return out

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


async def start_publish(bootstrap: str, prefix: str, cwd: Path, *args: str, **env: str) -> Run:
    """Start ``python -m tui --brokers BOOTSTRAP publish ARGS`` with a clean environment of the test's own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
    clean.update(DOCUMENT_EVENT_BLOCK)  # Evolution reads a missing KAFKA_EVENTS_* as false
    clean.update(
        KAFKA_TOPIC_PREFIX=prefix,
        KAFKA_AUTO_CREATE_TOPICS="true",
        KAFKA_GLOBAL_ENABLED="true",
        EVOKAFKA_REGISTRY_TOPIC=f"reg_{prefix}",
    )
    clean.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", "--brokers", bootstrap, "publish", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd, env=clean,
    )
    run = Run(process, time.monotonic())
    assert process.stdout is not None and process.stderr is not None
    run._readers = [
        asyncio.create_task(run._read(process.stdout, "stdout")),
        asyncio.create_task(run._read(process.stderr, "stderr")),
    ]
    return run


def read_until_quiet(bootstrap: str, topic: str, *, quiet: float = 3.0, timeout: float = 90.0) -> Counter[str]:
    """The foreign client reads ``topic`` from the beginning until nothing arrives for ``quiet`` seconds;
    returns how many times it saw each message id (the template gives every record its own)."""
    records = read_all(bootstrap, [topic], expected=10**9, timeout=timeout, quiet=quiet)
    seen: Counter[str] = Counter()
    for record in records:
        seen[orjson.loads(record.value or b"")["data"]["key"]["id"]] += 1
    return seen
