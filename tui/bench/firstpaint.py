"""Child process of the ``start`` scenario: open the real console headless and report its first painted frame.

``python -m tui.bench.firstpaint --brokers HOST:PORT --prefix P`` imports the console, builds its session on
the broker, runs the app headless and prints :data:`MARKER` the moment the first frame is painted; the parent
times spawn → marker. Then it stops the session (bounded) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

MARKER = "evokafka-first-paint"
PAINT_TIMEOUT_S = 30.0


async def first_paint(brokers: str, prefix: str) -> float:
    """Seconds from the start of this function's imports to the first painted frame."""
    started = time.perf_counter()
    from tui import collector

    collector.hold()  # as `evokafka` opens the console (tui.cli.console_cmd.open_console); on after the first frame
    from tui.bench.frames import FrameProbe
    from tui.config import load_app_settings, load_settings
    from tui.console.app import EvokafkaApp
    from tui.console.session import Session

    settings = load_settings(None, environ={}, brokers=brokers, topic_prefix=prefix, auto_create_topics="true")
    app = EvokafkaApp(Session.build(settings, load_app_settings(None, environ={})))
    probe = FrameProbe(app).install()
    painted = probe.watch(lambda: True, since=started)
    async with app.run_test(headless=True, size=(120, 40)):
        try:
            elapsed = await asyncio.wait_for(painted, timeout=PAINT_TIMEOUT_S)
            # CPU seconds of this process to the first frame (imports included): steadier than wall time on a
            # busy machine, so the parent reports it beside the wall time.
            print(f"{MARKER} cpu={time.process_time():.4f}", flush=True)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(app.stop_services(), timeout=10)
    return elapsed


def main() -> None:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(prog="python -m tui.bench.firstpaint")
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    elapsed = asyncio.run(first_paint(args.brokers, args.prefix))
    print(f"in-process {elapsed * 1000:.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
