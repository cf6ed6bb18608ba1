"""KafkaSettings: every variable of the reference with its default, .env blocks verbatim, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from tui import catalog
from tui.config import ConfigError, KafkaSettings, load_app_settings, load_settings
from tui.config_view import GROUPS, describe

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "kafka-integration.txt"

# The reference's configuration blocks, exactly as the document prints them.
REFERENCE_BLOCKS = """\
# Enable Kafka integration
KAFKA_ENABLED = true
# Kafka client ID
KAFKA_CLIENT_ID = evolution-api
# Comma-separated list of broker addresses
KAFKA_BROKERS = localhost:9092,localhost:9093,localhost:9094
# Connection and request timeouts (milliseconds)
KAFKA_CONNECTION_TIMEOUT = 3000
KAFKA_REQUEST_TIMEOUT = 30000

# Topic prefix for namespacing
KAFKA_TOPIC_PREFIX = evolution
# Number of partitions per topic
KAFKA_NUM_PARTITIONS = 1
# Replication factor
KAFKA_REPLICATION_FACTOR = 1
# Auto-create topics if they don't exist
KAFKA_AUTO_CREATE_TOPICS = false

# Consumer group ID for reading events
KAFKA_CONSUMER_GROUP_ID = evolution-api-consumers

# Enable SASL authentication
KAFKA_SASL_ENABLED = true
# SASL mechanism: plain, scram-sha-256, scram-sha-512
KAFKA_SASL_MECHANISM = plain
# SASL credentials
KAFKA_SASL_USERNAME = your_username
KAFKA_SASL_PASSWORD = your_password

# Enable SSL
KAFKA_SSL_ENABLED = true
# Reject unauthorized certificates
KAFKA_SSL_REJECT_UNAUTHORIZED = true
# Path to CA certificate (optional)
KAFKA_SSL_CA = /path/to/ca-cert.pem
# Path to client certificate (optional)
KAFKA_SSL_CERT = /path/to/client-cert.pem
# Path to client key (optional)
KAFKA_SSL_KEY = /path/to/client-key.pem

# Application lifecycle
KAFKA_EVENTS_APPLICATION_STARTUP = false
KAFKA_EVENTS_INSTANCE_CREATE = false
KAFKA_EVENTS_INSTANCE_DELETE = false
# Connection events
KAFKA_EVENTS_QRCODE_UPDATED = true
KAFKA_EVENTS_CONNECTION_UPDATE = true
# Message events
KAFKA_EVENTS_MESSAGES_SET = true
KAFKA_EVENTS_MESSAGES_UPSERT = true
KAFKA_EVENTS_MESSAGES_EDITED = true
KAFKA_EVENTS_MESSAGES_UPDATE = true
KAFKA_EVENTS_MESSAGES_DELETE = true
KAFKA_EVENTS_SEND_MESSAGE = true
KAFKA_EVENTS_SEND_MESSAGE_UPDATE = true
# Contact events
KAFKA_EVENTS_CONTACTS_SET = true
KAFKA_EVENTS_CONTACTS_UPSERT = true
KAFKA_EVENTS_CONTACTS_UPDATE = true
KAFKA_EVENTS_PRESENCE_UPDATE = true
# Chat events
KAFKA_EVENTS_CHATS_SET = true
KAFKA_EVENTS_CHATS_UPSERT = true
KAFKA_EVENTS_CHATS_UPDATE = true
KAFKA_EVENTS_CHATS_DELETE = true
# Group events
KAFKA_EVENTS_GROUPS_UPSERT = true
KAFKA_EVENTS_GROUPS_UPDATE = true
KAFKA_EVENTS_GROUP_PARTICIPANTS_UPDATE = true
# Label events
KAFKA_EVENTS_LABELS_EDIT = true
KAFKA_EVENTS_LABELS_ASSOCIATION = true
# Call events
KAFKA_EVENTS_CALL = true
# Typebot integration
KAFKA_EVENTS_TYPEBOT_START = false
KAFKA_EVENTS_TYPEBOT_CHANGE_STATUS = false
"""


def test_reference_blocks_are_in_the_reference_document() -> None:
    if not REFERENCE.exists():  # the reference sits in shared/ beside the checkout
        pytest.fail(f"reference document missing at {REFERENCE}")
    text = REFERENCE.read_text()
    for line in REFERENCE_BLOCKS.splitlines():
        if line.strip():
            assert line in text, line


def test_reference_blocks_pasted_verbatim_load_with_the_documented_values(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(REFERENCE_BLOCKS)
    s = load_settings(env, environ={})
    assert s.enabled is True
    assert s.client_id == "evolution-api"
    assert s.brokers == ["localhost:9092", "localhost:9093", "localhost:9094"]
    assert (s.connection_timeout, s.request_timeout) == (3000, 30000)
    assert (s.topic_prefix, s.num_partitions, s.replication_factor) == ("evolution", 1, 1)
    assert s.auto_create_topics is False
    assert s.consumer_group_id == "evolution-api-consumers"
    assert (s.sasl_enabled, s.sasl_mechanism, s.sasl_username) == (True, "plain", "your_username")
    assert s.sasl_password.get_secret_value() == "your_password"
    assert (s.ssl_enabled, s.ssl_reject_unauthorized) == (True, True)
    assert str(s.ssl_ca) == "/path/to/ca-cert.pem"
    assert str(s.ssl_cert) == "/path/to/client-cert.pem"
    assert str(s.ssl_key) == "/path/to/client-key.pem"
    for event in catalog.EVENTS:
        assert s.event_enabled(event) is event.default, event.name


def test_every_reference_variable_is_a_setting() -> None:
    names = set(re.findall(r"\b(KAFKA_[A-Z_]+)\s*=", REFERENCE_BLOCKS))
    fields = {f"KAFKA_{f.upper()}" for f in KafkaSettings.model_fields}
    assert names <= fields
    evolution_has = {f"KAFKA_EVENTS_{e.name}" for e in catalog.EVENTS} - {
        "KAFKA_EVENTS_STATUS_INSTANCE", "KAFKA_EVENTS_REMOVE_INSTANCE", "KAFKA_EVENTS_LOGOUT_INSTANCE"}
    assert len(evolution_has) == 28
    assert {f for f in fields if f.startswith("KAFKA_EVENTS_")} == evolution_has


def test_defaults_without_any_configuration() -> None:
    s = load_settings(None, environ={})
    assert s.brokers == ["localhost:9092"]
    assert s.global_enabled is False
    assert s.auto_create_topics is False
    assert (s.reconnect_initial_delay_ms, s.reconnect_max_attempts, s.send_retries) == (5000, 10, 3)
    assert s.max_reconnect_delay_ms == 5000 * 32
    assert s.ssl_ca is None


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("KAFKA_CLIENT_ID = from-file\nKAFKA_TOPIC_PREFIX = filepfx\n")
    s = load_settings(env, environ={"KAFKA_CLIENT_ID": "from-env"})
    assert s.client_id == "from-env"
    assert s.topic_prefix == "filepfx"


@pytest.mark.parametrize("value", ["plain", "PLAIN", "Scram-Sha-256", "SCRAM-SHA-512", "scram_sha_512"])
def test_sasl_mechanism_any_case(value: str) -> None:
    s = load_settings(None, environ={"KAFKA_SASL_MECHANISM": value})
    assert s.sasl_mechanism in ("plain", "scram-sha-256", "scram-sha-512")
    assert s.sasl_mechanism == value.lower().replace("_", "-")


def test_password_is_secret_and_masked() -> None:
    s = load_settings(None, environ={"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_SASL_ENABLED": "true"})
    assert isinstance(s.sasl_password, SecretStr)
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(describe(s))
    assert describe(s, reveal=True)["SASL"]["KAFKA_SASL_PASSWORD"] == "hunter2"


def test_describe_groups_every_field_once() -> None:
    listed = [f for fields in GROUPS.values() for f in fields]
    assert sorted(listed) == sorted(KafkaSettings.model_fields)


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("KAFKA_NUM_PARTITIONS", "-3", "integer"),
        ("KAFKA_SASL_MECHANISM", "kerberos", "plain, scram-sha-256, scram-sha-512"),
        ("KAFKA_BROKERS", "localhost", "host:port"),
        ("KAFKA_TOPIC_PREFIX", "bad prefix!", "letters"),
        ("KAFKA_SEND_RETRIES", "-1", ">= 1"),
        ("KAFKA_REQUEST_TIMEOUT", "2147483648", "<= 2147483647"),
    ],
)
def test_invalid_value_is_one_line_naming_the_variable(variable: str, value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={variable: value})
    assert len(info.value.lines) == 1
    line = info.value.lines[0]
    assert line.startswith(f"{variable}=")
    assert allowed in line


def test_several_bad_variables_one_line_each() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={"KAFKA_NUM_PARTITIONS": "-1", "KAFKA_SEND_RETRIES": "-2"})
    assert len(info.value.lines) == 2


def test_bad_password_value_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_app_settings(None, environ={"EVOKAFKA_PANE_BUFFER": "x", "EVOLUTION_API_KEY": "k"})
    assert "EVOKAFKA_PANE_BUFFER" in str(info.value)


def test_malformed_env_file_is_a_clear_error(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("KAFKA_ENABLED = true\nthis is not a setting\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env, environ={})
    assert len(info.value.lines) == 1
    assert ":2:" in info.value.lines[0]
    assert "KEY = value" in info.value.lines[0]


def test_missing_env_file_given_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.env", environ={})


def test_app_settings_registry_topic_has_no_dots() -> None:
    with pytest.raises(ConfigError) as info:
        load_app_settings(None, environ={"EVOKAFKA_REGISTRY_TOPIC": "evolution.registry.x"})
    assert info.value.lines[0].startswith("EVOKAFKA_REGISTRY_TOPIC=")
    assert load_app_settings(None, environ={}).registry_topic == "__evokafka_instances"


def test_loading_builds_only_the_validators_it_uses() -> None:
    # Loading validates through the isolated subclasses: the public classes' own validators are never built
    # (each costs the console's start). Checked in a fresh interpreter: this one may have built them already.
    code = (
        "from tui.config import AppSettings, KafkaSettings, load_app_settings, load_settings\n"
        "s = load_settings(None, environ={}, brokers='h:1')\n"
        "a = load_app_settings(None, environ={})\n"
        "assert isinstance(s, KafkaSettings) and isinstance(a, AppSettings)\n"
        "print(KafkaSettings.__pydantic_complete__, AppSettings.__pydantic_complete__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]
    # Built on first direct use, as before.
    assert KafkaSettings(brokers=["h:1"]).brokers == ["h:1"]
