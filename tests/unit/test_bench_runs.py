"""Several bench runs judged together (``evokafka bench --runs N``) and the README table made from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui.bench.report import Figure, Goal, GoalKind, ScenarioResult
from tui.bench.runs import combine, markdown_table


def _report(key_ms: float, ratio_value: float, rounds: list[float] | None = None) -> dict[str, Any]:
    flood = ScenarioResult("flood")
    flood.add(
        Figure("key_to_screen_p99", key_ms, "ms", "key", goal=Goal(GoalKind.VALUE_BELOW, 50.0, "p99 < 50 ms"))
    )
    tail = ScenarioResult("tail")
    figure = Figure(
        "tail_vs_confluent", ratio_value * 1000, "records/s", "tail", baseline_name="c", baseline_value=1000,
        goal=Goal(GoalKind.RATIO_AT_LEAST, 1.0, ">= 1.0x"),
    )
    if rounds is not None:
        figure.samples = rounds
    tail.add(figure)
    return {"scenarios": {"flood": flood.to_json(), "tail": tail.to_json()}}


def _goal(combined: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in combined["goals"] if g["figure"] == name)


def test_a_goal_holds_only_when_it_holds_in_every_run() -> None:
    combined = combine([_report(40, 1.2), _report(61, 1.1), _report(45, 1.3)])
    key = _goal(combined, "key_to_screen_p99")
    assert key["per_run"] == [40, 61, 45]
    assert key["holds_per_run"] == [True, False, True]
    assert key["holds_in_every_run"] is False
    assert (key["median"], key["worst"], key["spread"]) == (45, 61, 21)
    assert combined["all_goals_hold"] is False


def test_a_ratio_goal_is_judged_on_the_ratio_and_its_worst_is_the_lowest() -> None:
    combined = combine([_report(10, 1.2), _report(10, 1.05), _report(10, 1.3)])
    tail = _goal(combined, "tail_vs_confluent")
    assert tail["unit"] == "x"
    assert tail["per_run"] == [1.2, 1.05, 1.3]
    assert (tail["median"], tail["worst"]) == (1.2, 1.05)
    assert tail["holds_in_every_run"] is True
    assert combined["all_goals_hold"] is True


def test_a_run_whose_worst_round_misses_does_not_hold() -> None:
    # The median of the rounds clears the bar, the worst round does not: that run does not hold.
    combined = combine([_report(10, 1.1, rounds=[1100, 1150, 900])])
    assert _goal(combined, "tail_vs_confluent")["holds_per_run"] == [False]


def test_a_paired_worst_round_is_judged_against_the_baseline_read_beside_it() -> None:
    goal = Goal(GoalKind.RATIO_AT_LEAST, 0.9, ">= 0.9x")

    def judged(samples: list[float], baseline: list[float]) -> dict[str, Any]:
        figure = Figure("f", 0, "records/s", "f", baseline_name="b", goal=goal, samples=samples, baseline_samples=baseline)
        figure.value, figure.baseline_value = sorted(samples)[1], sorted(baseline)[1]
        return figure.to_json()

    # A slow round of the machine slowed both: against the baseline's median (100) it would be 0.85x; against the
    # baseline read beside it (80), 1.06x.
    slow = judged([110, 120, 85], [100, 110, 80])
    assert slow["paired_ratios"] == [1.1, 1.091, 1.062]
    assert slow["baseline"]["samples"] == [100, 110, 80]
    assert slow["worst_holds"] is True
    # A round slower than the baseline beside it misses, whatever the medians say.
    missed = judged([110, 120, 85], [100, 110, 100])
    assert missed["holds"] is True and missed["worst_holds"] is False
    # Not paired (no baseline rounds): the worst round against the baseline's median, as before.
    figure = Figure("f", 110, "records/s", "f", baseline_name="b", baseline_value=100, goal=goal, samples=[110, 120, 85])
    assert "paired_ratios" not in figure.to_json() and figure.to_json()["worst_holds"] is False


def test_the_table_has_a_row_per_goal_with_median_worst_spread_and_verdict() -> None:
    table = markdown_table(combine([_report(40, 1.2), _report(61, 1.1), _report(45, 1.3)]))
    lines = table.splitlines()
    assert lines[0].startswith("| figure (scenario) | goal | median of 3 | worst of 3 |")
    row = next(line for line in lines if "key_to_screen_p99" in line)
    assert "| 45.0 ms | 61.0 ms | 21.0 |" in row and row.endswith("| **no** |")
    assert next(line for line in lines if "tail_vs_confluent" in line).endswith("| yes |")


def test_the_command_prints_the_table_of_a_saved_run_and_refuses_other_json(tmp_path: Path) -> None:
    saved = tmp_path / "runs.json"
    saved.write_text(json.dumps(combine([_report(40, 1.2), _report(45, 1.1)])))
    shown = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "--table", str(saved)], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "`key_to_screen_p99` (flood)" in shown.stdout
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    refused = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "--table", str(other)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "not a JSON object printed by evokafka bench" in refused.stderr
