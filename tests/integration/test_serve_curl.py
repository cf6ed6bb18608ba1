"""``evokafka serve`` as a process, driven by the integration document's own ``curl``, on the real broker.

The command is the document's "Per-Instance Configuration" example, character for character, with only the
host and the key changed; it runs in ``bash`` with the real ``curl`` binary. What it stores is read back by an
independent :class:`InstanceRegistry` (through the cluster, live), and the answer is Evolution API's 201 record
(``KafkaRouter`` in EvolutionAPI/evolution-api ``src/api/integrations/event/kafka/kafka.router.ts``).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import async_wait_until
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.kafka.registry import InstanceRegistry

pytestmark = pytest.mark.broker

KEY = "evk-curl-5b1f0e7d9a2c4e68"

DOC_CURL = """curl -X POST https://your-api.com/kafka/set/instance_name \\
-H "apikey: YOUR_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{
"kafka": {
"enabled": true,
"events": [
"MESSAGES_UPSERT",
"MESSAGES_UPDATE",
"QRCODE_UPDATED",
"CONNECTION_UPDATE"
]
}
}'"""
"""The integration document's command, as written there."""

CURL = shutil.which("curl")


class ServeProcess:
    """``python -m tui serve …`` in a subprocess; its output read by a thread, waited for with a bound."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stdout is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first output line matching ``pattern``; fails after ``timeout`` or if the process ends first."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; saw {self.seen}") from None
            self.seen.append(line)
            if match := regex.search(line):
                return match

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> tuple[int, str]:
        """Send ``sig`` and wait (bounded) for the exit; returns (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("evokafka serve did not stop on the signal") from None
        assert self.proc.stderr is not None
        return self.proc.returncode, self.proc.stderr.read()


@pytest.fixture
def topic(prefix: str) -> str:
    """A registry topic of this test's own."""
    return f"__evokafka_instances_{prefix}"


@pytest.fixture
def env(settings: KafkaSettings, topic: str) -> dict[str, str]:
    """The subprocess's environment: the session broker, this test's prefix and registry topic, no proxies."""
    out = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    out.update(
        KAFKA_BROKERS=",".join(settings.brokers),
        KAFKA_TOPIC_PREFIX=settings.topic_prefix,
        EVOKAFKA_REGISTRY_TOPIC=topic,
        NO_PROXY="*",
    )
    return out


StartServe = Callable[..., ServeProcess]


@pytest.fixture
def start_serve(env: dict[str, str], tmp_path: Path) -> Iterator[StartServe]:
    """Start ``evokafka serve`` processes (in an empty folder: no ``.env`` is picked up); all stopped at the end."""
    started: list[ServeProcess] = []

    def start(args: list[str], extra_env: dict[str, str] | None = None) -> ServeProcess:
        process = ServeProcess(args, {**env, **(extra_env or {})}, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


@pytest.fixture
async def independent(settings: KafkaSettings, topic: str) -> AsyncIterator[InstanceRegistry]:
    """A registry of the test's own on the same topic, started before the server writes anything."""
    async with InstanceRegistry(settings, topic=topic) as running:
        yield running


def doc_curl(url: str, key: str, with_status: bool = False) -> tuple[str, str]:
    """Run the document's curl with the host and the key changed; (body, HTTP status when asked for).

    Without a curl binary, the same request is sent byte for byte as curl sends it, over a plain socket.
    """
    command = DOC_CURL.replace("https://your-api.com", url).replace("YOUR_API_KEY", key)
    if CURL is not None:
        if with_status:
            command += " -w '\\n%{http_code}'"
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        body, _, status = done.stdout.rpartition("\n") if with_status else (done.stdout, "", "")
        return body, status
    return _as_curl_sends_it(url, key)


def _as_curl_sends_it(url: str, key: str) -> tuple[str, str]:
    host_port = url.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    payload = DOC_CURL.split("-d '", 1)[1].removesuffix("'").encode()
    request = (
        f"POST /kafka/set/instance_name HTTP/1.1\r\nHost: {host_port}\r\nUser-Agent: curl/7.88.1\r\n"
        f"Accept: */*\r\napikey: {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return body.decode(), head.split(b" ", 2)[1].decode()


LISTENING = r"listening on (http://127\.0\.0\.1:\d+)"


async def test_the_documents_curl_updates_the_registry_live(
    start_serve: StartServe, independent: InstanceRegistry
) -> None:
    changes: list[tuple[str, InstanceSettings | None]] = []
    independent.subscribe(lambda name, settings: changes.append((name, settings)))
    serve = start_serve(["--port", "0", "--apikey", KEY, "--instance", "instance_name"])
    url = serve.wait_for(LISTENING).group(1)

    body, _ = doc_curl(url, KEY)
    record = json.loads(body)
    assert record["enabled"] is True
    assert record["events"] == ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED", "CONNECTION_UPDATE"]  # as sent
    assert set(record) == {"id", "enabled", "events", "createdAt", "updatedAt", "instanceId"}

    # An independent registry sees the change through the cluster, as a live update.
    await async_wait_until(lambda: any(name == "instance_name" for name, _ in changes))
    stored = independent.get("instance_name")
    assert stored is not None and stored.enabled
    assert stored.events == ("QRCODE_UPDATED", "CONNECTION_UPDATE", "MESSAGES_UPSERT", "MESSAGES_UPDATE")
    assert stored.updated_at == record["updatedAt"]

    code, stderr = serve.stop(signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    serve.wait_for(r"evokafka serve: stopped", timeout=5)


async def test_the_documents_curl_with_a_wrong_key_is_401_and_changes_nothing(
    start_serve: StartServe, independent: InstanceRegistry
) -> None:
    serve = start_serve(["--port", "0", "--instance", "instance_name"], {"EVOLUTION_API_KEY": KEY})
    url = serve.wait_for(LISTENING).group(1)
    body, status = doc_curl(url, "not-the-key", with_status=True)
    assert status == "401"
    assert json.loads(body) == {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
    # The key from EVOLUTION_API_KEY is masked where serve says it listens.
    assert KEY not in "\n".join(serve.seen)
    assert independent.get("instance_name") is None
    serve.stop(signal.SIGTERM)


async def test_read_only_serve_answers_403_with_a_clear_message(
    start_serve: StartServe, independent: InstanceRegistry
) -> None:
    serve = start_serve(["--port", "0", "--apikey", KEY, "--instance", "instance_name"],
                        {"EVOKAFKA_READ_ONLY": "true"})
    url = serve.wait_for(LISTENING + r".*read-only").group(1)
    body, status = doc_curl(url, KEY, with_status=True)
    assert status == "403"
    assert json.loads(body)["response"]["message"] == ["evokafka serve runs read-only: /kafka/set is refused"]
    assert independent.get("instance_name") is None
    serve.stop()


def test_serve_refuses_to_start_without_a_key(env: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", "0"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30, check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "evokafka: no API key: give --apikey KEY, set EVOLUTION_API_KEY, or pass --no-auth"
    ]


def test_serve_refuses_an_empty_instance_name(env: dict[str, str], tmp_path: Path) -> None:
    # Evolution allows names a Kafka topic cannot hold ("Loja Centro"): serve too; an empty one is refused.
    done = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--no-auth", "--instance", " "],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30, check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "illegal instance name '': it is empty" in done.stderr


def test_a_port_in_use_is_one_line(start_serve: StartServe, env: dict[str, str], tmp_path: Path) -> None:
    first = start_serve(["--port", "0", "--no-auth"])
    port = first.wait_for(r"listening on http://127\.0\.0\.1:(\d+)").group(1)
    done = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", port, "--no-auth"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"evokafka: cannot listen on 127.0.0.1:{port}: address already in use"]
    first.stop()
