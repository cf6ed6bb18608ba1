"""The demo for a second terminal: its settings file agrees with the demo (``topics diff`` finds nothing false),
and its own consumer group commits, so the lag panel has real, moving lag to show."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import async_wait_until
from tui.cli.common import Context
from tui.cli.demo_cmd import demo_settings
from tui.config import load_app_settings, load_settings
from tui.demo.runner import DemoConfig, DemoRunner
from tui.kafka.lag import group_lag, group_overview
from tui.kafka.topics import cluster_diff, registry_instances

pytestmark = pytest.mark.broker


async def test_the_written_settings_file_gives_the_demos_topic_diff_and_the_group_lags() -> None:
    runner = DemoRunner(demo_settings(Context(), None, True), DemoConfig(rate=50, instances=3, seed=3))
    await runner.start()
    traffic = asyncio.create_task(runner.run())
    written = runner.env_file
    try:
        assert written is not None and written.is_file()
        assert runner.second_terminal == f"evokafka --brokers {runner.bootstrap} --env-file {runner.env_file}"
        assert oct(runner.env_file.stat().st_mode & 0o777) == "0o600"
        await async_wait_until(lambda: runner.stats.acknowledged > 100, timeout=30)

        # What a second terminal loads from the file (plus --brokers) is what the demo runs with.
        second = load_settings(runner.env_file, environ={}, brokers=runner.bootstrap)
        app = load_app_settings(runner.env_file, environ={})
        instances = await registry_instances(second, runner.options, app.registry_topic)
        seen = await cluster_diff(second, runner.options, instances)
        assert (seen.unexpected, seen.wrong_partitions) == ((), ())

        # The same topics missing for both. The demo's traffic creates topics as it goes, so the two diffs, read
        # one after the other, agree once no topic was created between the two reads.
        async def same_missing() -> bool:
            seen = await cluster_diff(second, runner.options, instances)
            truth = await cluster_diff(runner.settings, runner.options, instances)
            return [t.topic for t in seen.missing] == [t.topic for t in truth.missing]

        await async_wait_until(same_missing, timeout=30)
        # Without the file (the bare --brokers the demo used to print) the diff is wrong: the test can fail.
        bare = await cluster_diff(load_settings(None, environ={}, brokers=runner.bootstrap), runner.options,
                                  instances)
        assert bare.unexpected or bare.wrong_partitions

        # The demo's own group commits as it reads: listed, with lag, and the lag moves.
        group = runner.settings.consumer_group_id
        await async_wait_until(lambda: runner.readers.read > 0, timeout=30)
        listed = {g.group: g for g in await group_overview(runner.options)}
        assert group in listed and listed[group].lag is not None
        first = (await group_lag(runner.options, group)).total
        moved: list[int] = []

        async def changed() -> None:
            while not moved:
                total = (await group_lag(runner.options, group)).total
                if total != first:
                    moved.append(total)
                else:
                    await asyncio.sleep(0.2)

        await asyncio.wait_for(changed(), timeout=30)
    finally:
        runner.request_stop()
        await traffic
        await runner.stop()
    assert runner.env_file is None and not written.exists()  # the demo's file goes with the demo
