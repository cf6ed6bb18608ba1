"""A real browser for the tests: Debian's headless Chromium, driven over the DevTools protocol (aiohttp websocket).

:class:`Browser` starts Chromium on a throwaway profile with ``--remote-debugging-port=0``, reads the port it
chose from ``DevToolsActivePort`` and talks to one page target: navigate, evaluate, screenshot. Every page
gets a small script first that keeps the text the page's websockets received (``window.__tty``): the terminal
draws on a canvas, so that text is how a test sees what the console sent to the browser.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import async_wait_until

CANDIDATES = ("chromium", "chromium-browser")

RECORD_WEBSOCKET_TEXT = """
(() => {
  const Native = window.WebSocket;
  window.__tty = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const decoder = new TextDecoder();
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          window.__tty = (window.__tty + decoder.decode(event.data, {stream: true})).slice(-400000);
        }
      });
    }
  };
})();
"""


def chromium_binary() -> str:
    """Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it), or ``$CHROMIUM``.

    Fails the test when there is none: the browser tests are not optional."""
    given = os.environ.get("CHROMIUM")
    found = given or next((path for name in CANDIDATES if (path := shutil.which(name))), None)
    if not found:
        pytest.fail("no Chromium: install Debian's package (apt-get install -y chromium) or set CHROMIUM")
    return found


class Browser:
    """Headless Chromium with one page, as an async context manager."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 800) -> None:
        self.profile = profile
        self.width = width
        self.height = height
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        self.profile.mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}", f"--window-size={self.width},{self.height}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        active = self.profile / "DevToolsActivePort"
        await async_wait_until(lambda: active.is_file() and len(active.read_text().splitlines()) >= 2, timeout=30)
        port = int(active.read_text().splitlines()[0])
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        page = next(t for t in targets if t["type"] == "page")
        self._socket = await self._session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.send("Page.enable")
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_WEBSOCKET_TEXT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._socket is not None:
            await self._socket.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), timeout=10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()

    async def _read(self) -> None:
        assert self._socket is not None
        async for message in self._socket:
            data = message.json()
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """One DevTools command; its ``result`` (an error answer fails the test)."""
        assert self._socket is not None
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self._socket.send_json({"id": ident, "method": method, "params": params})
        answer = await asyncio.wait_for(future, timeout=timeout)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def open(self, url: str) -> None:
        """Navigate the page to ``url``."""
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def terminal_text(self) -> str:
        """Everything the page's websockets received so far, as text (escape sequences included)."""
        return str(await self.evaluate("window.__tty || ''"))

    async def page_text(self) -> str:
        """The text of the page's body."""
        return str(await self.evaluate("document.body ? document.body.innerText : ''"))

    async def screenshot(self, path: Path) -> None:
        """A PNG of the page, after the next two painted frames."""
        await self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        shot = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
