"""TLS end to end: the real broker behind a TLS-terminating proxy on loopback, certificates made by the test.

Every client of the project takes its SSL context from ``ConnectionOptions.from_settings``; these tests go
through that path (admin, producer, stream reader, the CLI) and check what the reference promises:
verification on by default, a self-signed certificate refused unless ``KAFKA_SSL_REJECT_UNAUTHORIZED=false``,
a custom CA accepted, a client certificate presented when configured, and bad files reported in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from tests.tlsproxy import CertificateAuthority, Issued, TlsProxy, self_signed
from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.errors import FailureKind, diagnose, explain
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError
from tui.kafka.tail import read
from tui.selection import StartPosition

pytestmark = pytest.mark.broker


class TlsCluster:
    """A broker whose advertised listener is a TLS proxy in front of it."""

    def __init__(self, folder: Path, server: Issued, client_ca: Path | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.broker_port = free_port()
        self.proxy = TlsProxy("127.0.0.1", self.broker_port, server, client_ca=client_ca).start()
        self.broker = EmbeddedBroker(
            self.broker_port, advertised_port=self.proxy.port, log_path=folder / "tansu.log"
        ).start()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxy.port}"

    def close(self) -> None:
        self.broker.stop()
        self.proxy.stop()

    def settings(self, **overrides: Any) -> KafkaSettings:
        values: dict[str, Any] = {
            "brokers": self.bootstrap,
            "ssl_enabled": "true",
            "connection_timeout": "2000",
            "request_timeout": "5000",
            "topic_prefix": "tls",
        }
        values.update(overrides)
        return load_settings(None, environ={}, **values)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority(tmp_path / "ca")


@pytest.fixture
def signed_cluster(tmp_path: Path, ca: CertificateAuthority) -> Iterator[TlsCluster]:
    cluster = TlsCluster(tmp_path, ca.issue("broker"))
    yield cluster
    cluster.close()


async def _round_trip(settings: KafkaSettings, topic: str) -> list[bytes | None]:
    """Create ``topic``, produce one record and read it back, all over the configured TLS."""
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"over":"tls"}', key=b"k")
    finally:
        await producer.stop()
    values: list[bytes | None] = []
    async for batch in read(options, [topic], StartPosition("earliest"), stop_at_end=True):
        values.extend(r.value for r in batch)
    return values


async def _refusal(settings: KafkaSettings) -> ClusterUnreachableError:
    with pytest.raises(ClusterUnreachableError) as caught:
        await Admin(ConnectionOptions.from_settings(settings)).start()
    return caught.value


async def test_custom_ca_accepted_end_to_end(signed_cluster: TlsCluster, ca: CertificateAuthority) -> None:
    values = await _round_trip(signed_cluster.settings(ssl_ca=str(ca.cert)), "tls.custom-ca")
    assert values == [b'{"over":"tls"}']


async def test_verification_is_on_by_default(signed_cluster: TlsCluster) -> None:
    # No KAFKA_SSL_CA: the system store does not know the test's CA, so the broker is refused.
    settings = signed_cluster.settings()
    assert settings.ssl_reject_unauthorized is True
    await _refusal(settings)
    from tui.kafka.doctor.probe import probe_connection

    problem = await probe_connection("127.0.0.1", signed_cluster.proxy.port, ConnectionOptions.from_settings(settings))
    assert problem is not None
    assert diagnose(problem).kind is FailureKind.TLS_VERIFY
    assert "not signed by a trusted CA" in explain(problem)


async def test_self_signed_refused_unless_reject_unauthorized_false(tmp_path: Path) -> None:
    cluster = TlsCluster(tmp_path, self_signed(tmp_path / "self"))
    try:
        refused = cluster.settings()
        await _refusal(refused)
        # The doctor's probe sees the reason aiokafka's bootstrap only logs.
        from tui.kafka.doctor.probe import probe_connection

        problem = await probe_connection("127.0.0.1", cluster.proxy.port, ConnectionOptions.from_settings(refused))
        assert problem is not None
        assert diagnose(problem).kind is FailureKind.TLS_VERIFY
        assert "self-signed" in explain(problem)
        values = await _round_trip(cluster.settings(ssl_reject_unauthorized="false"), "tls.self-signed")
        assert values == [b'{"over":"tls"}']
    finally:
        cluster.close()


async def test_hostname_mismatch_is_named(tmp_path: Path, ca: CertificateAuthority) -> None:
    cluster = TlsCluster(tmp_path, ca.issue("elsewhere", sans=("DNS:kafka.elsewhere.invalid",)))
    try:
        settings = cluster.settings(ssl_ca=str(ca.cert))
        await _refusal(settings)
        from tui.kafka.doctor.probe import probe_connection

        problem = await probe_connection("127.0.0.1", cluster.proxy.port, ConnectionOptions.from_settings(settings))
        assert problem is not None
        assert diagnose(problem).kind is FailureKind.TLS_HOSTNAME
        assert "does not match" in explain(problem)
    finally:
        cluster.close()


async def test_client_certificate_presented_when_configured(tmp_path: Path, ca: CertificateAuthority) -> None:
    client_ca = CertificateAuthority(tmp_path / "client-ca", name="client-ca")
    client = client_ca.issue("evokafka-client", client=True, sans=())
    cluster = TlsCluster(tmp_path, ca.issue("broker"), client_ca=client_ca.cert)
    try:
        without = cluster.settings(ssl_ca=str(ca.cert))
        await _refusal(without)
        assert cluster.proxy.client_subjects == []
        with_cert = cluster.settings(ssl_ca=str(ca.cert), ssl_cert=str(client.cert), ssl_key=str(client.key))
        values = await _round_trip(with_cert, "tls.client-cert")
        assert values == [b'{"over":"tls"}']
        assert "evokafka-client" in cluster.proxy.client_subjects
    finally:
        cluster.close()


def test_bad_ca_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    settings = load_settings(None, environ={}, ssl_enabled="true", ssl_ca=str(bad))
    with pytest.raises(ConnectionSetupError) as caught:
        ConnectionOptions.from_settings(settings)
    assert "KAFKA_SSL_CA" in str(caught.value) and "\n" not in str(caught.value)
    # And on the command line: exit 2, one line naming the variable, no traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env.update(KAFKA_SSL_ENABLED="true", KAFKA_SSL_CA=str(bad), KAFKA_BROKERS="127.0.0.1:1")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "tail", "--exit", "some.topic"],
        capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path, check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "KAFKA_SSL_CA" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


async def test_ca_as_pem_text_as_evolution_reads_it(signed_cluster: TlsCluster, ca: CertificateAuthority) -> None:
    # Evolution hands KAFKA_SSL_CA to Node's TLS as the PEM contents: the same value works here.
    pem = Path(ca.cert).read_text()
    values = await _round_trip(signed_cluster.settings(ssl_ca=pem), "tls.pem-text-ca")
    assert values == [b'{"over":"tls"}']


async def test_reject_unauthorized_0_keeps_verification_on_end_to_end(signed_cluster: TlsCluster) -> None:
    # Only the exact text "false" turns verification off in Evolution: "0" leaves it on, and the unknown CA is refused.
    settings = signed_cluster.settings(ssl_reject_unauthorized="0")
    assert settings.ssl_reject_unauthorized is True
    await _refusal(settings)
    assert signed_cluster.settings(ssl_reject_unauthorized="false").ssl_reject_unauthorized is False
