"""The header tells the truth within seconds: a silent cluster, a registry the cluster lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, stop
from tui.config import load_app_settings, load_settings
from tui.console.screens.streams import StreamsScreen
from tui.console.session import CLUSTER_CHECK_INTERVAL_S, PROBE_BOUND_S, Session
from tui.console.widgets.cluster_header import describe_connection
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.linkproxy import LinkProxy
from tui.selection import PaneSpec, Selection
from tui.status import PublisherState, RegistryHealth, RegistryHealthState, RegistryState, RegistryView


async def test_a_cluster_gone_silent_is_shown_failing_within_seconds_whatever_the_request_timeout(
    tmp_path: Path,
) -> None:
    broker_port = free_port()
    # The broker advertises the proxy: every connection of the clients crosses the link that is cut.
    async with LinkProxy("127.0.0.1", broker_port) as proxy:
        broker = EmbeddedBroker(broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
        settings = load_settings(None, environ={}, brokers=f"127.0.0.1:{proxy.port}", request_timeout="120000")
        session = Session.build(settings, load_app_settings(None, environ={}))
        try:
            assert (await asyncio.wait_for(session.check_cluster(), timeout=30)).up
            await proxy.cut_silently()  # connections held and accepted, nothing answered: no reset, no refusal
            began = time.monotonic()
            view = await asyncio.wait_for(session.check_cluster(), timeout=30)
            took = time.monotonic() - began
            assert not view.up and view.error
            # Bounded by the probe, not by the 120 s request timeout: with the interval between checks, the
            # header leaves "up" within 3 s of the cluster going silent.
            assert took < 2 * PROBE_BOUND_S + 0.5, took
            assert CLUSTER_CHECK_INTERVAL_S + 2 * PROBE_BOUND_S <= 3.0
            await proxy.restore()
            assert (await asyncio.wait_for(session.check_cluster(), timeout=30)).up  # back as soon as it answers
        finally:
            await session.stop(timeout=5)
            broker.stop()


def test_the_header_never_says_synced_for_a_registry_the_cluster_lost() -> None:
    lost = RegistryHealth(RegistryHealthState.LOST, "reg", "topic re-created", lost_at=time.time(), held=3,
                          missing=("a", "b"))
    text = str(describe_connection(PublisherState.CONNECTED, RegistryView(RegistryState.SYNCED, 1, health=lost)))
    assert "registry lost by the cluster at" in text and "synced" not in text
    silent = RegistryHealth(RegistryHealthState.NOT_ANSWERING, "reg", "no answer for 2.6s")
    text = str(describe_connection(PublisherState.STALLED, RegistryView(RegistryState.SYNCED, 1, health=silent)))
    assert "registry not answering" in text and "synced" not in text
    healthy = RegistryHealth(RegistryHealthState.SYNCED, "reg")
    text = str(describe_connection(PublisherState.CONNECTED, RegistryView(RegistryState.SYNCED, 1, health=healthy)))
    assert "registry synced" in text


async def test_a_pane_reading_from_a_cluster_gone_silent_says_stalled_then_reading_again(
    make_console: Callable[..., Console], prefix: str, tmp_path: Path
) -> None:
    broker_port = free_port()
    async with LinkProxy("127.0.0.1", broker_port) as proxy:
        broker = EmbeddedBroker(broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
        console = make_console(bootstrap=f"127.0.0.1:{proxy.port}", request_timeout="120000")
        try:
            async with console.app.run_test(size=(120, 40), message_hook=console.hook) as pilot:
                await console.ready()
                await pilot.press("s")
                await async_wait_until(lambda: isinstance(console.app.screen, StreamsScreen))
                screen = console.app.screen
                assert isinstance(screen, StreamsScreen)
                pane = await screen.add_pane(PaneSpec("p", Selection(topics=(f"{prefix}.raw",)), "latest"))
                await async_wait_until(lambda: pane.state == "reading", timeout=30)

                def title() -> str:
                    return str(pane.query_one(".stream-pane--title", Static).render())

                await proxy.cut_silently()
                # Within seconds, whatever the 120 s request timeout: the session's check says the cluster does
                # not answer, and the pane's title says so.
                try:
                    await async_wait_until(lambda: "stalled" in title(), timeout=5)
                except AssertionError:
                    raise AssertionError(f"{console.session.cluster} {title()!r} {pane.state}") from None
                await proxy.restore()
                await async_wait_until(lambda: "stalled" not in title(), timeout=15)
        finally:
            await stop(console)
            broker.stop()
