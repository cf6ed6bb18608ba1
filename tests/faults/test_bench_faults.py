"""``evokafka bench --scenario faults``: the fault runs as figures, and the publisher's counts equal a reader's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_bench_faults_reports_each_fault() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "--quick", "--scenario", "faults"],
        capture_output=True, text=True, timeout=580, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scenario = json.loads(done.stdout)["scenarios"]["faults"]
    assert scenario["status"] == "ok", scenario
    figures = {f["name"]: f for f in scenario["figures"]}
    details = scenario["details"]
    for case in ("silent_cut", "reset_cut", "empty_restart", "durable_restart"):
        assert figures[f"{case}.state_changed"]["holds"] is True, (case, figures, details[case])
        assert f"{case}.delivery_resumed" in figures
        assert details[case]["counts_equal"] is True, (case, json.dumps(details[case]))
    assert details["empty_restart"]["lost_said"] > 0 and details["empty_restart"]["lost_read"] > 0
    for case in ("silent_cut", "reset_cut", "durable_restart", "one_of_three_lost"):
        assert details[case]["lost_read"] == 0 and details[case]["lost_said"] == 0, (case, details[case])
