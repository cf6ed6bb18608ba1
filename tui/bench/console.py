"""Console scenarios (flood, end to end, memory)."""

from __future__ import annotations

from tui.bench.report import ScenarioResult, unavailable
from tui.bench.workload import BenchContext


async def run_flood(ctx: BenchContext) -> ScenarioResult:
    return unavailable("flood", "pending")


async def run_end_to_end(ctx: BenchContext) -> ScenarioResult:
    return unavailable("e2e", "pending")


async def run_memory(ctx: BenchContext) -> ScenarioResult:
    return unavailable("memory", "pending")
