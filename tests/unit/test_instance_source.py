"""The one answer to "does this instance get every event", shared by the console's table and the CLI."""

from __future__ import annotations

from tui import catalog
from tui.instance_settings import InstanceSettings
from tui.instance_source import Origin, SourceInstance


def _item(settings: InstanceSettings | None) -> SourceInstance:
    return SourceInstance("shop", Origin.REGISTRY, settings)


def test_the_empty_list_and_a_list_naming_every_event_both_cover_every_event() -> None:
    assert _item(InstanceSettings.from_request(True, [])).covers_every_event
    every = [e.name for e in catalog.EVENTS]
    assert _item(InstanceSettings.from_request(True, every)).covers_every_event


def test_a_partial_list_a_disabled_instance_and_no_settings_do_not() -> None:
    every = [e.name for e in catalog.EVENTS]
    assert not _item(InstanceSettings.from_request(True, every[:-1])).covers_every_event
    assert not _item(InstanceSettings.from_request(False, [])).covers_every_event
    assert not _item(None).covers_every_event
