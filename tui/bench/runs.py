"""Several full bench runs judged together, and the README's table made from them.

A goal holds only when it holds in **every** run (and, in each run, for the median and the worst of that run's
rounds): one good run of three is not a goal met. Across the runs each goal gets the median, the worst (the
lowest rate or ratio, the highest latency or size) and the spread (max - min) of the judged number — the ratio
for a goal against a baseline, the value otherwise.

Pure: works on the JSON objects :func:`tui.bench.runner.run_bench` returns.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from tui.bench.report import GoalKind

RUNS_SCHEMA = 1
"""Version of the JSON shape printed by ``evokafka bench --runs N``."""

BELOW = GoalKind.VALUE_BELOW.value
RATIO = GoalKind.RATIO_AT_LEAST.value


def _figures(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario, result in report.get("scenarios", {}).items():
        for figure in result.get("figures", []):
            if "goal" in figure:
                out[(scenario, figure["name"])] = figure
    return out


def _judged(figure: dict[str, Any]) -> float | None:
    """The number the goal is judged on: the ratio for a goal against a baseline, else the value."""
    if figure.get("goal_kind") == RATIO:
        ratio = figure.get("ratio")
        return None if ratio is None else float(ratio)
    return float(figure["value"])


def _lower_is_better(figure: dict[str, Any]) -> bool:
    return bool(figure.get("goal_kind") == BELOW)


def _holds(figure: dict[str, Any]) -> bool | None:
    holds = figure.get("holds")
    if holds is None:
        return None
    return bool(holds) and figure.get("worst_holds") is not False


def combine(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The runs side by side: every goal's per-run numbers, median, worst, spread, and whether it held in all."""
    keys: list[tuple[str, str]] = []
    for report in reports:
        for key in _figures(report):
            if key not in keys:
                keys.append(key)
    goals: list[dict[str, Any]] = []
    for scenario, name in keys:
        per_run = [_figures(r).get((scenario, name)) for r in reports]
        present = [f for f in per_run if f is not None]
        sample = present[0]
        numbers = [n for n in (_judged(f) for f in present) if n is not None]
        lower = _lower_is_better(sample)
        holds = [None if f is None else _holds(f) for f in per_run]
        line: dict[str, Any] = {
            "scenario": scenario,
            "figure": name,
            "goal": sample["goal"],
            "unit": "x" if sample.get("goal_kind") == RATIO else sample["unit"],
            "per_run": [None if f is None else _judged(f) for f in per_run],
            "holds_per_run": holds,
            "holds_in_every_run": bool(holds) and all(h is True for h in holds),
        }
        if numbers:
            line.update(
                median=round(float(statistics.median(numbers)), 3),
                worst=round(max(numbers) if lower else min(numbers), 3),
                spread=round(max(numbers) - min(numbers), 3),
            )
        goals.append(line)
    return {
        "evokafka_bench_runs": RUNS_SCHEMA,
        "runs": len(reports),
        "all_goals_hold": bool(goals) and all(g["holds_in_every_run"] for g in goals),
        "goals": goals,
        "reports": list(reports),
    }


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(combined: dict[str, Any]) -> str:
    """The README's performance table: one row per goal, median / worst / spread over the runs."""
    runs = combined.get("runs", 1)
    lines = [
        f"| figure (scenario) | goal | median of {runs} | worst of {runs} | spread | per run | holds in every run |",
        "|---|---|---|---|---|---|---|",
    ]
    for goal in combined["goals"]:
        unit = goal["unit"]
        suffix = "x" if unit == "x" else f" {unit}"
        per_run = ", ".join(_number(v) for v in goal["per_run"])
        verdict = "yes" if goal["holds_in_every_run"] else "**no**"
        lines.append(
            f"| `{goal['figure']}` ({goal['scenario']}) | {goal['goal']} | {_number(goal.get('median'))}{suffix} "
            f"| {_number(goal.get('worst'))}{suffix} | {_number(goal.get('spread'))} | {per_run} | {verdict} |"
        )
    return "\n".join(lines)
