"""Child process of the ``scale`` scenario: the real console on a cluster with many instances.

``python -m tui.bench.scalerun --brokers B --prefix P --registry-topic R`` opens the console headless (its
session started as ``evokafka`` starts it, the registry on ``R``), prints :data:`PAINTED` at its first painted
frame (the parent times spawn → that line), then measures from that moment: the registry replayed (every
entry known), the Layout area opened and showing the cluster's topics on a painted frame, then their record
counts; then prints
``RESULT {json}`` (seconds, RSS) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any

from tui.bench.workload import rss_bytes

PAINTED = "PAINTED"
RESULT = "RESULT"
STEP_TIMEOUT_S = 120.0


async def _until(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT_S
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"{what} did not happen within {STEP_TIMEOUT_S:.0f}s")
        await asyncio.sleep(0.01)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Open the console, wait for each step on a painted frame; the seconds of each and the RSS."""
    from tui.bench.frames import FrameProbe
    from tui.config import load_app_settings, load_settings
    from tui.console.app import EvokafkaApp
    from tui.console.session import Session

    settings = load_settings(None, environ={}, brokers=args.brokers, topic_prefix=args.prefix)
    app_settings = load_app_settings(None, environ={"EVOKAFKA_REGISTRY_TOPIC": args.registry_topic})
    session = Session.build(settings, app_settings)
    app = EvokafkaApp(session)
    probe = FrameProbe(app).install()
    painted = probe.watch(lambda: True)
    async with app.run_test(headless=True, size=(120, 40)):
        try:
            await asyncio.wait_for(painted, timeout=STEP_TIMEOUT_S)
            print(PAINTED, flush=True)
            began = time.perf_counter()
            synced = probe.watch(lambda: session.registry.synced, since=began)
            registry_s = await asyncio.wait_for(synced, timeout=STEP_TIMEOUT_S)
            entries = len(session.registry_entries())
            opened = time.perf_counter()
            app.action_open_area("layout")
            from tui.console.screens.layout import LayoutScreen

            def layout_ready() -> bool:
                screen = app.screen
                return isinstance(screen, LayoutScreen) and screen.is_mounted and screen.stats is not None

            def counts_shown() -> bool:
                screen = app.screen
                stats = screen.stats if isinstance(screen, LayoutScreen) else None
                return stats is not None and (bool(stats.messages) or not stats.partitions)

            # Both watched from the same moment: the counts may come on the very frame the topics do.
            ready = probe.watch(layout_ready, since=opened)
            counted = probe.watch(counts_shown, since=opened)
            layout_s = await asyncio.wait_for(ready, timeout=STEP_TIMEOUT_S)
            counts_s = await asyncio.wait_for(counted, timeout=STEP_TIMEOUT_S)
            return {
                "registry_synced_s": registry_s,
                "registry_entries": entries,
                "layout_ready_s": layout_s,
                "layout_counts_s": counts_s,
                "rss": rss_bytes(),
                "frames": probe.frames,
            }
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(app.stop_services(), timeout=15)


def main() -> None:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(prog="python -m tui.bench.scalerun")
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--registry-topic", required=True)
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args))
    except Exception as exc:
        print(f"{RESULT} {json.dumps({'error': f'{exc.__class__.__name__}: {exc}'})}", flush=True)
        sys.exit(1)
    print(f"{RESULT} {json.dumps(result)}", flush=True)


if __name__ == "__main__":
    main()
