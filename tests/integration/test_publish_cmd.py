"""``evokafka publish`` as a user runs it: a subprocess against the real broker, read back by confluent-kafka."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.foreign import read_all
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.evolution_env import DOCUMENT_EVENT_BLOCK
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry


class Cli:
    """Runs ``python -m tui --brokers … publish …`` with a clean environment of the test's own."""

    def __init__(self, bootstrap: str, prefix: str, cwd: Path) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.cwd = cwd
        self.registry_topic = f"reg_{prefix}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
        self.env.update(
            KAFKA_TOPIC_PREFIX=prefix,
            KAFKA_AUTO_CREATE_TOPICS="true",
            KAFKA_CONNECTION_TIMEOUT="1000",
            KAFKA_REQUEST_TIMEOUT="5000",
            EVOKAFKA_REGISTRY_TOPIC=self.registry_topic,
            **DOCUMENT_EVENT_BLOCK,  # Evolution reads a missing KAFKA_EVENTS_* as false
        )

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", "--brokers", self.bootstrap, "publish", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.cwd,
            env={**self.env, **env},
            check=False,
        )


@pytest.fixture
def cli(broker: EmbeddedBroker, prefix: str, tmp_path: Path) -> Cli:
    return Cli(broker.bootstrap, prefix, tmp_path)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_global_route_with_the_template(cli: Cli, broker: EmbeddedBroker) -> None:
    done = cli("messages.upsert", "--instance", "acme", KAFKA_GLOBAL_ENABLED="true")
    assert done.returncode == 0, done.stderr
    topic = f"{cli.prefix}.global.messages.upsert"
    line = one_line(done.stdout)
    assert re.fullmatch(rf"{re.escape(topic)} partition=0 offset=\d+ key=acme-messages\.upsert", line)
    assert "route: global: instance has no Kafka settings; KAFKA_EVENTS_MESSAGES_UPSERT=true" in done.stderr
    assert "refused idempotence" in done.stderr  # this broker's refusal is said, not hidden
    [record] = read_all(broker.bootstrap, [topic], expected=1)
    assert record.value is not None
    body = orjson.loads(record.value)
    assert body["event"] == "messages.upsert" and body["instance"] == "acme"
    assert body["data"]["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert body["data"]["message"]["conversation"]
    assert dict(record.headers)["origin"] == b"WhatsApp"


def test_an_evolution_legal_name_goes_to_the_global_topic(cli: Cli, broker: EmbeddedBroker) -> None:
    # "Loja Centro" cannot name a Kafka topic, but Evolution API allows it: the global topic is enough.
    done = cli("call", "--instance", "Loja Centro", KAFKA_GLOBAL_ENABLED="true")
    assert done.returncode == 0, done.stderr
    topic = f"{cli.prefix}.global.call"
    assert one_line(done.stdout).endswith("key=Loja Centro-call")
    [record] = read_all(broker.bootstrap, [topic], expected=1)
    assert record.key == b"Loja Centro-call" and orjson.loads(record.value or b"{}")["instance"] == "Loja Centro"
    empty = cli("call", "--instance", " ", KAFKA_GLOBAL_ENABLED="true")
    assert empty.returncode == 2 and "illegal instance name" in one_line(empty.stderr)


def test_nowhere_is_said_and_is_not_an_error(cli: Cli, settings: KafkaSettings) -> None:
    done = cli("MESSAGES_UPSERT", "--instance", "ghost")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "nowhere: instance has no Kafka settings; KAFKA_GLOBAL_ENABLED=false" in done.stderr
    assert "nothing sent" in done.stderr

    async def topics() -> set[str]:
        async with Admin(ConnectionOptions.from_settings(settings)) as admin:
            return {n for n in await admin.topic_names() if n.startswith(cli.prefix + ".")}

    assert asyncio.run(topics()) == set()


def test_kafka_disabled_publishes_nothing(cli: Cli) -> None:
    done = cli("call", "--instance", "acme", KAFKA_ENABLED="false", KAFKA_GLOBAL_ENABLED="true")
    assert done.returncode == 0
    assert "nowhere: KAFKA_ENABLED=false" in done.stderr and done.stdout == ""


def test_per_instance_route_follows_the_cluster_registry(cli: Cli, settings: KafkaSettings) -> None:
    async def enable() -> None:
        registry = InstanceRegistry(settings, topic=cli.registry_topic)
        await registry.start()
        try:
            await registry.set_request("shop", True, ["MESSAGES_UPSERT"])
        finally:
            await registry.stop()

    asyncio.run(enable())
    done = cli("messages.upsert", "--instance", "shop")
    assert done.returncode == 0, done.stderr
    assert one_line(done.stdout).startswith(f"{cli.prefix}.shop.messages.upsert partition=0 offset=0 key=shop")
    assert "route: per-instance: instance enabled for this event" in done.stderr
    other = cli("CALL", "--instance", "shop")
    assert other.returncode == 0 and other.stdout == ""
    assert "nowhere: event not in the instance's list" in other.stderr


def test_data_inline_file_and_stdin_with_body_fields(cli: Cli, broker: EmbeddedBroker, tmp_path: Path) -> None:
    file = tmp_path / "data.json"
    file.write_text('{"from": "file"}')
    extra = ["--sender", "5511988887777", "--server-url", "https://evo.example.com", "--apikey", "k-123", "--json"]
    runs = [
        cli("call", "-i", "acme", "--data", '{"from": "inline"}', *extra, KAFKA_GLOBAL_ENABLED="true"),
        cli("call", "-i", "acme", "--data", f"@{file}", *extra, KAFKA_GLOBAL_ENABLED="true"),
        cli("call", "-i", "acme", "--data", "-", *extra, stdin='{"from": "stdin"}', KAFKA_GLOBAL_ENABLED="true"),
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr
        line = orjson.loads(one_line(done.stdout))
        assert line["topic"] == f"{cli.prefix}.global.call" and line["key"] == "acme-call"
        assert line["error"] is None and isinstance(line["offset"], int)
    records = read_all(broker.bootstrap, [f"{cli.prefix}.global.call"], expected=3)
    bodies = [orjson.loads(r.value or b"") for r in sorted(records, key=lambda r: r.offset)]
    assert [b["data"] for b in bodies] == [{"from": "inline"}, {"from": "file"}, {"from": "stdin"}]
    for body in bodies:
        assert (body["sender"], body["server_url"], body["apikey"]) == (
            "5511988887777",
            "https://evo.example.com",
            "k-123",
        )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["messages.upsert", "-i", "acme", "--data", "{not json"], "invalid JSON in --data"),
        (["messages.upsert", "-i", "acme", "--data", "@/nonexistent/x.json"], "cannot read the file"),
        (["MESSAGES_UPSRT", "-i", "acme"], "unknown event 'MESSAGES_UPSRT'; did you mean MESSAGES_UPSERT"),
        (["messages.upsert", "-i", "bad/name"], "illegal instance name 'bad/name'"),
        (["messages.upsert", "-i", "global"], "illegal instance name 'global'"),
        (["messages.upsert", "-i", "acme", "--count", "0"], "--count"),
        (["messages.upsert", "-i", "acme", "--count", "1000000001"], "--count"),
        (["messages.upsert", "-i", "acme", "--count", "99999999999999999999999"], "--count"),
        (["messages.upsert", "-i", "acme", "--rate", "nan"], "--rate"),
        (["messages.upsert", "-i", "acme", "--rate", "1e-300"], "--rate"),
        (["messages.upsert", "-i", "acme", "--rate", "inf"], "--rate"),
        (["messages.upsert", "-i", "acme", "--rate", "-5"], "--rate"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: list[str], says: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert says in one_line(done.stderr)
    assert done.stdout == ""


def test_read_only_refuses(cli: Cli) -> None:
    done = cli("call", "-i", "acme", EVOKAFKA_READ_ONLY="true", KAFKA_GLOBAL_ENABLED="true")
    assert done.returncode == 2
    assert "read-only" in one_line(done.stderr)


def test_unreachable_broker_is_one_line_exit_1(tmp_path: Path, prefix: str) -> None:
    refused = Cli(f"127.0.0.1:{free_port()}", prefix, tmp_path)
    started = time.monotonic()
    done = refused("call", "-i", "acme", KAFKA_GLOBAL_ENABLED="true", timeout=30)
    assert done.returncode == 1
    assert "cannot reach the cluster" in one_line(done.stderr)
    assert time.monotonic() - started < 15


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a firewalled or hung broker)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_silent_broker_times_out_instead_of_hanging(tmp_path: Path, prefix: str, black_hole: int) -> None:
    silent = Cli(f"127.0.0.1:{black_hole}", prefix, tmp_path)
    started = time.monotonic()
    done = silent("call", "-i", "acme", KAFKA_GLOBAL_ENABLED="true", timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert "cannot reach the cluster" in one_line(done.stderr)
    assert 1.0 <= elapsed < 15  # after KAFKA_CONNECTION_TIMEOUT (1 s), not forever


def test_count_10000_finishes_with_a_summary(cli: Cli, broker: EmbeddedBroker) -> None:
    done = cli("messages.upsert", "-i", "acme", "--count", "10000", KAFKA_GLOBAL_ENABLED="true", timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    lines = done.stdout.splitlines()
    assert len(lines) == 10_000
    offsets = [int(re.search(r"offset=(\d+)", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert offsets == sorted(offsets) and len(set(offsets)) == 10_000
    assert re.search(r"sent 10000, acknowledged 10000, failed 0 in [\d.]+s \([\d,]+ records/s\)", done.stderr)
    records = read_all(broker.bootstrap, [f"{cli.prefix}.global.messages.upsert"], expected=10_000, timeout=60)
    assert len(records) == 10_000
    ids = {orjson.loads(r.value or b"")["data"]["key"]["id"] for r in records}
    assert len(ids) == 10_000  # the template varies message ids per record


def test_count_with_rate_and_json_summary(cli: Cli) -> None:
    started = time.monotonic()
    done = cli("call", "-i", "acme", "--count", "5", "--rate", "20", "--json", KAFKA_GLOBAL_ENABLED="true")
    assert done.returncode == 0, done.stderr
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 6
    assert lines[-1]["summary"]["sent"] == 5 and lines[-1]["summary"]["acknowledged"] == 5
    assert lines[-1]["summary"]["failed"] == 0
    assert [line["offset"] for line in lines[:5]] == [0, 1, 2, 3, 4]
    assert time.monotonic() - started >= 0.2  # 5 records at 20/s take at least 0.2 s
