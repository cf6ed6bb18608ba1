"""Every configuration variable given bad values: ``evokafka config`` exits 2 with exactly one stderr line
naming the variable, never a traceback. The table must cover every field of the settings: a new variable
without a row fails :func:`test_the_table_covers_every_variable`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tui.cli import cli
from tui.config import AppSettings, KafkaSettings

BOOL_BAD = ("maybe", "2", "yes please")
INT_BAD = ("abc", "0", "-5", "1.5", "")

# Free-form text: no value is wrong at the settings level (any client id, user name, password is legal).
FREE_FORM = {"KAFKA_CLIENT_ID", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "EVOLUTION_API_KEY"}
# Paths are checked where they are used (they are read when a connection is set up): see
# test_ssl_paths_are_checked_when_used.
CHECKED_WHEN_USED = {"KAFKA_SSL_CA", "KAFKA_SSL_CERT", "KAFKA_SSL_KEY"}


def _kafka_variable(field: str) -> str:
    return f"KAFKA_{field.upper()}"


def _app_variable(field: str) -> str:
    alias = AppSettings.model_fields[field].validation_alias
    return str(getattr(alias, "choices", [field.upper()])[0])


BAD: dict[str, tuple[str, ...]] = {
    "KAFKA_BROKERS": ("", " , ", "nohostport", "host:", ":9092", "host:0", "host:70000", "host:abc", "a:1,b"),
    "KAFKA_CONNECTION_TIMEOUT": INT_BAD,
    "KAFKA_REQUEST_TIMEOUT": INT_BAD,
    "KAFKA_TOPIC_PREFIX": ("", "bad prefix", "évolution", "a/b", "x" * 201),
    "KAFKA_NUM_PARTITIONS": (*INT_BAD, "100001"),
    "KAFKA_REPLICATION_FACTOR": (*INT_BAD, "40000"),
    "KAFKA_CONSUMER_GROUP_ID": ("",),
    "KAFKA_SASL_MECHANISM": ("gssapi", "scram", "", "plain,scram-sha-256"),
    "KAFKA_RECONNECT_INITIAL_DELAY_MS": INT_BAD,
    "KAFKA_RECONNECT_MAX_ATTEMPTS": INT_BAD,
    "KAFKA_SEND_RETRIES": INT_BAD,
    "EVOKAFKA_REGISTRY_TOPIC": ("", "has.dots", "sp ace", "x" * 250),
    "EVOKAFKA_READ_ONLY": BOOL_BAD,
    "EVOKAFKA_PANE_BUFFER": ("abc", "5", "2000000"),
    "EVOKAFKA_INSTANCE_SOURCE": ("", "kafka", "both"),
    "EVOLUTION_API_TIMEOUT": ("abc", "0", "-1", "601"),
    "EVOLUTION_API_URL": ("not a url", "ftp://host", "http://"),
}
for _field, _info in KafkaSettings.model_fields.items():
    if _info.annotation is bool:
        BAD[_kafka_variable(_field)] = BOOL_BAD

# EVOLUTION_API_URL: a URL that is not http(s) is wrong, but tui.config does not check it yet (reported to
# the lead); it is listed here so the table stays complete and is left out of the bad-value runs.
NOT_CHECKED_YET: set[str] = set()

CASES = [(variable, value) for variable, values in sorted(BAD.items()) for value in values]


@pytest.fixture(autouse=True)
def _no_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An empty working directory: no developer's ./.env is read.
    monkeypatch.chdir(tmp_path)


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
    covered = set(BAD) | FREE_FORM | CHECKED_WHEN_USED | NOT_CHECKED_YET
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
    result = config({"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_NUM_PARTITIONS": "x"}, tmp_path)
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
