"""Child process of the ``start`` scenario: open the real console headless and report its first painted frame.

``python -m tui.bench.firstpaint --brokers HOST:PORT --prefix P`` opens the console as the command line does
(:class:`tui.console.app.OpeningConsole`: first frame, then the settings read and the session built on the
broker), runs it headless and prints :data:`MARKER` the moment the first frame is painted, then
:data:`HOME_MARKER` when the home screen, session open, is on a frame; the parent times spawn → each marker. Then
it stops the session (bounded) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from typing import TYPE_CHECKING

MARKER = "evokafka-first-paint"
HOME_MARKER = "evokafka-home-paint"
PAINT_TIMEOUT_S = 30.0


async def first_paint(brokers: str, prefix: str) -> float:
    """Seconds from the start of this function's imports to the first painted frame."""
    started = time.perf_counter()
    from tui import collector

    collector.hold()  # as `evokafka` opens the console (tui.cli.console_cmd.open_console); on after the first frame
    from tui.bench.frames import FrameProbe
    from tui.console.app import OpeningConsole

    if TYPE_CHECKING:
        from tui.console.session import Session

    def opener() -> Session:  # as tui.cli.console_cmd.open_session, on the bench's broker and nothing else
        from tui.config import load_app_settings, load_settings
        from tui.console.session import Session

        settings = load_settings(None, environ={}, brokers=brokers, topic_prefix=prefix, auto_create_topics="true")
        return Session.build(settings, load_app_settings(None, environ={}))

    app = OpeningConsole(opener, source="the bench's broker")
    probe = FrameProbe(app).install()
    painted = probe.watch(lambda: True, since=started)
    home = probe.watch(lambda: app.session_open and app.current_mode == "home", since=started)
    async with app.run_test(headless=True, size=(120, 40)):
        try:
            elapsed = await asyncio.wait_for(painted, timeout=PAINT_TIMEOUT_S)
            # CPU seconds of this process to the first frame (imports included): steadier than wall time on a
            # busy machine, so the parent reports it beside the wall time.
            print(f"{MARKER} cpu={time.process_time():.4f}", flush=True)
            await asyncio.wait_for(home, timeout=PAINT_TIMEOUT_S)
            print(f"{HOME_MARKER} cpu={time.process_time():.4f}", flush=True)
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
