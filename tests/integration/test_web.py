"""``evokafka web`` as a process, opened in a real browser (Debian's headless Chromium over DevTools).

- ``--demo`` off loopback: the browser follows the printed address (token in the URL, then a cookie), the
  console draws the demo's live rows (seen in what the page's websocket received), the test takes the
  screenshot the README shows (``UPDATE_SCREENSHOTS=1`` writes it to ``screenshots/web.png``); a second tab gets
  a console process of its own on the same demo broker; stopping the server stops every console and the broker.
- a wrong or missing token gets 401/403 for the page and the websocket, in the browser too, and no console
  process starts; the right one does start one, with the options given to ``evokafka`` (``--read-only``), up to
  ``--max-tabs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.browser import Browser
from tests.conftest import async_wait_until
from tui.catalog import EVENTS
from tui.demo.broker import EmbeddedBroker
from tui.demo.traffic import demo_instances

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "screenshots" / "web.png"
WIRE_NAMES = [event.wire for event in EVENTS]


@dataclass
class WebServer:
    """``evokafka … web …`` running, with what it printed so far."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    port: int = 0
    token: str | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def consoles(self) -> dict[int, str]:
        """The server's child processes that run a console: pid → command line."""
        found: dict[int, str] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z" and " -m tui" in cmdline:
                found[int(entry.name)] = cmdline
        return found

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=60)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, timeout=10)
        return code


@contextlib.asynccontextmanager
async def web_server(*args: str) -> AsyncIterator[WebServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=ROOT,
    )
    server = WebServer(process)

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            server.lines.append(line.decode(errors="replace").rstrip())

    server.reader = asyncio.create_task(read())
    try:
        await async_wait_until(lambda: "Ctrl-C stops" in server.output or process.returncode is not None, 60)
        found = re.search(r"serving on http://[^:/]+:(\d+)/(?:\?token=(\S+))?", server.output)
        assert found, server.output
        server.port = int(found.group(1))
        server.token = found.group(2) if found.group(2) and "<" not in found.group(2) else None
        yield server
    finally:
        await server.stop()


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _rows_drawn(text: str) -> bool:
    """The console drew the demo's streams with rows in them: the pane and several events and instances."""
    if "Global layout" not in text:
        return False
    body = text[text.index("Global layout"):]
    events = {name for name in WIRE_NAMES if name in body}
    instances = {i.name for i in demo_instances(5) if i.name in body}
    return len(events) >= 3 and len(instances) >= 2


async def test_demo_in_a_real_browser(tmp_path: Path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    async with web_server(
        "--env-file", str(env_file), "web", "--demo", "--host", "0.0.0.0", "--port", "0", "--rate", "20",
    ) as server:
        # Off loopback a token is generated and printed once.
        assert server.token, server.output
        assert server.output.count(server.token) == 1
        assert server.consoles() == {}

        async with Browser(tmp_path / "chromium", width=1280, height=800) as browser:
            await browser.open(f"http://127.0.0.1:{server.port}/?token={server.token}&fontsize=14")
            text = ""

            async def drawn() -> bool:
                nonlocal text
                text = await browser.terminal_text()
                return _rows_drawn(text)

            deadline = asyncio.get_running_loop().time() + 120
            while not await drawn():
                assert asyncio.get_running_loop().time() < deadline, f"no demo rows drawn; got {text[-2000:]!r}"
                await asyncio.sleep(0.25)
            # The token left the address bar for a cookie.
            assert server.token not in str(await browser.evaluate("location.href"))
            shot = tmp_path / "web.png"
            await browser.screenshot(shot)
            assert shot.stat().st_size > 20_000  # a drawn console, not the blank splash (~12 KB)
            if os.environ.get("UPDATE_SCREENSHOTS"):
                SCREENSHOT.write_bytes(shot.read_bytes())

            consoles = server.consoles()
            assert len(consoles) == 1, consoles
            (first_cmd,) = consoles.values()
            assert "tui.web.demo_tab" in first_cmd and str(env_file) in first_cmd

            # A second tab: a console process of its own, on the same demo broker (one broker in all).
            headers = {"Authorization": f"Bearer {server.token}"}
            async with aiohttp.ClientSession() as http, http.ws_connect(
                f"http://127.0.0.1:{server.port}/ws?width=100&height=30", headers=headers
            ):
                await async_wait_until(lambda: len(server.consoles()) == 2, 60)
                pids = list(server.consoles())
                brokers = {re.findall(r"--brokers (\S+)", cmd)[0] for cmd in server.consoles().values()}
                assert len(brokers) == 1

                # Stopping the server stops every console, then the demo broker.
                assert await server.stop() == 0
        assert all(_gone(pid) for pid in pids), pids
        assert "evokafka web: stopped" in server.output


async def test_a_wrong_or_missing_token_gets_no_console(tmp_path: Path, broker: EmbeddedBroker) -> None:
    token = "evk-web-4c1d9e0b7a2f4e31"
    async with web_server(
        "--brokers", broker.bootstrap, "--read-only", "web", "--host", "0.0.0.0", "--port", "0", "--token", token,
        "--max-tabs", "1",
    ) as server:
        assert token not in server.output  # a given token is never printed
        base = f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/") as answer:
                assert answer.status == 401
            async with http.get(f"{base}/?token=wrong-{token}") as answer:
                assert answer.status == 403
            async with http.get(f"{base}/", headers={"Authorization": "Bearer nope"}) as answer:
                assert answer.status == 403
            for headers, status in (({}, 401), ({"X-Evokafka-Token": token[:-1]}, 403)):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"{base}/ws", headers=headers)
                assert refused.value.status == status

        async with Browser(tmp_path / "chromium") as browser:
            await browser.open(f"{base}/?token=not-the-token")
            page = ""
            deadline = asyncio.get_running_loop().time() + 30
            while "wrong token" not in page:
                assert asyncio.get_running_loop().time() < deadline, page
                await asyncio.sleep(0.1)
                page = await browser.page_text()
            assert await browser.terminal_text() == ""
        assert server.consoles() == {}
        assert "tab opened" not in server.output

        # The right token does start a console, with the options given to evokafka.
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/?token={token}", allow_redirects=False) as answer:
                assert answer.status == 303 and token not in answer.headers["Location"]
                assert answer.cookies[f"evokafka_web_{server.port}"].value == token
            async with http.ws_connect(f"{base}/ws?width=100&height=30", headers={"X-Evokafka-Token": token}) as tab:
                await async_wait_until(lambda: len(server.consoles()) == 1, 60)
                (cmd,) = server.consoles().values()
                assert "--read-only" in cmd and broker.bootstrap in cmd
                # One console at most (--max-tabs 1): one more tab is refused before any process starts.
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"{base}/ws", headers={"X-Evokafka-Token": token})
                assert refused.value.status == 503
                assert len(server.consoles()) == 1
                # What the tab's console draws says so too.
                await tab.send_json(["resize", {"width": 100, "height": 30}])
                drawn = ""
                async with asyncio.timeout(60):
                    while "READ-ONLY" not in drawn:
                        message = await tab.receive()
                        assert message.type == aiohttp.WSMsgType.BINARY, message
                        drawn += message.data.decode(errors="replace")
            # The tab closed: its console stops.
            await async_wait_until(lambda: server.consoles() == {}, 30)


async def test_loopback_needs_no_token_unless_one_is_given(tmp_path: Path) -> None:
    async with web_server("web", "--port", "0") as server:
        assert server.token is None and "loopback: no token" in server.output
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}/") as answer:
            assert answer.status == 200
            assert f"ws://127.0.0.1:{server.port}/ws" in await answer.text()
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{server.port}/", headers={"X-Forwarded-Proto": "https", "Host": "console.example"}
        ) as answer:
            assert "wss://console.example/ws" in await answer.text()
    async with web_server("web", "--port", "0", "--token", "evk-given") as server:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}/") as answer:
            assert answer.status == 401
        assert server.consoles() == {}
