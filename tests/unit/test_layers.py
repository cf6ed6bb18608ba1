"""Layers: domain modules import neither textual nor aiokafka; the I/O layers (tui/kafka, tui/evolution) never
import textual; the console (tui/console) reaches Kafka, Evolution API and the demo only through its session.

Checked both statically (every import statement) and dynamically (a fresh interpreter's sys.modules). A module the
test expects and cannot find fails the test: a rename must be made here too, not skipped.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "tui"
DOMAIN = ["config", "config_errors", "config_view", "evolution_env", "routing", "catalog", "topology", "envelope",
          "instance_settings", "records", "templates", "summaries", "filters", "panebuffer", "masking", "brokers", "failures", "selection", "saved_views",
          "status", "instance_source", "topic_rows", "group_lag", "diagnosis", "handles", "listeners", "flow",
          "replay_plan", "explanation", "profiles", "event_matrix", "tail_lines"]
DOMAIN_ELSEWHERE = ["demo/traffic.py", "demo/conversations.py", "demo/world.py", "demo/words.py", "evolution/models.py",
                    "evolution/schema.py"]
IO_FOLDERS = ["kafka", "evolution"]
CONSOLE_DOOR = {"tui.console.session", "tui.console.session_flow"}
"""The console modules allowed to reach the I/O layers and the demo: the session, the one door."""


def _imports(path: Path) -> set[str]:
    """Every module named by an absolute import in ``path`` (dotted, whole)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _tops(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _imports(path)}


def _domain_files() -> list[Path]:
    return [ROOT / f"{name}.py" for name in DOMAIN] + [ROOT / rel for rel in DOMAIN_ELSEWHERE]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_exists(path: Path) -> None:
    assert path.is_file(), f"the layer test expects {path.relative_to(ROOT.parent)}: update the test with the code"


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_imports_neither_textual_nor_aiokafka(path: Path) -> None:
    assert not _tops(path) & {"textual", "aiokafka", "rich", "aiohttp"}


IO_FILES = sorted(p for folder in IO_FOLDERS for p in (ROOT / folder).rglob("*.py"))
CONSOLE_FILES = sorted((ROOT / "console").rglob("*.py"))


def test_the_layers_have_files() -> None:
    assert len(IO_FILES) > 10 and len(CONSOLE_FILES) > 10


@pytest.mark.parametrize("path", IO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_io_layers_never_import_textual(path: Path) -> None:
    assert not _tops(path) & {"textual", "rich"}


@pytest.mark.parametrize("path", CONSOLE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_console_reaches_io_only_through_its_session(path: Path) -> None:
    if _module(path) in CONSOLE_DOOR:
        return
    leaks = sorted(
        name for name in _imports(path)
        if name.startswith(("tui.kafka", "tui.evolution", "tui.demo", "aiokafka", "aiohttp"))
    )
    assert not leaks, f"{path.relative_to(ROOT.parent)} reaches past the session: {leaks}"


def test_no_console_module_outside_the_console_imports_textual() -> None:
    """Textual lives in tui/console (and the demo's and bench's console wiring)."""
    allowed = ("console", "demo", "bench")
    offenders = [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
        if p.relative_to(ROOT).parts[0] not in allowed and "textual" in _tops(p)
    ]
    assert offenders == []


def test_importing_them_loads_neither() -> None:
    modules = [_module(p) for p in _domain_files()]
    io = [_module(p) for p in IO_FILES]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        "assert 'textual' not in sys.modules and 'aiokafka' not in sys.modules, 'domain'\n"
        f"for m in {io!r}: __import__(m)\n"
        "assert 'textual' not in sys.modules, 'I/O'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
