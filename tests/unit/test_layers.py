"""Layers: domain modules import neither textual nor aiokafka; tui/kafka never imports textual.

Checked both statically (every import statement) and dynamically (a fresh interpreter's sys.modules).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "tui"
DOMAIN = ["config", "events", "layout", "envelope", "instances", "records", "templates", "summaries",
          "filters", "panebuffer", "views"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _domain_files() -> list[Path]:
    return [ROOT / f"{name}.py" for name in DOMAIN if (ROOT / f"{name}.py").exists()] + sorted(
        [*(ROOT / "demo").glob("traffic.py"), *(ROOT / "evolution").glob("models.py")]
    )


def test_domain_modules_exist() -> None:
    for name in ["config", "events", "layout", "envelope"]:
        assert (ROOT / f"{name}.py").exists()


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_imports_neither_textual_nor_aiokafka(path: Path) -> None:
    assert not _imports(path) & {"textual", "aiokafka", "rich"}


@pytest.mark.parametrize("path", sorted((ROOT / "kafka").glob("*.py")), ids=lambda p: p.name)
def test_kafka_layer_never_imports_textual(path: Path) -> None:
    assert "textual" not in _imports(path)


def test_importing_them_loads_neither() -> None:
    modules = [f"tui.{p.stem}" for p in _domain_files() if p.parent == ROOT]
    kafka = [f"tui.kafka.{p.stem}" for p in sorted((ROOT / "kafka").glob("*.py")) if p.stem != "__init__"]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        "assert 'textual' not in sys.modules and 'aiokafka' not in sys.modules, 'domain'\n"
        f"for m in {kafka!r}: __import__(m)\n"
        "assert 'textual' not in sys.modules, 'kafka'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
