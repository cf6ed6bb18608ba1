"""Configuration read value by value as Evolution API 2.3.6 reads it (src/config/env.config.ts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui import catalog
from tui.config import load_settings, load_traced
from tui.evolution_env import Source, parse_int, ssl_material

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3abc", 3), ("42", 42), (" 7 ", 7), ("1.5", 1), ("1e3", 1), ("0x10", 16), ("-4", -4), ("abc", None),
     ("", None), ("+9", 9)],
)
def test_parse_int_is_javascripts(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", False), ("yes", False), ("True", False),
                                                 ("TRUE", False), ("false", False)])
def test_a_boolean_is_true_only_for_exactly_true(value: str, expected: bool) -> None:
    assert load_settings(None, environ={"KAFKA_GLOBAL_ENABLED": value}).global_enabled is expected


@pytest.mark.parametrize(("value", "expected"), [("0", True), ("no", True), ("False", True), ("FALSE", True),
                                                 ("true", True), ("false", False)])
def test_reject_unauthorized_is_true_unless_exactly_false(value: str, expected: bool) -> None:
    settings = load_settings(None, environ={"KAFKA_SSL_REJECT_UNAUTHORIZED": value})
    assert settings.ssl_reject_unauthorized is expected


def test_reject_unauthorized_0_keeps_verification_on_in_the_ssl_context() -> None:
    import ssl

    from tui.kafka.options import ssl_context

    settings = load_settings(None, environ={"KAFKA_SSL_ENABLED": "true", "KAFKA_SSL_REJECT_UNAUTHORIZED": "0"})
    context = ssl_context(settings)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_enabled_1_is_off_as_in_evolution() -> None:
    assert load_settings(None, environ={"KAFKA_ENABLED": "1"}).enabled is False


@pytest.mark.parametrize(("raw", "expected"), [("3abc", 3), ("", 3000), ("abc", 3000), ("0", 3000), ("2500", 2500)])
def test_numbers_are_parse_int_with_evolutions_fallback(raw: str, expected: int) -> None:
    traced = load_traced(None, environ={"KAFKA_CONNECTION_TIMEOUT": raw})
    assert traced.settings.connection_timeout == expected
    if raw in ("3abc", "abc", "0"):
        assert "KAFKA_CONNECTION_TIMEOUT" in traced.notes


def test_event_variables_missing_are_false_and_group_update_comes_from_groups_update() -> None:
    settings = load_settings(None, environ={"KAFKA_EVENTS_GROUPS_UPDATE": "true", "KAFKA_EVENTS_CALL": "true"})
    events = settings.evolution_events()
    assert len(events) == 28
    assert events["GROUP_UPDATE"] is True and "GROUPS_UPDATE" not in events
    assert events["CALL"] is True
    assert [k for k, v in events.items() if v] == ["GROUP_UPDATE", "CALL"]
    for name in ("STATUS_INSTANCE", "REMOVE_INSTANCE", "LOGOUT_INSTANCE"):
        assert settings.event_enabled(catalog.BY_NAME[name]) is False


def test_unread_event_variables_get_a_note() -> None:
    traced = load_traced(None, environ={"KAFKA_EVENTS_STATUS_INSTANCE": "true", "KAFKA_EVENTS_GROUP_UPDATE": "true"})
    assert "no KAFKA_EVENTS_STATUS_INSTANCE" in traced.notes["KAFKA_EVENTS_STATUS_INSTANCE"]
    assert "KAFKA_EVENTS_GROUPS_UPDATE" in traced.notes["KAFKA_EVENTS_GROUP_UPDATE"]


def test_sources_say_environment_env_file_or_default(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("KAFKA_CLIENT_ID = from-file\n")
    traced = load_traced(env, environ={"KAFKA_TOPIC_PREFIX": "p"})
    assert traced.sources["KAFKA_CLIENT_ID"] is Source.ENV_FILE
    assert traced.sources["KAFKA_TOPIC_PREFIX"] is Source.ENVIRONMENT
    assert traced.sources["KAFKA_REQUEST_TIMEOUT"] is Source.DEFAULT


def test_ssl_material_as_pem_text_or_as_a_path() -> None:
    pem = ssl_material(PEM)
    assert pem is not None and pem.kind == "pem" and "PEM text" in pem.described
    one_line = ssl_material(PEM.replace("\n", "\\n"))
    assert one_line is not None and one_line.kind == "pem" and "\n-----END" in one_line.value
    path = ssl_material("/etc/ca.pem")
    assert path is not None and path.kind == "path" and path.described == "file /etc/ca.pem"
    traced = load_traced(None, environ={"KAFKA_SSL_CA": PEM})
    assert "PEM text" in traced.notes["KAFKA_SSL_CA"]


def test_config_never_shows_a_pem_key() -> None:
    from tui.config_view import describe

    key = "-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----\n"
    settings = load_settings(None, environ={"KAFKA_SSL_KEY": key, "KAFKA_SSL_CA": PEM, "KAFKA_SSL_CERT": "/c.pem"})
    shown = describe(settings, reveal=True)["SSL"]
    assert "SECRETKEYBYTES" not in str(shown) and "SECRETKEYBYTES" not in repr(settings)
    assert shown["KAFKA_SSL_KEY"].startswith("PEM text") and shown["KAFKA_SSL_CERT"] == "/c.pem"


def test_notes_for_values_evolution_does_not_read_as_written() -> None:
    traced = load_traced(None, environ={"KAFKA_BROKERS": "a:1, b:2", "KAFKA_SASL_USERNAME": "u"})
    assert traced.settings.brokers == ["a:1", "b:2"]
    assert "does not trim" in traced.notes["KAFKA_BROKERS"]
    assert "only when KAFKA_SASL_ENABLED is true" in traced.notes["KAFKA_SASL_USERNAME"]
    assert "KAFKA_SASL_USERNAME" not in load_traced(
        None, environ={"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_ENABLED": "true"}
    ).notes
