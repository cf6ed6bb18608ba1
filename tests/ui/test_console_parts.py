"""The console's parts without a broker: the command line's options, the live countdown, fuzzy search."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Static

from tests.ui.conftest import FROZEN_NOW, frozen_app, producer_status
from tui.cli.common import Context, InputProblem
from tui.cli.console_cmd import open_session
from tui.console import messages
from tui.console.bridge import listen
from tui.console.widgets.event_chooser import rank
from tui.console.widgets.json_editor import check_json
from tui.console.widgets.producer_status import ProducerStatus
from tui.status import ChaosState, PublisherState, RegistryEntryChanged, SourceEntryChanged


def test_command_line_options_reach_the_console(tmp_path: Path) -> None:
    env = tmp_path / "console.env"
    env.write_text("KAFKA_TOPIC_PREFIX = fromfile\nKAFKA_BROKERS = file-host:9092\n", encoding="utf-8")
    session = open_session(Context(env_file=str(env), brokers="cli-host:9093", read_only=True))
    assert session.settings.brokers == ["cli-host:9093"]
    assert session.settings.topic_prefix == "fromfile"
    assert session.read_only and session.publisher.read_only and session.registry.read_only


def test_read_only_from_the_env_file_reaches_every_client_of_the_session(tmp_path: Path) -> None:
    env = tmp_path / "console.env"
    env.write_text("KAFKA_BROKERS = file-host:9092\nEVOKAFKA_READ_ONLY = true\n", encoding="utf-8")
    # As the console reads it, inside its running app: no process-wide scope, the session carries the flag.
    session = open_session(Context(env_file=str(env)), enter_scope=False)
    assert session.read_only and session.publisher.read_only and session.registry.read_only


def test_bad_settings_are_one_line_each() -> None:
    with pytest.raises(InputProblem) as problem:
        open_session(Context(brokers="no-port"))
    assert len(problem.value.lines) == 1 and problem.value.lines[0].startswith("KAFKA_BROKERS")


async def test_countdown_follows_the_clock() -> None:
    status = producer_status(PublisherState.RECONNECTING, attempt=2, delay_ms=10_000, next_try_at=FROZEN_NOW + 10)
    app = frozen_app(status)
    now = [FROZEN_NOW]
    app.session.clock = lambda: now[0]
    async with app.run_test(size=(80, 24)) as pilot:
        widget = app.screen.query_one(ProducerStatus)
        assert "attempt 2/10 · next try in 10.0s · backoff 10000 ms" in widget.render().plain  # type: ignore[union-attr]
        now[0] += 6.5
        await pilot.pause()
        assert "next try in 3.5s" in widget.render().plain  # type: ignore[union-attr]


def test_fuzzy_search_by_either_name() -> None:
    assert rank("MESSAGES_UPS")[0].name == "MESSAGES_UPSERT"
    assert rank("msgupsert")[0].name == "MESSAGES_UPSERT"
    assert rank("group-part")[0].name == "GROUP_PARTICIPANTS_UPDATE"
    assert len(rank("")) == 31


def test_json_problem_points_at_line_and_column() -> None:
    value, problem = check_json('{\n  "a": 1,\n  "b" 2\n}')
    assert value is None and problem is not None
    assert (problem.line, problem.column) == (3, 7)
    assert problem.excerpt == '  "b" 2'


async def test_the_session_reaches_a_listening_widget_as_typed_messages_only_while_it_listens() -> None:
    """Each kind of session fact becomes its own message, posted to the listening node only (no bubbling)."""
    app = frozen_app()
    session = app.session
    facts = [
        session.cluster,
        session.registry_view,
        session.source_view,
        session.publisher_status,
        ChaosState(available=True, link_cut=True),
        RegistryEntryChanged("shop"),
        SourceEntryChanged("shop"),
    ]
    kinds = [
        messages.ClusterChanged, messages.RegistryStateChanged, messages.SourceStateChanged,
        messages.PublisherChanged, messages.ChaosChanged, messages.RegistryEntryUpdated, messages.InstanceUpdated,
    ]
    assert [type(messages.message_for(f)) for f in facts] == kinds
    assert not any(kind.bubble for kind in kinds)
    async with app.run_test(size=(80, 24)) as pilot:
        posted: list[object] = []
        node = Static()
        await app.screen.mount(node)
        original = node.post_message

        def record(message: Message) -> bool:
            posted.append(message)
            return original(message)

        node.post_message = record  # type: ignore[method-assign]
        stop = listen(session, node, messages.ChaosChanged)
        for fact in facts:
            session.changes.notify(fact)
        stop()
        session.changes.notify(facts[4])
        await pilot.pause()
        assert [type(m) for m in posted if isinstance(m, messages.SessionMessage)] == [messages.ChaosChanged]
