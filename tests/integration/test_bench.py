"""``evokafka bench --quick`` runs as CI runs it and prints one JSON object of the documented shape.

Speed is measured by the bench, never asserted here: these tests check that it runs, cleans up, and says what it
measured (each figure with its baseline, ratio and goal) or why it could not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.bench.report import Figure, Goal, GoalKind, percentile
from tui.bench.runner import SCENARIOS
from tui.cli.bench_cmd import SCENARIO_NAMES

REPO = Path(__file__).resolve().parents[2]


def _bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    return subprocess.run(
        [sys.executable, "-m", "tui", "bench", *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env, check=False,
    )


def _check_figure(figure: dict[str, Any]) -> None:
    assert isinstance(figure["name"], str) and figure["name"]
    assert isinstance(figure["value"], int | float)
    assert isinstance(figure["unit"], str) and figure["unit"]
    if "baseline" in figure:
        assert set(figure["baseline"]) == {"name", "value", "unit"}
        assert "ratio" in figure
        if figure["baseline"]["value"]:
            assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline"]["value"], rel=0.01)
    if "goal" in figure:
        assert figure["holds"] in (True, False, None)
    if len(figure.get("samples", [])) > 1:
        samples = figure["samples"]
        assert min(samples) <= figure["median"] <= max(samples)
        assert figure["worst"] in (min(samples), max(samples))
        assert figure["spread"] == pytest.approx(max(samples) - min(samples), rel=0.01, abs=0.1)  # all rounded
        if "goal" in figure:
            assert figure["worst_holds"] in (True, False, None)


@pytest.mark.broker
def test_quick_bench_prints_one_json_object_with_figures_baselines_and_machine() -> None:
    done = _bench("--quick", "--scenario", "publish", "--scenario", "ingest")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)  # the whole of stdout is one JSON object; progress went to stderr
    assert "bench:" in done.stderr
    assert report["quick"] is True
    machine = report["machine"]
    assert machine["cpu_count"] >= 1
    for name in ("python", "aiokafka", "textual"):
        assert isinstance(machine[name], str) and machine[name]
    assert report["broker"]["kind"] == "embedded"
    assert set(report["scenarios"]) == {"publish", "ingest"}
    for scenario in report["scenarios"].values():
        status = scenario["status"]
        assert status == "ok" or status.startswith(("not available: ", "failed: "))
        if status.startswith("not available"):
            assert scenario["figures"] == []  # never a made-up figure
        for figure in scenario["figures"]:
            _check_figure(figure)
    publish = report["scenarios"]["publish"]
    assert publish["status"] == "ok", publish["status"]
    names = {f["name"] for f in publish["figures"]}
    assert names == {"publisher_vs_await_each", "publisher_vs_raw"}
    ingest = report["scenarios"]["ingest"]
    assert ingest["status"] == "ok", ingest["status"]
    ingest_figures = {f["name"]: f for f in ingest["figures"]}
    assert set(ingest_figures) == {
        "pane_pipeline_vs_raw",
        "pane_pipeline_text_filter_vs_raw_orjson",
        "pane_pipeline_jsonpath_filter_vs_raw_orjson",
        "pane_pipeline_filtered_vs_raw_orjson",
    }
    filtered = ingest_figures["pane_pipeline_filtered_vs_raw_orjson"]
    assert filtered["baseline"]["name"] == "raw aiokafka getmany + orjson.loads"
    slower = min(ingest_figures[f"pane_pipeline_{n}_filter_vs_raw_orjson"]["value"] for n in ("text", "jsonpath"))
    assert filtered["value"] == pytest.approx(slower, rel=0.01)  # one round in --quick: the slower of the two
    assert ingest["details"]["pipeline"]["text"]["matched"] < ingest["details"]["pipeline"]["text"]["received"]
    goals = {(g["scenario"], g["figure"]) for g in report["goals"]}
    assert ("publish", "publisher_vs_raw") in goals
    assert ("ingest", "pane_pipeline_filtered_vs_raw_orjson") in goals
    assert all(isinstance(g["holds"], bool) for g in report["goals"])


@pytest.mark.broker
def test_start_scenario_reports_help_against_the_bare_interpreter() -> None:
    done = _bench("--quick", "--scenario", "start")
    assert done.returncode == 0, done.stderr[-2000:]
    start = json.loads(done.stdout)["scenarios"]["start"]
    figures = {f["name"]: f for f in start["figures"]}
    help_figure = figures["help"]
    assert help_figure["baseline"]["name"] == "python -c pass"
    assert help_figure["unit"] == "ms"
    paint = figures["console_first_paint"]
    assert paint["unit"] == "ms" and paint["goal"] == "< 500 ms"
    assert len(paint["samples"]) == 3 and paint["worst"] == max(paint["samples"])  # a latency: worst is highest
    home = figures["console_home_paint"]
    assert "goal" not in home or home["goal"] is None
    # The same runs: the home's first frame follows the opening screen's, in each.
    assert len(home["samples"]) == 3 and all(h > p for h, p in zip(home["samples"], paint["samples"], strict=True))
    for figure in start["figures"]:
        _check_figure(figure)


def test_unknown_scenario_is_one_line_and_exit_2() -> None:
    done = _bench("--scenario", "nope", timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_the_command_offers_exactly_the_runner_scenarios() -> None:
    assert tuple(SCENARIOS) == SCENARIO_NAMES


def test_goals_and_percentiles_judge_as_the_issue_states() -> None:
    ten_x = Goal(GoalKind.RATIO_AT_LEAST, 10.0, ">= 10x")
    assert Figure("f", 100.0, "records/s", "", baseline_name="b", baseline_value=10.0, goal=ten_x).to_json()["holds"]
    assert not Figure("f", 99.0, "records/s", "", baseline_name="b", baseline_value=10.0, goal=ten_x).to_json()["holds"]
    no_baseline = Figure("f", 99.0, "records/s", "", baseline_name="b", baseline_value=None, goal=ten_x).to_json()
    assert no_baseline["holds"] is None and no_baseline["ratio"] is None
    below = Goal(GoalKind.VALUE_BELOW, 100.0, "p99 < 100 ms")
    assert not Figure("p", 100.0, "ms", "", goal=below).to_json()["holds"]
    assert percentile([float(n) for n in range(1, 101)], 99) == 99.0
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 99) == 0.0


def test_rounds_report_median_worst_and_spread_the_right_way_round() -> None:
    rate = Figure("r", 2.0, "records/s", "", samples=[1.0, 2.0, 4.0], goal=Goal(GoalKind.VALUE_AT_LEAST, 1.5, ">= 1.5"))
    out = rate.to_json()
    assert (out["median"], out["worst"], out["spread"]) == (2.0, 1.0, 3.0)
    assert out["holds"] is True and out["worst_holds"] is False  # the median clears the bar, one round does not
    latency = Figure("l", 20.0, "ms", "", samples=[10.0, 20.0, 60.0], goal=Goal(GoalKind.VALUE_BELOW, 50.0, "< 50"))
    out = latency.to_json()
    assert out["worst"] == 60.0 and out["worst_holds"] is False
    assert "median" not in Figure("one", 1.0, "ms", "", samples=[1.0]).to_json()


@pytest.mark.broker
def test_scale_scenario_names_its_size_and_every_figure_of_the_issue() -> None:
    done = _bench("--quick", "--scenario", "scale")
    assert done.returncode == 0, done.stderr[-2000:]
    scale = json.loads(done.stdout)["scenarios"]["scale"]
    assert scale["status"] == "ok", scale["status"]
    figures = {f["name"]: f for f in scale["figures"]}
    assert {
        "scale_first_paint", "scale_instances_list", "scale_topics_diff", "scale_layout_screen", "scale_discovery",
        "scale_rss",
    } <= set(figures)
    for figure in scale["figures"]:
        _check_figure(figure)
    details = scale["details"]
    assert details["topics"] == details["instances"] * details["events_per_instance"]
    assert details["discovered"] == details["instances"]  # every instance's topics were found
    assert "1,000 instances" in details["size_note"]
    assert all(c["registry_entries"] == details["instances"] for c in details["console"])
