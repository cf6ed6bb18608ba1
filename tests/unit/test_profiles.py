"""Named connection profiles: files in the configuration directory, read by the ordinary loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import load_settings
from tui.profiles import MASK, ProfileError, ProfileStore, masked


def test_a_profile_is_an_env_file_the_loader_reads(tmp_path: Path) -> None:
    store = ProfileStore(environ={"EVOKAFKA_CONFIG_DIR": str(tmp_path)})
    assert store.directory == tmp_path / "profiles" and store.names() == []
    saved = store.save("staging", {"KAFKA_BROKERS": "a:1,b:2", "KAFKA_TOPIC_PREFIX": "stg"})
    store.save("prod-eu", {"KAFKA_BROKERS": "p:9092"}, production=True)
    assert store.names() == ["prod-eu", "staging"]
    assert not saved.production and store.get("prod-eu").production
    settings = load_settings(store.get("staging").path, environ={})
    assert settings.brokers == ["a:1", "b:2"] and settings.topic_prefix == "stg"


def test_the_reference_block_pasted_as_a_profile_loads(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    (tmp_path / "ref.env").write_text("# from the document\nKAFKA_BROKERS = k:9092\n\nEVOKAFKA_PRODUCTION = true\n")
    assert store.get("ref").production
    assert store.values("ref")["KAFKA_BROKERS"] == "k:9092"


def test_secrets_are_masked_unless_revealed() -> None:
    values = {"KAFKA_SASL_PASSWORD": "hunter2", "EVOLUTION_API_KEY": "k", "KAFKA_BROKERS": "a:1",
              "KAFKA_SASL_USERNAME": "bob", "KAFKA_SSL_KEY": ""}
    shown = masked(values)
    assert shown["KAFKA_SASL_PASSWORD"] == MASK and shown["EVOLUTION_API_KEY"] == MASK
    assert shown["KAFKA_BROKERS"] == "a:1" and shown["KAFKA_SASL_USERNAME"] == "bob"
    assert shown["KAFKA_SSL_KEY"] == ""  # empty stays empty
    assert masked(values, reveal=True) == values


def test_bad_and_unknown_names_are_one_line(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError, match="bad profile name"):
        store.path("../etc/passwd")
    store.save("one", {})
    with pytest.raises(ProfileError, match=r"no profile 'two'.*profiles: one"):
        store.get("two")
    (tmp_path / "broken.env").write_text("this is not a variable\n")
    with pytest.raises(ProfileError, match="expected KEY = value"):
        store.get("broken")
