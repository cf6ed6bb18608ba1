"""Child process of the console scenarios: the real console, headless, with stream panes on a topic.

``python -m tui.bench.consolerun MODE --brokers B --prefix P --topic T [...]`` opens :class:`tui.console.app.EvokafkaApp`
on the broker (its session started as ``evokafka`` starts it), switches to the Streams area, opens ``--panes``
panes on ``--topic`` from ``latest`` in the grid (all visible), prints ``READY {json}`` and measures while the
parent feeds the topic; then prints ``RESULT {json}`` and exits. Running in a process of its own keeps the
parent's feeding off this event loop and gives the memory scenario a clean RSS.

Modes:
- ``flood``: for ``--seconds``, records received by each pane, frames painted, and key press → screen latency:
  every ``--key-interval`` a ``]`` (next pane) is sent the way the terminal driver sends keys; the latency is the
  time to the first painted frame that shows the newly active pane.
- ``e2e``: for ``--seconds``, every row that becomes visible on a painted frame: frame time minus the envelope's
  ``timestamp`` (set by the publisher when the event was handed over). Beside it, where the time went: each
  record's arrival at the pane (``arrival_*``: its ingest minus the record's producer timestamp) and how late the
  event loop woke for a 10 ms sleep (``loop_late_*``).
- ``memory``: RSS when the panes are ready, then as each pane passes checkpoints up to ``--records``; each
  pane's buffered bytes and drops at the end (the byte budget's run feeds records of 1 MB).

Every mode also reports the child's CPU seconds while measuring (``cpu_s``: comparable across runs on a busy
machine where wall times are not) and the collector's pauses per generation (``gc``: count, total and longest
pause, CPU). ``flood`` splits each key press into waiting for the event loop to reach it, the action, and the
wait for the frame that shows it (``key_phases_ms``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import time
from functools import partial
from typing import Any

from textual import events

from tui.bench.frames import FrameProbe
from tui.bench.report import percentile
from tui.bench.workload import rss_bytes

READY = "READY"
RESULT = "RESULT"
SETUP_TIMEOUT_S = 60.0
KEY_TIMEOUT_S = 2.0


async def _wait_for(condition: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f}s")
        await asyncio.sleep(0.02)


class GcPauses:
    """The collector's pauses in this process, by generation (``gc.callbacks``): what stalls the event loop
    besides the work itself."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.cpu: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.collected = 0
        self._began = self._began_cpu = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._began)
            self.cpu[info["generation"]].append(time.thread_time() - self._began_cpu)
            self.collected += info["collected"]

    def install(self) -> GcPauses:
        """Start recording."""
        gc.callbacks.append(self)
        return self

    def reset(self) -> None:
        """Forget the pauses so far (set-up)."""
        for pauses in (*self.pauses.values(), *self.cpu.values()):
            pauses.clear()
        self.collected = 0

    def report(self) -> dict[str, Any]:
        """Per generation: how many collections, their total and longest pause (ms)."""
        out: dict[str, Any] = {
            f"gen{gen}": {
                "count": len(p), "total_ms": sum(p) * 1000, "max_ms": max(p, default=0.0) * 1000,
                "cpu_ms": sum(self.cpu[gen]) * 1000,
            }
            for gen, p in self.pauses.items()
        }
        out["collected"] = self.collected
        out["threshold"] = gc.get_threshold()
        out["frozen"] = gc.get_freeze_count()
        return out


def _emit(tag: str, data: dict[str, Any]) -> None:
    print(f"{tag} {json.dumps(data)}", flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Open the console, the panes, measure; the result."""
    from tui.config import load_app_settings, load_settings
    from tui.console.app import EvokafkaApp
    from tui.console.screens.streams import StreamsScreen
    from tui.console.session import Session
    from tui.evolution_env import DOCUMENT_EVENT_FIELDS
    from tui.selection import PaneSpec, Selection

    settings = load_settings(
        None, environ={}, brokers=args.brokers, topic_prefix=args.prefix, auto_create_topics="true",
        **DOCUMENT_EVENT_FIELDS,
    )
    app_settings = load_app_settings(None, environ={})
    app = EvokafkaApp(Session.build(settings, app_settings))
    probe = FrameProbe(app).install()
    pauses = GcPauses().install()
    width, height = (int(n) for n in args.size.split("x"))
    async with app.run_test(headless=True, size=(width, height)):
        app.action_open_area("streams")
        await _wait_for(lambda: isinstance(app.screen, StreamsScreen) and app.screen.is_mounted, SETUP_TIMEOUT_S,
                        "the Streams area opening")
        screen = app.screen
        assert isinstance(screen, StreamsScreen)
        panes = []
        for n in range(args.panes):
            spec = PaneSpec(f"bench {n + 1}", Selection(topics=(args.topic,)), start="latest")
            panes.append(await screen.add_pane(spec))
        screen.set_arrangement("grid")
        await _wait_for(lambda: all(p.state == "reading" for p in panes), SETUP_TIMEOUT_S, "the panes reading")
        gc.collect()
        rss_ready = rss_bytes()
        _emit(READY, {"panes": len(panes), "rss": rss_ready})
        pauses.reset()
        cpu_began = time.process_time()
        try:
            if args.mode == "flood":
                result = await _flood(app, probe, screen, panes, args)
            elif args.mode == "e2e":
                result = await _end_to_end(probe, panes, args)
            else:
                result = await _memory(panes, args, rss_ready)
        finally:
            result_cpu = time.process_time() - cpu_began
            with contextlib.suppress(Exception):
                await asyncio.wait_for(app.stop_services(), timeout=15)
    result["cpu_s"] = result_cpu
    result["gc"] = pauses.report()
    result["buffer_capacity"] = app_settings.pane_buffer
    result["terminal"] = args.size
    return result


async def _flood(app: Any, probe: FrameProbe, screen: Any, panes: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    # Wait for the flood to reach the panes before the clock starts.
    await _wait_for(lambda: all(p.buffer.received > 0 for p in panes), SETUP_TIMEOUT_S, "records reaching the panes")
    driver = app._driver
    start_received = [p.buffer.received for p in panes]
    start_displayed = [p.buffer.displayed for p in panes]
    start_frames = probe.frames
    start_chars = probe.output_chars
    latencies: list[float] = []
    missed = 0
    # Where a press's time goes: waiting for the event loop to reach the key, the action itself, then the paint.
    action_at: list[tuple[float, float]] = []
    original_action = screen.action_next_pane

    def timed_action() -> None:
        start = time.perf_counter()
        original_action()
        action_at.append((start, time.perf_counter()))

    screen.action_next_pane = timed_action
    phases: list[tuple[float, float, float]] = []
    began = time.perf_counter()
    loop = asyncio.get_running_loop()
    while time.perf_counter() - began < args.seconds:
        current = screen.active_pane
        index = panes.index(current) if current in panes else -1
        target = panes[(index + 1) % len(panes)]
        seen = probe.watch(partial(target.has_class, "-active"))
        sent = time.perf_counter()
        action_at.clear()
        # As the terminal driver delivers a key: a Key event posted to the app, nothing awaited.
        driver.send_message(events.Key("right_square_bracket", "]"))
        try:
            latency = await asyncio.wait_for(seen, timeout=KEY_TIMEOUT_S)
            latencies.append(latency)
            if action_at:
                start, end = action_at[0]
                phases.append((start - sent, end - start, sent + latency - end))
        except TimeoutError:
            missed += 1
            latencies.append(KEY_TIMEOUT_S)
        await asyncio.sleep(max(0.0, args.key_interval - (loop.time() % args.key_interval)))
    elapsed = time.perf_counter() - began
    received = [p.buffer.received - s for p, s in zip(panes, start_received, strict=True)]
    displayed = [p.buffer.displayed - s for p, s in zip(panes, start_displayed, strict=True)]
    return {
        "seconds": elapsed,
        "received_per_pane": received,
        "displayed_per_pane": displayed,
        "ingest_rate_total": sum(received) / elapsed,
        "ingest_rate_min_pane": min(received) / elapsed,
        "frames": probe.frames - start_frames,
        "fps": (probe.frames - start_frames) / elapsed,
        "terminal_bytes_per_s": (probe.output_chars - start_chars) / elapsed,
        "key_presses": len(latencies),
        "key_missed": missed,
        "key_p50_ms": percentile(latencies, 50) * 1000,
        "key_p99_ms": percentile(latencies, 99) * 1000,
        "key_max_ms": max(latencies, default=0.0) * 1000,
        "key_phases_ms": {
            name: {"p50": percentile(values, 50) * 1000, "p99": percentile(values, 99) * 1000}
            for name, values in (
                ("to_action", [p[0] for p in phases]),
                ("action", [p[1] for p in phases]),
                ("to_frame", [p[2] for p in phases]),
            )
        },
        "dropped_unseen": [p.buffer.dropped_unseen for p in panes],
    }


async def _end_to_end(probe: FrameProbe, panes: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    pane = panes[0]
    seen: set[tuple[int, int]] = set()
    latencies: list[float] = []
    arrivals: list[float] = []
    late: list[float] = []
    measuring = False
    ingest = pane.ingest

    def ingest_timed(records: list[Any]) -> int:
        # Each record in the console's hands, against the producer's timestamp: a slow row that was already late
        # here was held up before the console (publisher, broker, machine), not by it.
        if measuring:
            now = time.time()
            arrivals.extend([now - record.timestamp / 1000 for record in records])
        return int(ingest(records))

    pane.ingest = ingest_timed

    async def tick() -> None:
        # How late the event loop wakes for a 10 ms sleep: the console's own stalls.
        loop = asyncio.get_running_loop()
        while True:
            at = loop.time()
            await asyncio.sleep(0.01)
            if measuring:
                late.append(loop.time() - at - 0.01)

    def on_frame() -> bool:
        # Runs on every painted frame: the rows of the first pane that this frame shows for the first time.
        if not measuring:
            return False
        now = time.time()
        table = pane.table
        top = int(table.scroll_offset.y)
        buffer = pane.buffer
        for index in range(max(top, 0), min(top + table.size.height, len(buffer))):
            row = buffer[index]
            where = (row.record.partition, row.record.offset)
            if where in seen:
                continue
            seen.add(where)
            body = row.decoded.body
            if isinstance(body, dict) and isinstance(body.get("timestamp"), int | float):
                latencies.append(now - body["timestamp"] / 1000)
        return False

    probe.watch(on_frame)
    await _wait_for(lambda: pane.buffer.received > 0, SETUP_TIMEOUT_S, "records reaching the pane")
    # Rows already buffered were published before the window: only rows that arrive from now on count.
    seen.update((row.record.partition, row.record.offset) for row in pane.buffer)
    ticker = asyncio.create_task(tick())
    measuring = True
    began = time.perf_counter()
    await asyncio.sleep(args.seconds)  # the measuring window itself: frames are observed meanwhile
    elapsed = time.perf_counter() - began
    measuring = False
    ticker.cancel()
    return {
        "seconds": elapsed,
        "rows_measured": len(latencies),
        "received": pane.buffer.received,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=0.0) * 1000,
        "frames": probe.frames,
        # Where the time went: to the console (every record, from its producer timestamp to the pane's ingest) and
        # the event loop's lateness waking for a 10 ms sleep.
        "arrival_p50_ms": percentile(arrivals, 50) * 1000,
        "arrival_p99_ms": percentile(arrivals, 99) * 1000,
        "arrival_max_ms": max(arrivals, default=0.0) * 1000,
        "loop_late_p99_ms": percentile(late, 99) * 1000,
        "loop_late_max_ms": max(late, default=0.0) * 1000,
    }


async def _memory(panes: list[Any], args: argparse.Namespace, rss_ready: int) -> dict[str, Any]:
    checkpoints = [args.records * n // 10 for n in range(1, 11)]
    samples: list[dict[str, int]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.seconds
    for mark in checkpoints:
        await _wait_for(lambda mark=mark: min(p.buffer.received for p in panes) >= mark,
                        max(deadline - loop.time(), 0.1), f"{mark:,} records through every pane")
        samples.append({"records": min(p.buffer.received for p in panes), "rss": rss_bytes()})
    gc.collect()
    rss_end = rss_bytes()
    return {
        "records_per_pane": min(p.buffer.received for p in panes),
        "rss_ready": rss_ready,
        "rss_end": rss_end,
        "growth": rss_end - rss_ready,
        "samples": samples,
        "buffered_per_pane": [len(p.buffer) for p in panes],
        "buffered_bytes_per_pane": [p.buffer.bytes for p in panes],
        "dropped_per_pane": [p.buffer.dropped for p in panes],
    }


def main() -> None:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(prog="python -m tui.bench.consolerun")
    parser.add_argument("mode", choices=("flood", "e2e", "memory"))
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--panes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--key-interval", type=float, default=0.25)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args))
    except Exception as exc:
        _emit(RESULT, {"error": f"{exc.__class__.__name__}: {exc}"})
        sys.exit(1)
    _emit(RESULT, result)


if __name__ == "__main__":
    main()
