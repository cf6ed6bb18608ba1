"""evokafka's REST client and Evolution source against the fixture-driven Evolution API 2.3.6 stand-in.

The stand-in (``tests/evolution_replay.py``) knows nothing of evokafka's code: a request the recording does not
hold is answered 599 and listed in ``replay.unmatched``, so a client that sends something Evolution was never
recorded answering fails here.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.evolution_replay import load, replay_server
from tui import catalog
from tui.evolution.client import EvolutionClient, EvolutionKafkaDisabledError
from tui.evolution.source import EvolutionSource


def _source(url: str, key: str) -> EvolutionSource:
    return EvolutionSource(EvolutionClient(url, SecretStr(key), timeout=5))


async def test_toggle_one_event_on_an_instance_evolution_enabled_with_all_events() -> None:
    fixture = load("toggle_all_events.json")
    async with replay_server(fixture) as (url, replay):
        source = _source(url, fixture["global_key"])
        try:
            [before] = await source.instances()
            call = catalog.lookup("call")
            assert before.enables(call) and before.enables(catalog.lookup("send.message.update"))
            after = await source.toggle("acme-sales", call)
        finally:
            await source.stop()
    assert replay.unmatched == [] and all(replay.used)
    assert not after.enables(call)
    assert after.enables(catalog.lookup("send.message.update")) and after.enables(catalog.lookup("messages.upsert"))
    assert after.record is not None and "CALL" not in after.record.events and len(after.record.events) == 30


async def test_a_kafka_off_server_is_one_line_that_says_so() -> None:
    fixture = load("kafka_off.json")
    async with replay_server(fixture) as (url, replay):
        source = _source(url, fixture["global_key"])
        try:
            with pytest.raises(EvolutionKafkaDisabledError) as caught:
                await source.instances()
            with pytest.raises(EvolutionKafkaDisabledError):
                await source.set("acme-sales", True, ["CALL"])
        finally:
            await source.stop()
    assert replay.unmatched == []
    assert str(caught.value) == (
        f"Evolution API at {url} has Kafka disabled: KAFKA_ENABLED is not true there"
    )


async def test_group_update_is_understood_and_names_as_evolution_allows_them() -> None:
    fixture = load("group_update_named_instance.json")
    async with replay_server(fixture) as (url, replay):
        source = _source(url, fixture["global_key"])
        try:
            [listed] = await source.instances()
            again = await source.get("Loja Centro")
        finally:
            await source.stop()
    assert replay.unmatched == []
    assert listed.name == "Loja Centro" and listed.kafka_enabled
    groups = catalog.lookup("groups.update")
    assert listed.enables(groups) and listed.enables(catalog.lookup("messages.upsert"))
    assert [e.wire for e in listed.missed] == ["groups.update"]  # asked for, never published by Evolution
    assert again.enables(groups)


async def test_groups_update_shown_on_but_flagged_and_its_switching_on_refused() -> None:
    fixture = load("toggle_all_events.json")
    async with replay_server(fixture) as (url, replay):
        source = _source(url, fixture["global_key"])
        try:
            [listed] = await source.instances()
        finally:
            await source.stop()
    assert replay.unmatched == []
    groups = catalog.lookup("groups.update")
    # Evolution's "all" holds GROUP_UPDATE: the toggle is on, and the row says Evolution never publishes it.
    assert listed.enables(groups) and [e.wire for e in listed.missed] == ["groups.update"]
    assert source.refuses(groups) and source.refuses(catalog.lookup("send.message.update")) is None
