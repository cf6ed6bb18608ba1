"""The console as the command line opens it (:class:`tui.console.app.OpeningConsole`): its first frame comes
before pydantic, the settings and the session; then the settings are read and the home (or ``watch``'s panes)
takes over; settings that cannot be used close it with one line each and exit 2; while it opens only quitting
works.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import async_wait_until
from tests.ui.conftest import first_frame_child
from tui.bench.start import child_env
from tui.cli.common import Context
from tui.cli.console_cmd import opening_console
from tui.console.app import OpeningConsole, warm
from tui.console.screens.main import MainScreen
from tui.console.screens.opening import OpeningScreen
from tui.console.screens.streams import StreamsScreen
from tui.demo.broker import EmbeddedBroker
from tui.selection import PaneSpec, Selection

SnapCompare = Callable[..., bool]

NOT_AT_FIRST_FRAME = (
    "pydantic",
    "pydantic_settings",
    "tui.config",
    "tui.console.session",
    "tui.status",
    "tui.console.screens.main",
    "aiokafka",
)
"""Modules the opening frame does without (checked in a fresh interpreter: this one has imported them)."""

BUILD = """
    from tui.cli.common import Context
    from tui.cli.console_cmd import opening_console

    app = opening_console(Context(brokers=sys.argv[1]))
"""
"""The console as the command line opens it."""


def _child_env(**extra: str) -> dict[str, str]:
    return {**child_env(), **extra}


@pytest.mark.broker
def test_the_first_frame_comes_before_the_settings_and_the_services_follow(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    seen = first_frame_child(
        BUILD,
        NOT_AT_FIRST_FRAME,
        (broker.bootstrap,),
        size=(80, 24),
        cwd=tmp_path,  # no ./.env of the developer's
        env=_child_env(KAFKA_TOPIC_PREFIX=prefix, KAFKA_AUTO_CREATE_TOPICS="true"),
    )
    assert seen["at_first_frame"] == [], f"imported before the first frame: {seen['at_first_frame']}"
    assert seen["first_screen"] == "OpeningScreen"
    # The settings were read after that frame, from the environment and the command line, and the services run.
    assert seen["screen"] == "MainScreen", seen
    assert seen["brokers"] == [broker.bootstrap] and seen["prefix"] == prefix, seen
    assert seen["cluster_up"] and seen["registry"] == "synced" and seen["publisher"] == "connected", seen


async def test_bad_settings_close_the_console_with_their_lines(tmp_path: Path) -> None:
    env = tmp_path / "bad.env"
    env.write_text("KAFKA_BROKERS = no-port\n", encoding="utf-8")
    app = opening_console(Context(env_file=str(env)))
    async with app.run_test(size=(80, 24)) as pilot:
        await async_wait_until(lambda: app.failure is not None)
        await pilot.pause()
    assert app.return_code == 2
    assert app.failure is not None and app.failure.code == 2
    assert len(app.failure.lines) == 1 and app.failure.lines[0].startswith("KAFKA_BROKERS="), app.failure.lines
    assert not app.session_open


def _held() -> tuple[threading.Event, Callable[[], None]]:
    """A ``prepare`` step that waits for the test's go (bounded), then imports as the console does."""
    go = threading.Event()

    def prepare() -> None:
        go.wait(timeout=30)
        warm()

    return go, prepare


async def test_only_quitting_works_while_opening_and_the_home_follows(tmp_path: Path) -> None:
    env = tmp_path / "console.env"
    env.write_text("KAFKA_BROKERS = file-host:9092\nKAFKA_TOPIC_PREFIX = fromfile\n", encoding="utf-8")
    go, prepare = _held()
    app = OpeningConsole(
        lambda: _session(Context(env_file=str(env))), source=str(env), connect=False, prepare=prepare
    )
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, OpeningScreen)
            state = str(app.screen.query_one("#opening-state").render())
            assert str(env) in state
            await pilot.press("i", "s", "escape", "ctrl+p", "question_mark", "P")
            await pilot.pause()
            assert isinstance(app.screen, OpeningScreen) and len(app.screen_stack) == 1
            assert app.current_mode == "opening" and not app.session_open
            go.set()
            await async_wait_until(lambda: isinstance(app.screen, MainScreen))
            assert app.session.settings.topic_prefix == "fromfile"
            assert app.screen_stack == [app.screen]
            await pilot.press("i")
            await async_wait_until(lambda: app.current_mode == "instances")
    finally:
        go.set()


async def test_q_leaves_while_the_settings_are_still_read() -> None:
    go, prepare = _held()
    app = OpeningConsole(lambda: _session(Context(brokers="localhost:9")), connect=False, prepare=prepare)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("q")
            await async_wait_until(lambda: app._exit)
        assert app.return_code == 0 and app.failure is None and not app.session_open
    finally:
        go.set()


async def test_watch_panes_open_after_the_settings(tmp_path: Path) -> None:
    env = tmp_path / "console.env"
    env.write_text("KAFKA_BROKERS = file-host:9092\nKAFKA_TOPIC_PREFIX = fromfile\n", encoding="utf-8")
    spec = PaneSpec("upserts", Selection(topics=("fromfile.messages.upsert",)))
    app = OpeningConsole(lambda: _session(Context(env_file=str(env))), connect=False, panes=(spec,))
    async with app.run_test(size=(80, 24)):
        await async_wait_until(lambda: isinstance(app.screen, StreamsScreen) and bool(app.screen.panes))
        assert app.current_mode == "streams"
        screen = app.screen
        assert isinstance(screen, StreamsScreen) and [pane.spec for pane in screen.panes] == [spec]


def _session(ctx: Context) -> Any:
    from tui.cli.console_cmd import open_session

    return open_session(ctx, enter_scope=False)


def test_the_opening_screen(snap_compare: SnapCompare) -> None:
    go, prepare = _held()
    app = OpeningConsole(
        lambda: _session(Context(brokers="localhost:9")), source="./.env", connect=False, cursor_blink=False,
        prepare=prepare,
    )

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
    finally:
        go.set()


ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>NOPM78]|\x1b\][^\x07]*\x07")


def _run_in_terminal(args: list[str], cwd: Path, timeout: float = 60.0) -> tuple[int, str]:
    """Run ``args`` on a pseudo-terminal of 80x24 (the console needs one); its exit code and its output with
    the terminal's escape sequences taken out."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        args, stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=_child_env(TERM="xterm-256color"),
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        code = process.wait(timeout=max(deadline - time.monotonic(), 1.0))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return code, ESCAPES.sub(b"", b"".join(chunks)).decode(errors="replace")


def test_evokafka_with_bad_settings_exits_2_with_one_line_each(tmp_path: Path) -> None:
    evokafka = Path(sys.executable).parent / "evokafka"
    command = [str(evokafka)] if evokafka.exists() else [sys.executable, "-m", "tui"]
    code, output = _run_in_terminal([*command, "--brokers", "no-port"], cwd=tmp_path)
    assert code == 2, output[-2000:]
    # The console leaves its screen first; the line follows what the terminal showed.
    lines = re.findall(r"evokafka: [^\r\n]*", output)
    assert len(lines) == 1 and lines[0].startswith("evokafka: KAFKA_BROKERS"), output[-2000:]
    assert "Traceback" not in output
