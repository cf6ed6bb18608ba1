"""Scenario ``tail``: ``evokafka tail`` against a plain confluent-kafka consumer writing the same JSON lines.

One topic (4 partitions) is filled with realistic envelopes before the clock starts. Then, in alternating rounds,
each reader runs as its own process, as an operator runs it, from spawn to its last line, with stdout to a file:

- baseline: :mod:`tui.bench.confluent_tail` (librdkafka + ``json``), reading every record from the beginning;
- subject: ``evokafka tail TOPIC --from earliest --max N``.

Both stop after the N records the topic holds (``--max``), so neither pays for deciding where the end is. The
figure ``tail_vs_confluent`` is records/s of tail ÷ records/s of the baseline (median of the rounds); goal >= 1.0x,
and each round's tail is judged against the baseline run just before it (``paired_ratios``: the machine's speed
drifts between rounds).
Without confluent-kafka installed the scenario says "not available".
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from tui.bench.ingest import fill
from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.start import compile_bytecode
from tui.bench.workload import BenchContext

NAME = "tail"
RUN_TIMEOUT_S = 180.0


def _sizes(ctx: BenchContext) -> tuple[int, int]:
    """(rounds, records in the topic)."""
    return (1, 10_000) if ctx.quick else (5, 100_000)


async def _timed(args: list[str], out: Path, env: dict[str, str]) -> float:
    """Wall seconds from spawn to exit of ``args`` with stdout to ``out``; raises when it fails."""
    with out.open("wb") as sink:
        began = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *args, stdout=sink, stderr=asyncio.subprocess.PIPE, env=env
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), timeout=RUN_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeError(f"{args[2]} did not finish within {RUN_TIMEOUT_S:.0f}s") from None
        elapsed = time.perf_counter() - began
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} exited {process.returncode}: {err.decode(errors='replace')[-300:]}")
    return elapsed


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the tail scenario."""
    result = ScenarioResult(NAME)
    if importlib.util.find_spec("confluent_kafka") is None:
        result.status = "not available: confluent-kafka is not installed (pip install confluent-kafka)"
        return result
    rounds, count = _sizes(ctx)
    topic = ctx.topic("tail")
    ctx.progress(f"tail: filling {topic} with {count:,} records")
    await fill(ctx, topic, count)
    # As an installed wheel starts (the start scenario does the same): without it, an editable install under
    # PYTHONDONTWRITEBYTECODE compiles evokafka's modules on every tail's start.
    compiled = await asyncio.to_thread(compile_bytecode)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    baseline_args = [sys.executable, "-m", "tui.bench.confluent_tail", ctx.bootstrap, topic, str(count)]
    tail_args = [sys.executable, "-m", "tui", "--brokers", ctx.bootstrap, "tail", topic,
                 "--from", "earliest", "--max", str(count)]
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="evokafka-bench-tail-") as folder:
        out = Path(folder) / "lines.jsonl"
        for round_no in range(rounds):
            for label, args, rates in (("confluent-kafka", baseline_args, theirs), ("evokafka tail", tail_args, ours)):
                ctx.progress(f"tail round {round_no + 1}/{rounds}: {label}")
                seconds = await _timed(args, out, env)
                lines = _lines(out)
                if lines != count:
                    raise RuntimeError(f"{label} wrote {lines} lines for {count} records")
                rates.append(count / seconds)
    result.details = {"rounds": rounds, "records": count, "partitions": 4,
                      "measured": "spawn to exit, stdout to a file, both stop after the N records",
                      "bytecode": "compiled before timing" if compiled else "not written (read-only install?)"}
    result.add(
        Figure(
            "tail_vs_confluent",
            median(ours),
            "records/s",
            "evokafka tail from spawn to its last line, over the same records",
            baseline_name="confluent-kafka consumer + json writing the same JSON lines",
            baseline_value=median(theirs),
            goal=Goal(GoalKind.RATIO_AT_LEAST, 1.0, ">= 1.0x"),
            samples=ours,
            baseline_samples=theirs,
        )
    )
    return result
