"""Scenario ``start``: how long ``evokafka --help`` and the console's first paint take, against ``python -c pass``.

Each is a fresh process of the same interpreter, timed from spawn: ``--help`` until the process exits, the
console until it reports its first painted frame, and until the first frame of its home (a headless run of the
real app, opened as the command line opens it, on the bench's broker, see :mod:`tui.bench.firstpaint`). Each
figure is the median of several runs; the ratio to the bare interpreter's
start is what compares between machines. Before timing, evokafka's bytecode is compiled (as installing a wheel
does; an editable install under ``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module on every start)
and one untimed run warms the file cache. The console's first paint has a goal (< 500 ms from spawn); ``--help``
and the home's first frame (``console_home_paint``) are reported, not judged.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult, median
from tui.bench.workload import BenchContext

NAME = "start"
RUN_TIMEOUT_S = 60.0


def _runs(ctx: BenchContext) -> int:
    return 3 if ctx.quick else 10


def evokafka_command() -> list[str]:
    """The installed ``evokafka`` script beside this interpreter, else ``python -m tui``."""
    beside = Path(sys.executable).parent / "evokafka"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("evokafka")
    return [found] if found else [sys.executable, "-m", "tui"]


def child_env() -> dict[str, str]:
    """The environment of timed children: no settings of the operator's leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_"))}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


@contextlib.asynccontextmanager
async def _spawned(args: list[str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """``args`` started with :func:`child_env`, stdout and stderr piped; killed on the way out if still running
    (a child's orderly shutdown is not part of any figure)."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def time_process(args: list[str]) -> float:
    """Seconds from spawn until exit; raises when the process fails."""
    started = time.perf_counter()
    async with _spawned(args) as process:
        _, err = await process.communicate()
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(args[-3:])} exited {process.returncode}: {err.decode()[-300:]}")
        return elapsed


async def time_lines(args: list[str], lines: tuple[str, ...], *, seen: list[str] | None = None) -> list[float]:
    """Seconds from spawn until each stdout line starting with one of ``lines`` appears, in that order (the lines
    kept in ``seen``); the child is killed after the last."""
    started = time.perf_counter()
    times: list[float] = []
    async with _spawned(args) as process:
        assert process.stdout is not None
        while len(times) < len(lines):
            line = await process.stdout.readline()
            if not line:
                err = await process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"no {lines[len(times)]}: {err.decode(errors='replace').strip()[-300:]}")
            if line.decode().startswith(lines[len(times)]):
                times.append(time.perf_counter() - started)
                if seen is not None:
                    seen.append(line.decode().strip())
    return times


def compile_bytecode() -> bool:
    """Write the ``.pyc`` of every evokafka module (untimed); whether that worked (a read-only install: no)."""
    import tui

    try:
        return bool(compileall.compile_dir(str(Path(tui.__file__).parent), quiet=2))
    except OSError:
        return False


async def run(ctx: BenchContext) -> ScenarioResult:
    """Measure the start scenario."""
    from tui.bench.firstpaint import HOME_MARKER, MARKER

    result = ScenarioResult(NAME)
    runs = _runs(ctx)
    compiled = await asyncio.to_thread(compile_bytecode)
    bare: list[float] = []
    helps: list[float] = []
    paints: list[float] = []
    homes: list[float] = []
    markers: list[str] = []
    paint_args = [sys.executable, "-m", "tui.bench.firstpaint", "--brokers", ctx.bootstrap, "--prefix", ctx.prefix]
    # Untimed: the first start after an install reads every file from disk.
    await time_process([*evokafka_command(), "--help"])
    await time_lines(paint_args, (MARKER, HOME_MARKER))
    for n in range(runs):
        ctx.progress(f"start run {n + 1}/{runs}")
        bare.append(await time_process([sys.executable, "-c", "pass"]))
        helps.append(await time_process([*evokafka_command(), "--help"]))
        first, home = await time_lines(paint_args, (MARKER, HOME_MARKER), seen=markers)
        paints.append(first)
        homes.append(home)
    baseline = median(bare)
    result.details = {
        "runs": runs,
        "command": [*evokafka_command(), "--help"],
        "bytecode": "compiled before timing" if compiled else "not written (read-only install?): as installed",
        "warm_up": "one untimed run of each",
    }
    result.add(
        Figure(
            "help",
            median(helps) * 1000,
            "ms",
            "evokafka --help, spawn to exit",
            baseline_name="python -c pass",
            baseline_value=baseline * 1000,
            samples=[h * 1000 for h in helps],
        )
    )
    result.add(
        Figure(
            "console_first_paint",
            median(paints) * 1000,
            "ms",
            "the console as the command line opens it (headless, on the bench broker), spawn to its first painted "
            "frame: the opening screen, before the settings are read",
            baseline_name="python -c pass",
            baseline_value=baseline * 1000,
            goal=Goal(GoalKind.VALUE_BELOW, 500.0, "< 500 ms"),
            samples=[p * 1000 for p in paints],
        )
    )
    result.add(
        Figure(
            "console_home_paint",
            median(homes) * 1000,
            "ms",
            "the same console, spawn to the first frame of its home with the settings read and the session open "
            "(reported, not judged: what the first paint was before the console opened ahead of its settings)",
            baseline_name="python -c pass",
            baseline_value=baseline * 1000,
            samples=[h * 1000 for h in homes],
        )
    )
    cpu = [float(m.split("cpu=", 1)[1]) * 1000 for m in markers if m.startswith(MARKER) and "cpu=" in m]
    if cpu:
        result.add(
            Figure(
                "console_first_paint_cpu",
                median(cpu),
                "ms",
                "CPU time of the console process from its start to the first painted frame (imports included): "
                "what the first paint costs, less sensitive than wall time to a busy machine",
                samples=cpu,
            )
        )
    return result
