"""``evokafka instances export`` / ``import FILE``: a copy of the registry, put back after the broker lost it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import async_wait_until
from tui.config import load_settings
from tui.demo.broker import EmbeddedBroker
from tui.kafka.registry import InstanceRegistry


def evokafka(bootstrap: str, prefix: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
    clean.update(KAFKA_TOPIC_PREFIX=prefix, EVOKAFKA_REGISTRY_TOPIC=f"reg_{prefix}", KAFKA_CONNECTION_TIMEOUT="1000")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", bootstrap, "instances", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=clean, check=False,
    )


async def test_export_then_import_after_an_empty_restart(own_broker: EmbeddedBroker, prefix: str, tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, brokers=own_broker.bootstrap, topic_prefix=prefix)
    async with InstanceRegistry(settings, topic=f"reg_{prefix}") as registry:
        await registry.set_request("ana", True, ["MESSAGES_UPSERT"])
        await registry.set_request("bob", False, [])
        held = registry.all()
    copy = tmp_path / "registry.json"
    done = evokafka(own_broker.bootstrap, prefix, tmp_path, "export", "--output", str(copy))
    assert done.returncode == 0, done.stderr
    assert "exported 2 instance(s)" in done.stderr
    body = orjson.loads(copy.read_bytes())
    assert sorted(body["instances"]) == ["ana", "bob"]

    own_broker.stop()
    own_broker.start()  # empty: the registry is gone

    refused = evokafka(own_broker.bootstrap, prefix, tmp_path, "import", str(copy), EVOKAFKA_READ_ONLY="true")
    assert refused.returncode == 2 and "read-only" in refused.stderr
    done = evokafka(own_broker.bootstrap, prefix, tmp_path, "import", str(copy))
    assert done.returncode == 0, done.stderr
    assert "restored 2 instance(s) (ana, bob); 0 already as in" in done.stdout
    again = evokafka(own_broker.bootstrap, prefix, tmp_path, "import", str(copy))
    assert "restored 0 instance(s) (none); 2 already as in" in again.stdout
    async with InstanceRegistry(settings, topic=f"reg_{prefix}", read_only=True) as reader:
        await async_wait_until(lambda: reader.all() == held, timeout=10)  # updated_at kept as exported


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not JSON"),
        ('{"x": 1}', "not a registry copy"),
        ('{"instances": {"bad/name": {"enabled": true, "events": []}}}', "illegal instance name"),
        ('{"instances": {"ana": 5}}', "instance 'ana'"),
    ],
)
def test_bad_copy_is_one_line_exit_2(tmp_path: Path, prefix: str, content: str, says: str) -> None:
    path = tmp_path / "copy.json"
    path.write_text(content)
    done = evokafka("127.0.0.1:1", prefix, tmp_path, "import", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr


def test_import_of_a_directory_is_refused(tmp_path: Path, prefix: str) -> None:
    done = evokafka("127.0.0.1:1", prefix, tmp_path, "import", str(tmp_path))
    assert done.returncode == 2 and "not a regular file" in done.stderr
