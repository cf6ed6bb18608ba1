"""The registry never waits for ever on one of its clients or tasks to stop (tui.kafka.registry_reader._settle)."""

from __future__ import annotations

import asyncio

import pytest

from tui.kafka import registry_reader


async def test_a_stop_that_never_returns_is_left_after_the_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registry_reader, "STOP_BOUND_S", 0.05)
    stuck = asyncio.get_running_loop().create_future()  # a client's stop() that never completes

    async def stop() -> None:
        await stuck

    loop = asyncio.get_running_loop()
    began = loop.time()
    cancelled = await asyncio.wait_for(registry_reader._settle(stop(), registry_reader._cancelling()), 5)
    assert cancelled is False and loop.time() - began < 2
    assert "did not stop within" in caplog.text


async def test_a_stop_that_returns_is_awaited_and_its_errors_stay_inside() -> None:
    done: list[bool] = []

    async def stop() -> None:
        await asyncio.sleep(0.01)
        done.append(True)
        raise RuntimeError("the client complained while closing")

    assert await registry_reader._settle(stop(), registry_reader._cancelling()) is False
    assert done == [True]
