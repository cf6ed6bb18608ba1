"""Every write to the cluster passes one door, :mod:`tui.kafka.options`: producers, admin clients and consumers
of a group are built nowhere else, so read-only mode (checked there) cannot be bypassed by a new command.

Static (every call in ``tui/``) and behavioural (the guarded clients refuse before connecting anywhere).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tui.config import load_settings
from tui.kafka.options import ConnectionOptions, ReadOnlyError, read_only_scope, writes_refused

ROOT = Path(__file__).resolve().parents[2] / "tui"
DOOR = ROOT / "kafka" / "options.py"
WRITERS = {"AIOKafkaProducer", "AIOKafkaAdminClient"}


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside a type annotation (naming a client class there builds nothing)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(inner) for root in roots for inner in ast.walk(root)}


def _uses(path: Path) -> list[tuple[str, int]]:
    """(name, line) of each use of a writing client class outside annotations and imports (a call, a subclass,
    an alias: any of them could build one), and of each ``AIOKafkaConsumer`` given a ``group_id``."""
    tree = ast.parse(path.read_text())
    skip = _annotation_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Name) and node.id in WRITERS:
            found.append((node.id, node.lineno))
        elif isinstance(node, ast.Attribute) and node.attr in WRITERS:
            found.append((node.attr, node.lineno))
        elif isinstance(node, ast.Call) and any(
            k.arg == "group_id" and not (isinstance(k.value, ast.Constant) and k.value.value is None)
            for k in node.keywords
        ):
            found.append(("a consumer of a group", node.lineno))
    return found


def test_no_other_kafka_client_writes() -> None:
    # confluent-kafka is used only to read (the bench's foreign baseline); its writers would pass no door.
    writers = {"Producer", "SerializingProducer", "AdminClient"}
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}"
        for path in sorted(ROOT.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("confluent_kafka")
        and {alias.name for alias in node.names} & writers
    ]
    assert not offenders, offenders


def test_writing_clients_are_built_only_in_the_options_module() -> None:
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line} uses {name}"
        for path in sorted(ROOT.rglob("*.py"))
        if path != DOOR
        for name, line in _uses(path)
    ]
    assert not offenders, "build it with ConnectionOptions.producer/admin_client/group_consumer: " + "; ".join(
        offenders
    )
    assert {name for name, _ in _uses(DOOR)} >= WRITERS  # the scan does see them where they are


async def test_guarded_clients_refuse_every_write() -> None:
    # No broker needed: the refusal comes before any connection (the address is never dialled).
    options = ConnectionOptions.from_settings(load_settings(None, environ={}, brokers="127.0.0.1:9"))
    assert not options.refuses_writes
    with read_only_scope():
        assert writes_refused() and options.refuses_writes
        producer, admin = options.producer(), options.admin_client()
        group = options.group_consumer("g")
        with pytest.raises(ReadOnlyError, match="write to topic t"):
            await producer.send("t", b"v")
        with pytest.raises(ReadOnlyError, match="write to topic t"):
            await producer.send_and_wait("t", b"v")
        for call in (admin.create_topics([]), admin.delete_topics(["t"]), admin.create_partitions({}),
                     admin.alter_configs([]), admin.delete_records({})):
            with pytest.raises(ReadOnlyError):
                await call
        with pytest.raises(ReadOnlyError, match="commit"):
            await group.commit()
    assert not writes_refused()
    flagged = ConnectionOptions.from_settings(load_settings(None, environ={}, brokers="127.0.0.1:9"), read_only=True)
    with pytest.raises(ReadOnlyError):
        await flagged.producer().send("t", b"v")


def test_the_help_promises_what_the_door_keeps() -> None:
    from click.testing import CliRunner

    from tui.cli import cli

    shown = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    assert "--read-only Refuse every write to the cluster" in shown
    for word in ("publish", "registry", "topic creation or deletion", "group offsets", "demo and bench"):
        assert word in shown, word
