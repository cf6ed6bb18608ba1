"""Snapshots of the screens and states that make keys findable and changes safe, at 80x24 and 120x40: the keys
help, the confirmation of a live change, the consumer groups list, the profile switcher, the header of a
production profile, and the demo's home. Moving parts frozen as in ``test_snapshots.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import frozen_app
from tui.console.app import EvokafkaApp
from tui.console.screens.groups import GroupsScreen
from tui.console.screens.profiles_dialog import ProfilesDialog
from tui.console.widgets.instance_list import InstanceList
from tui.demo.home import DemoFacts, DemoHomeScreen
from tui.group_lag import GroupSummary
from tui.profiles import Profile, ProfileStore

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
PROFILES = Path(__file__).resolve().parents[1] / "fixtures" / "profiles"

SnapCompare = Callable[..., bool]


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_keys_help(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_help)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_all_events(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def ask(pilot: Pilot[Any]) -> None:
        await pilot.press("i")
        await pilot.pause()
        table = pilot.app.screen.query_one(InstanceList)
        table.move_cursor(row=table.get_row_index("acme-support"))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("a")  # 4 of 31 events → all: asked first
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=ask)


GROUPS = [
    GroupSummary("billing-service", "Stable", 3, 0, 12),
    GroupSummary("evolution-api-consumers", "Empty", 0, 1_284, 87),
    GroupSummary("search-indexer", "PreparingRebalance", 2, 17, 6),
    GroupSummary("old-reporting", "Dead", 0, None, 0, error="UnknownTopicOrPartition"),
]


@pytest.mark.parametrize("size", SIZES)
def test_consumer_groups(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def show_groups(pilot: Pilot[Any]) -> None:
        await pilot.press("g")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, GroupsScreen)
        screen.show(GROUPS)
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=show_groups)


@pytest.mark.parametrize("size", SIZES)
def test_profile_switcher(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def open_switcher(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(ProfilesDialog("staging", ProfileStore(PROFILES)))
        await _settle(pilot)

    assert snap_compare(frozen_app(), terminal_size=size, run_before=open_switcher)


@pytest.mark.parametrize("size", SIZES)
def test_production_profile_header(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = frozen_app(read_only=True)
    app.session.profile = Profile("prod-eu", PROFILES / "prod-eu.env", production=True)
    assert snap_compare(app, terminal_size=size, run_before=_settle)


class FrozenDemoApp(EvokafkaApp):
    """The console with the demo's home and fixed demo facts."""

    MODES = {**EvokafkaApp.MODES, "home": DemoHomeScreen}

    def demo_facts(self) -> DemoFacts:
        return DemoFacts(
            "127.0.0.1:40111", True, 5, 10.0, True, "evolution-api-consumers",
            "evokafka --brokers 127.0.0.1:40111 --env-file /tmp/evokafka-demo-40111.env", True, 1_234,
        )


@pytest.mark.parametrize("size", SIZES)
def test_demo_home(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    session = frozen_app().session
    app = FrozenDemoApp(session, connect=False, cursor_blink=False)
    assert snap_compare(app, terminal_size=size, run_before=_settle)
