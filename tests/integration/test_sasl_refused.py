"""SASL on against a broker without SASL: the failure names the authentication step (and the fix), not "cannot
reach the cluster" — the broker answered; it refused the SASL handshake."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui.config import KafkaSettings
from tui.kafka.admin import Admin
from tui.kafka.errors import FailureKind, diagnose
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions

pytestmark = pytest.mark.broker


@pytest.mark.parametrize("mechanism", ["plain", "scram-sha-256", "scram-sha-512"])
async def test_the_sasl_step_is_named(settings: KafkaSettings, mechanism: str) -> None:
    sasl = settings.model_copy(
        update={"sasl_enabled": True, "sasl_mechanism": mechanism, "sasl_username": "u"}
    )
    options = ConnectionOptions.from_settings(sasl)
    with pytest.raises(ClusterUnreachableError) as caught:
        await Admin(options).start()
    text = str(caught.value)
    assert text.startswith(f"SASL authentication ({mechanism.upper()}) with {settings.brokers[0]} failed")
    assert "cannot reach" not in text and "KAFKA_SASL_ENABLED=false" in text
    assert diagnose(caught.value).kind is FailureKind.MECHANISM


def test_commands_say_it_in_one_line(settings: KafkaSettings, prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(
        KAFKA_BROKERS=",".join(settings.brokers), KAFKA_CONNECTION_TIMEOUT="2000", KAFKA_SASL_ENABLED="true",
        KAFKA_SASL_USERNAME="u", KAFKA_SASL_PASSWORD="p", EVOKAFKA_REGISTRY_TOPIC=f"reg_{prefix}",
    )
    for args in (["tail", f"{prefix}.x", "--exit"], ["instances", "list"], ["topics", "diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0 and len(lines) == 1, (args, done.stderr)
        assert "SASL authentication (PLAIN)" in lines[0] and "cannot reach" not in lines[0], (args, lines)
