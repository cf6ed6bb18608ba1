"""Every configuration variable given bad values: ``evokafka config`` exits 2 with exactly one stderr line
naming the variable, never a traceback. The table must cover every field of the settings: a new variable
without a row fails :func:`test_the_table_covers_every_variable`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tui.cli import cli
from tui.config import AppSettings, KafkaSettings

BOOL_BAD = ("maybe", "2", "yes please")
# Evolution reads numbers with parseInt: "abc", "0" and "" fall back to the default, "1.5" is 1. What no client
# accepts is a negative number or one past its limit.
TIMEOUT_BAD = ("-5", "2147483648", "99999999999999999999")

# Free-form text: no value is wrong at the settings level (any client id, user name, password is legal).
FREE_FORM = {"KAFKA_CONSUMER_GROUP_ID", "KAFKA_CLIENT_ID", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "EVOLUTION_API_KEY"}
# Paths are checked where they are used (they are read when a connection is set up): see
# test_ssl_paths_are_checked_when_used.
CHECKED_WHEN_USED = {"KAFKA_SSL_CA", "KAFKA_SSL_CERT", "KAFKA_SSL_KEY"}


def _kafka_variable(field: str) -> str:
    return f"KAFKA_{field.upper()}"


def _app_variable(field: str) -> str:
    alias = AppSettings.model_fields[field].validation_alias
    return str(getattr(alias, "choices", [field.upper()])[0])


BAD: dict[str, tuple[str, ...]] = {
    "KAFKA_BROKERS": (" , ", "nohostport", "host:", ":9092", "host:0", "host:70000", "host:abc", "a:1,b"),
    "KAFKA_CONNECTION_TIMEOUT": TIMEOUT_BAD,
    "KAFKA_REQUEST_TIMEOUT": TIMEOUT_BAD,
    "KAFKA_TOPIC_PREFIX": ("bad prefix", "évolution", "a/b", "x" * 201),
    "KAFKA_NUM_PARTITIONS": ("-5", "100001"),
    "KAFKA_REPLICATION_FACTOR": ("-5", "40000"),
    "KAFKA_SASL_MECHANISM": ("gssapi", "scram", "plain,scram-sha-256"),
    "KAFKA_RECONNECT_INITIAL_DELAY_MS": ("-5", "67108864"),
    "KAFKA_RECONNECT_MAX_ATTEMPTS": ("-5", "1001"),
    "KAFKA_SEND_RETRIES": ("-5", "101"),
    "EVOKAFKA_REGISTRY_TOPIC": ("", "has.dots", "sp ace", "x" * 250),
    "EVOKAFKA_READ_ONLY": BOOL_BAD,
    "EVOKAFKA_PANE_BUFFER": ("abc", "5", "2000000"),
    "EVOKAFKA_PANE_BUFFER_BYTES": ("64MiB", "1000", str(2**41)),
    "EVOKAFKA_INSTANCE_SOURCE": ("", "kafka", "both"),
    "EVOLUTION_API_TIMEOUT": ("abc", "0", "-1", "601"),
    "EVOLUTION_API_URL": ("not a url", "ftp://host", "http://"),
}
# Evolution's booleans: any text is legal (true only for exactly "true"; REJECT_UNAUTHORIZED false only for
# exactly "false"): see test_kafka_booleans_read_as_evolution_reads_them.
LENIENT = {_kafka_variable(f) for f, i in KafkaSettings.model_fields.items() if i.annotation is bool}

# EVOLUTION_API_URL: a URL that is not http(s) is wrong, but tui.config does not check it yet (reported to
# the lead); it is listed here so the table stays complete and is left out of the bad-value runs.
NOT_CHECKED_YET: set[str] = set()

CASES = [(variable, value) for variable, values in sorted(BAD.items()) for value in values]


@pytest.fixture(autouse=True)
def _no_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An empty working directory: no developer's ./.env is read.
    monkeypatch.chdir(tmp_path)


def _flat(out: dict[str, dict[str, object]]) -> dict[str, object]:
    return {k: v for group, values in out.items() if group not in ("sources", "notes") for k, v in values.items()}


def config(env: dict[str, str], tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "config"], env=env, catch_exceptions=True)


def assert_one_line_naming(result: Result, variable: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_the_table_covers_every_variable() -> None:
    every = {_kafka_variable(f) for f in KafkaSettings.model_fields} | {
        _app_variable(f) for f in AppSettings.model_fields
    }
    covered = set(BAD) | FREE_FORM | CHECKED_WHEN_USED | NOT_CHECKED_YET | LENIENT
    assert every == covered, every ^ covered


@pytest.mark.parametrize(("variable", "value"), CASES, ids=[f"{v}={x[:12]!r}" for v, x in CASES])
def test_bad_value_exits_2_with_one_line_naming_it(variable: str, value: str, tmp_path: Path) -> None:
    assert_one_line_naming(config({variable: value}, tmp_path), variable)


@pytest.mark.parametrize("variable", sorted(BAD))
def test_bad_value_in_the_env_file_too(variable: str, tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    value = next((v for v in BAD[variable] if v), "")  # an empty value in a .env reads as empty too
    env_file.write_text(f"# from a .env file\n{variable} = {value}\n")
    assert_one_line_naming(config({}, tmp_path, "--env-file", str(env_file)), variable)


@pytest.mark.parametrize("variable", sorted(FREE_FORM))
def test_free_form_values_are_accepted(variable: str, tmp_path: Path) -> None:
    result = config({variable: "any value, even with spaces"}, tmp_path)
    assert result.exit_code == 0, result.stderr


def test_secrets_are_not_echoed_in_errors(tmp_path: Path) -> None:
    # A bad neighbour must not make the error line print a secret.
    result = config({"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_NUM_PARTITIONS": "-1"}, tmp_path)
    assert result.exit_code == 2 and "hunter2" not in result.stderr + result.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("KAFKA_ENABLED = true\nthis line is not a setting\n", "bad.env:2"),
        ("KAFKA_ENABLED = 'unterminated\n", "bad.env:1"),
        (b"KAFKA_CLIENT_ID = \xff\xfe\n", "bad.env"),
    ],
    ids=["not-key-value", "unterminated-quote", "not-utf8"],
)
def test_malformed_env_file_is_one_line(content: str | bytes, needle: str, tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    if isinstance(content, bytes):
        env_file.write_bytes(content)
    else:
        env_file.write_text(content)
    result = config({}, tmp_path, "--env-file", str(env_file))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_missing_env_file_is_one_line(tmp_path: Path) -> None:
    result = config({}, tmp_path, "--env-file", str(tmp_path / "nope.env"))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nope.env" in result.stderr


@pytest.mark.parametrize(
    ("variable", "content"),
    [("KAFKA_SSL_CA", "not a certificate"), ("KAFKA_SSL_CERT", "not a certificate"), ("KAFKA_SSL_KEY", None)],
)
def test_ssl_paths_are_checked_when_used(variable: str, content: str | None, tmp_path: Path) -> None:
    env = {"KAFKA_SSL_ENABLED": "true", "KAFKA_BROKERS": "127.0.0.1:1"}
    if content is None:
        env[variable] = str(tmp_path / "missing.pem")  # a key without a certificate
    else:
        path = tmp_path / "bad.pem"
        path.write_text(content)
        env[variable] = str(path)
    runner = CliRunner()
    result = runner.invoke(cli, ["tail", "--exit", "some.topic"], env=env)
    assert_one_line_naming(result, variable)


@pytest.mark.parametrize("variable", sorted(LENIENT))
@pytest.mark.parametrize("value", BOOL_BAD)
def test_kafka_booleans_read_as_evolution_reads_them(variable: str, value: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "--json"], env={variable: value})
    assert result.exit_code == 0, result.stderr
    shown = _flat(json.loads(result.output))
    assert shown[variable] is (variable == "KAFKA_SSL_REJECT_UNAUTHORIZED")


def test_request_timeout_past_the_clients_limit_is_one_line(tmp_path: Path) -> None:
    result = config({"KAFKA_REQUEST_TIMEOUT": "2147483648"}, tmp_path)
    assert_one_line_naming(result, "KAFKA_REQUEST_TIMEOUT")
    assert "2147483647" in result.stderr


def test_a_megabyte_line_without_equals_is_an_error_with_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / "big.env"
    env_file.write_text("KAFKA_ENABLED = true\n" + "x" * 1_000_000 + "\n")
    result = config({}, tmp_path, "--env-file", str(env_file))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "big.env:2" in lines[0] and len(lines[0]) < 200, lines


def test_a_bare_variable_line_is_an_error_with_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / "bare.env"
    env_file.write_text("# brokers\nKAFKA_CLIENT_ID = x\nKAFKA_BROKERS\n")
    result = config({}, tmp_path, "--env-file", str(env_file))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bare.env:3" in lines[0] and "KAFKA_BROKERS" in lines[0], lines


def test_env_file_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.env"
    os.mkfifo(fifo)
    result = config({}, tmp_path, "--env-file", str(fifo))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a regular file" in lines[0], lines


@pytest.mark.parametrize("variable", ["KAFKA_BROKERS", "KAFKA_TOPIC_PREFIX", "KAFKA_CONSUMER_GROUP_ID", "KAFKA_ENABLED"])
def test_an_empty_value_takes_the_default(variable: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "--json"], env={variable: ""})
    assert result.exit_code == 0, result.stderr
    shown = _flat(json.loads(result.output))
    assert shown[variable] == {"KAFKA_BROKERS": "localhost:9092", "KAFKA_TOPIC_PREFIX": "evolution",
                               "KAFKA_CONSUMER_GROUP_ID": "evolution-api-consumers", "KAFKA_ENABLED": True}[variable]
