"""SASL settings → the aiokafka client options, for every mechanism of the reference; and a SCRAM rejection
turned into a clear line.

SCRAM end to end is unproven on the test broker (README, "The embedded broker's quirks": Tansu users cannot be made while
authentication is on), so these tests check what the settings produce and that aiokafka's own clients
accept it; ``tests/integration/test_doctor.py`` checks a mechanism refusal against the real broker.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import ScramAuthenticator

from tui.config import load_settings
from tui.config_view import describe
from tui.kafka.errors import FailureKind, diagnose, explain
from tui.kafka.options import ConnectionOptions

MECHANISMS = [("plain", "PLAIN"), ("scram-sha-256", "SCRAM-SHA-256"), ("scram-sha-512", "SCRAM-SHA-512")]


def options(**values: str) -> ConnectionOptions:
    return ConnectionOptions.from_settings(load_settings(None, environ={}, **values))


@pytest.mark.parametrize(("given", "wire"), MECHANISMS)
@pytest.mark.parametrize(("ssl", "protocol"), [("false", "SASL_PLAINTEXT"), ("true", "SASL_SSL")])
def test_mechanism_and_credentials_reach_the_client(given: str, wire: str, ssl: str, protocol: str) -> None:
    kwargs = options(
        sasl_enabled="true", sasl_mechanism=given, sasl_username="evo", sasl_password="s3cret", ssl_enabled=ssl
    ).client_kwargs()
    assert kwargs["security_protocol"] == protocol
    assert kwargs["sasl_mechanism"] == wire
    assert kwargs["sasl_plain_username"] == "evo"
    assert kwargs["sasl_plain_password"] == "s3cret"
    assert ("ssl_context" in kwargs) is (ssl == "true")


@pytest.mark.parametrize("spelling", ["SCRAM-SHA-512", "Scram_Sha_512", " scram-sha-512 "])
def test_mechanism_in_any_case(spelling: str) -> None:
    kwargs = options(sasl_enabled="true", sasl_mechanism=spelling, sasl_username="u", sasl_password="p").client_kwargs()
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"


def test_sasl_disabled_sends_no_credentials() -> None:
    kwargs = options(sasl_username="evo", sasl_password="s3cret", sasl_mechanism="scram-sha-256").client_kwargs()
    assert kwargs["security_protocol"] == "PLAINTEXT"
    assert not {k for k in kwargs if k.startswith("sasl")}


def test_password_never_in_repr_or_config_output() -> None:
    opts = options(sasl_enabled="true", sasl_username="evo", sasl_password="s3cret")
    assert "s3cret" not in repr(opts)
    settings = load_settings(None, environ={}, sasl_enabled="true", sasl_password="s3cret")
    assert "s3cret" not in repr(settings) and "s3cret" not in str(describe(settings))
    assert describe(settings, reveal=True)["SASL"]["KAFKA_SASL_PASSWORD"] == "s3cret"


@pytest.mark.parametrize(("given", "wire"), MECHANISMS)
async def test_aiokafka_clients_accept_the_options(given: str, wire: str) -> None:
    kwargs: dict[str, Any] = options(
        sasl_enabled="true", sasl_mechanism=given, sasl_username="evo", sasl_password="s3cret"
    ).client_kwargs()
    # Constructing validates the SASL arguments (aiokafka raises on a bad combination); nothing connects.
    producer = AIOKafkaProducer(**kwargs)
    consumer = AIOKafkaConsumer(**kwargs)
    admin = AIOKafkaAdminClient(**kwargs)
    assert producer.client._sasl_mechanism == wire
    assert consumer._client._sasl_plain_username == "evo"
    assert admin._client._sasl_plain_password == "s3cret"
    await producer.stop()
    await consumer.stop()
    await admin.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_scram_rejection_is_authentication_failed(mechanism: str) -> None:
    # aiokafka's own SCRAM client, fed the server's RFC 5802 error answers.
    loop = asyncio.get_running_loop()
    final = ScramAuthenticator(
        loop=loop, sasl_plain_username="evo", sasl_plain_password="wrong", sasl_mechanism=mechanism
    )
    final.first_message()
    with pytest.raises(KeyError) as at_final:
        final.process_server_final_message("e=invalid-proof")
    assert diagnose(at_final.value).kind is FailureKind.AUTH
    assert explain(at_final.value).startswith("authentication failed (SASL SCRAM")
    first = ScramAuthenticator(
        loop=loop, sasl_plain_username="nobody", sasl_plain_password="x", sasl_mechanism=mechanism
    )
    first.first_message()
    with pytest.raises(KeyError) as at_first:
        first.process_server_first_message("e=unknown-user")
    assert diagnose(at_first.value).kind is FailureKind.AUTH
    assert "KAFKA_SASL_PASSWORD" in diagnose(at_first.value).fix
