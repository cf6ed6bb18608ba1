"""``evokafka doctor`` on the real broker: healthy, a broker down, a silent port, a missing topic, a disabled
instance, and TLS through the loopback proxy."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_tls import TlsCluster
from tests.tlsproxy import CertificateAuthority
from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker
from tui.diagnosis import CheckResult, DoctorReport, Status
from tui.kafka.admin import Admin
from tui.kafka.doctor.runner import run_doctor
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.kafka.topics import create_missing, diff, plan

pytestmark = pytest.mark.broker


def by_check(report: DoctorReport, check: str) -> list[CheckResult]:
    return [r for r in report.results if r.check == check]


def one(report: DoctorReport, check: str, subject: str | None = None) -> CheckResult:
    found = [r for r in by_check(report, check) if subject is None or r.subject == subject]
    assert len(found) == 1, (check, subject, report.results)
    return found[0]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listen backlog is full: connection attempts get no answer at all."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    server.close()


async def test_healthy_cluster_passes(settings: KafkaSettings, prefix: str) -> None:
    registry_topic = f"reg_{prefix}"
    async with InstanceRegistry(settings, topic=registry_topic) as registry:
        await registry.set_request("healthy", True, ["MESSAGES_UPSERT"])
    report = await run_doctor(settings, registry_topic=registry_topic)
    assert report.ok(), [r for r in report.results if r.status is Status.FAIL]
    broker = settings.brokers[0]
    for check in ("broker.resolve", "broker.tcp", "broker.api-versions"):
        assert one(report, check, broker).status is Status.PASS
    assert one(report, "broker.sasl", broker).status is Status.SKIP
    assert one(report, "cluster.metadata").status is Status.PASS
    assert one(report, "registry.instance", "healthy").status is Status.PASS
    # Tansu refuses producer ids: a warning with the fix, not a failure (the publisher carries on).
    idempotence = one(report, "producer.idempotence")
    assert idempotence.status is Status.WARN and "acks=all" in idempotence.fix
    assert report.elapsed_s < 10


async def test_consumer_lag_of_the_configured_group(settings: KafkaSettings, prefix: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    topic = f"{prefix}.lagged.messages.upsert"
    options = ConnectionOptions.from_settings(settings)
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(topic, b"{}", key=b"lagged", partition=0)
    finally:
        await producer.stop()
    group = f"g-{prefix}"
    consumer = AIOKafkaConsumer(**options.client_kwargs(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await consumer.stop()
    lagged = settings.model_copy(update={"consumer_group_id": group})
    report = await run_doctor(lagged, registry_topic=f"reg_{prefix}")
    lag = one(report, "consumer.lag")
    assert lag.status is Status.PASS and "lag 3 records" in lag.detail, lag


async def test_down_broker_fails_each_on_its_own_within_the_timeout(
    own_broker: EmbeddedBroker, broker: EmbeddedBroker, silent_port: int
) -> None:
    down = own_broker.bootstrap
    own_broker.kill()
    silent = f"127.0.0.1:{silent_port}"
    settings = load_settings(
        None, environ={}, brokers=f"{broker.bootstrap},{down},{silent}", connection_timeout="1000"
    )
    started = time.monotonic()
    report = await run_doctor(settings, registry_topic="__evokafka_doctor_test")
    took = time.monotonic() - started
    assert one(report, "broker.tcp", broker.bootstrap).status is Status.PASS
    refused = one(report, "broker.tcp", down)
    assert refused.status is Status.FAIL and "connection refused" in refused.detail and refused.fix
    timed_out = one(report, "broker.tcp", silent)
    assert timed_out.status is Status.FAIL
    assert "no answer within KAFKA_CONNECTION_TIMEOUT=1000 ms" in timed_out.detail
    assert "KAFKA_CONNECTION_TIMEOUT" in timed_out.fix
    assert not report.ok()
    assert 1.0 <= took < 10, took  # the silent port costs the configured timeout, not more


def test_cli_exit_codes_json_and_no_traceback(broker: EmbeddedBroker) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(KAFKA_BROKERS=broker.bootstrap, KAFKA_TOPIC_PREFIX="doctorcli", EVOKAFKA_REGISTRY_TOPIC="reg_doctorcli")
    healthy = subprocess.run(
        [sys.executable, "-m", "tui", "doctor", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    out = json.loads(healthy.stdout)
    assert out["ok"] is True and out["counts"]["fail"] == 0
    assert {c["status"] for c in out["checks"]} <= {"pass", "warn", "skip"}
    strict = subprocess.run(
        [sys.executable, "-m", "tui", "doctor", "--strict"], capture_output=True, text=True, env=env, timeout=60
    )
    assert strict.returncode == 1 and "WARN  producer.idempotence" in strict.stdout
    env["KAFKA_BROKERS"] = "127.0.0.1:1"
    env["KAFKA_CONNECTION_TIMEOUT"] = "1000"
    down = subprocess.run([sys.executable, "-m", "tui", "doctor"], capture_output=True, text=True, env=env, timeout=60)
    assert down.returncode == 1
    assert "FAIL  broker.tcp [127.0.0.1:1]: connection refused" in down.stdout
    assert "fix: check that the broker runs" in down.stdout
    assert "Traceback" not in down.stdout + down.stderr


async def test_missing_topic_fails_when_auto_create_is_off(settings: KafkaSettings, prefix: str) -> None:
    registry_topic = f"reg_{prefix}"
    async with InstanceRegistry(settings, topic=registry_topic) as registry:
        await registry.set_request("shop", True, ["MESSAGES_UPSERT", "CALL"])
    manual = settings.model_copy(update={"auto_create_topics": False})
    report = await run_doctor(manual, registry_topic=registry_topic)
    planned = one(report, "topics.planned")
    assert planned.status is Status.FAIL
    assert f"{prefix}.shop.call" in planned.detail and "KAFKA_AUTO_CREATE_TOPICS=false" in planned.detail
    assert "evokafka topics create --yes" in planned.fix
    # Auto-creation on: the same gap is no failure.
    auto = await run_doctor(settings, registry_topic=registry_topic)
    assert one(auto, "topics.planned").status is Status.PASS
    # Created: the check passes.
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        existing = await admin.topics()
    todo = diff(plan(manual, {"shop": registry.all()["shop"]}), existing, prefix).missing
    await create_missing(options, todo)
    fixed = await run_doctor(manual, registry_topic=registry_topic)
    assert one(fixed, "topics.planned").status is Status.PASS


async def test_disabled_instance_is_a_warning_with_the_fix(settings: KafkaSettings, prefix: str) -> None:
    registry_topic = f"reg_{prefix}"
    async with InstanceRegistry(settings, topic=registry_topic) as registry:
        await registry.set_request("on", True, [])
        await registry.set_request("off", False, [])
    report = await run_doctor(settings, registry_topic=registry_topic)
    assert one(report, "registry.instance", "on").status is Status.PASS
    off = one(report, "registry.instance", "off")
    assert off.status is Status.WARN and "disabled" in off.detail and "enable off" in off.fix


# -- TLS --------------------------------------------------------------------------------------------------


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority(tmp_path / "ca")


async def test_tls_checks_on_a_good_certificate(tmp_path: Path, ca: CertificateAuthority) -> None:
    cluster = TlsCluster(tmp_path, ca.issue("broker"))
    try:
        settings = cluster.settings(ssl_ca=str(ca.cert))
        report = await run_doctor(settings, registry_topic="reg_tls_good")
        subject = cluster.bootstrap
        assert one(report, "tls.ca-file").status is Status.PASS
        assert one(report, "tls.handshake", subject).status is Status.PASS
        assert one(report, "tls.certificate-dates", subject).status is Status.PASS
        assert one(report, "tls.hostname", subject).status is Status.PASS
        assert one(report, "broker.api-versions", subject).status is Status.PASS
        assert report.ok()
    finally:
        cluster.close()


async def test_tls_expired_certificate_and_missing_client_certificate(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    expired = TlsCluster(tmp_path / "expired", ca.issue("old", expired=True))
    try:
        report = await run_doctor(expired.settings(ssl_ca=str(ca.cert)), registry_topic="reg_tls_old")
        handshake = one(report, "tls.handshake", expired.bootstrap)
        assert handshake.status is Status.FAIL and "validity dates" in handshake.detail
        dates = one(report, "tls.certificate-dates", expired.bootstrap)
        assert dates.status is Status.FAIL and "expired on" in dates.detail
    finally:
        expired.close()
    client_ca = CertificateAuthority(tmp_path / "client-ca", name="client-ca")
    strict = TlsCluster(tmp_path / "strict", ca.issue("broker"), client_ca=client_ca.cert)
    try:
        report = await run_doctor(strict.settings(ssl_ca=str(ca.cert)), registry_topic="reg_tls_strict")
        handshake = one(report, "tls.handshake", strict.bootstrap)
        assert handshake.status is Status.FAIL and "client certificate" in handshake.detail
        assert "KAFKA_SSL_CERT" in handshake.fix
    finally:
        strict.close()


async def test_tls_bad_ca_file_and_unverified_mode(tmp_path: Path, ca: CertificateAuthority) -> None:
    bad = tmp_path / "bad-ca.pem"
    bad.write_text("this is not a certificate\n")
    settings = load_settings(None, environ={}, ssl_enabled="true", ssl_ca=str(bad), brokers="127.0.0.1:1")
    report = await run_doctor(settings)
    ca_file = one(report, "tls.ca-file")
    assert ca_file.status is Status.FAIL and "no PEM certificate" in ca_file.detail
    assert one(report, "connection.options").status is Status.FAIL

    cluster = TlsCluster(tmp_path, ca.issue("elsewhere", sans=("DNS:kafka.elsewhere.invalid",)))
    try:
        loose = cluster.settings(ssl_reject_unauthorized="false")
        report = await asyncio.wait_for(run_doctor(loose, registry_topic="reg_tls_loose"), 30)
        handshake = one(report, "tls.handshake", cluster.bootstrap)
        assert handshake.status is Status.WARN and "NOT verified" in handshake.detail
        hostname = one(report, "tls.hostname", cluster.bootstrap)
        assert hostname.status is Status.FAIL and "kafka.elsewhere.invalid" in hostname.detail
    finally:
        cluster.close()


async def test_sasl_against_a_broker_without_it_names_the_mechanism(broker: EmbeddedBroker) -> None:
    settings = load_settings(
        None, environ={}, brokers=broker.bootstrap, sasl_enabled="true", sasl_mechanism="scram-sha-512",
        sasl_username="evo", sasl_password="s3cret",
    )
    report = await run_doctor(settings, registry_topic="reg_sasl")
    assert one(report, "broker.api-versions", broker.bootstrap).status is Status.PASS
    sasl = one(report, "broker.sasl", broker.bootstrap)
    assert sasl.status is Status.FAIL and "SASL mechanism refused" in sasl.detail
    assert "KAFKA_SASL_MECHANISM" in sasl.fix
    assert all("s3cret" not in r.detail + r.fix for r in report.results)
