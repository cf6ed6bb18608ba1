"""The console served to a browser: textual-serve, one console process per tab, a token off loopback.

:class:`ConsoleServer` is textual-serve's :class:`~textual_serve.server.Server` with three changes:

- every browser tab (one websocket) runs its own console process from an argument list (no shell), in its own
  session, and the server keeps them all: :meth:`ConsoleServer.stop_tabs` asks each to quit, then terminates
  what is left, so no console outlives the server;
- when a token is set, every request must carry it (``?token=…``, ``Authorization: Bearer …``,
  ``X-Evokafka-Token`` or the cookie the first page sets), compared in constant time; a missing token is
  answered 401 and a wrong one 403, before any console process starts;
- the page's websocket address is taken from the request, so a server listening on ``0.0.0.0`` hands browsers
  an address they can reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger(__name__)

TOKEN_QUERY = "token"
TOKEN_HEADER = "X-Evokafka-Token"
TAB_QUIT_TIMEOUT_S = 8.0
"""How long a console gets to quit by itself (it flushes its publisher) before it is terminated."""
TAB_KILL_TIMEOUT_S = 3.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` and ``::1``; anything else (``0.0.0.0``, a name, an address) is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


class ConsoleTab(AppService):
    """One browser tab's console: a process started from ``argv`` (no shell), stopped within a bound."""

    def __init__(self, argv: Sequence[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)

    @property
    def pid(self) -> int | None:
        """The console process's id, once started."""
        return self._process.pid if self._process is not None else None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        # Its own session: Ctrl-C on the server's terminal reaches the server, which then stops each console in
        # order, instead of every console dying at once mid-flush.
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """Relay the console's output until it exits, then close the tab's websocket: a console that failed to
        start or crashed leaves the browser a closed page, not a splash screen forever."""
        await super().run()
        with contextlib.suppress(Exception):
            await self.remote_close()

    async def stop(self) -> None:
        """Ask the console to quit; terminate it after :data:`TAB_QUIT_TIMEOUT_S`, kill it after more."""
        process, task = self._process, self._task
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await self.send_meta({"type": "quit"})
            for step, bound in ((None, TAB_QUIT_TIMEOUT_S), (process.terminate, TAB_KILL_TIMEOUT_S),
                                (process.kill, None)):
                if step is not None:
                    with contextlib.suppress(ProcessLookupError):
                        step()
                try:
                    await asyncio.wait_for(process.wait(), timeout=bound)
                    break
                except TimeoutError:
                    continue
        if task is not None:
            self._task = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=TAB_KILL_TIMEOUT_S)


class ConsoleServer(Server):
    """Serves ``argv`` (a console command) to browsers; ``token`` (when set) guards every request."""

    def __init__(
        self, argv: Sequence[str], host: str, port: int, *, token: str | None, title: str, max_tabs: int = 8
    ) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title=title)
        self.argv = list(argv)
        self.token = token
        self.max_tabs = max_tabs
        """Consoles at once; one more tab is answered 503 (each console is a process of ~100 MB)."""
        self.tabs: set[ConsoleTab] = set()
        """The consoles running now, one per open tab."""
        self.tabs_started = 0
        """Consoles started since the server started (a refused browser starts none)."""
        self._runner: web.AppRunner | None = None

    @property
    def cookie_name(self) -> str:
        # Cookies do not tell ports apart: two servers on one host keep separate tokens.
        return f"evokafka_web_{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> int:
        """Listen; return the port (useful with port 0). ``OSError`` when the address is taken."""
        app = await self._make_app()
        if self.token is not None:
            app.middlewares.append(self._token_guard)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop every console (bounded), then the web server."""
        await self.stop_tabs()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def stop_tabs(self) -> None:
        """Ask every console to quit and wait for each (terminated, then killed, past their bounds)."""
        tabs = list(self.tabs)
        if tabs:
            await asyncio.gather(*(tab.stop() for tab in tabs), return_exceptions=True)

    async def on_startup(self, app: web.Application) -> None:
        """The command line prints its own lines (textual-serve prints a banner here)."""

    async def on_shutdown(self, app: web.Application) -> None:
        """No console outlives the server."""
        await self.stop_tabs()

    # -- the token ------------------------------------------------------------------------------------

    def _given_token(self, request: web.Request) -> tuple[str | None, bool]:
        """The token the request carries, and whether it came in the URL."""
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            return authorization[7:].strip(), False
        if TOKEN_HEADER in request.headers:
            return request.headers[TOKEN_HEADER], False
        if TOKEN_QUERY in request.query:
            return request.query[TOKEN_QUERY], True
        return request.cookies.get(self.cookie_name), False

    @web.middleware
    async def _token_guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        assert self.token is not None
        given, in_url = self._given_token(request)
        if not given:
            return web.Response(status=401, text="evokafka web: this server needs its token (?token=…)\n")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.Response(status=403, text="evokafka web: wrong token\n")
        if in_url and request.method == "GET" and request.path == "/":
            # The token moves into a cookie (sent with the websocket and the static files too) and out of the
            # address bar, the browser's history and any Referer.
            query = request.rel_url.query.copy()
            del query[TOKEN_QUERY]
            response = web.HTTPSeeOther(request.rel_url.with_query(query))
            response.set_cookie(self.cookie_name, given, httponly=True, samesite="Strict", path="/")
            return response
        return await handler(request)

    # -- the page and the tabs -------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page, with the websocket address the browser used to reach this server."""
        # Behind a TLS proxy the page is https while this server sees http: the proxy says so in a header.
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        http, ws = ("https", "wss") if secure else ("http", "ws")
        static = request.app.router["static"].url_for(filename="/")
        context = {
            "font_size": _int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws}://{request.host}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": f"{http}://{request.host}{static}".rstrip("/") + "/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: a console process of its own for as long as the websocket lives."""
        if len(self.tabs) >= self.max_tabs:
            log.warning("tab refused: %d consoles already run (--max-tabs)", len(self.tabs))
            raise web.HTTPServiceUnavailable(text=f"evokafka web: {self.max_tabs} consoles already run\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width", "80"), 80)
        height = _int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        tab = ConsoleTab(
            self.argv,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.tabs.add(tab)
        try:
            await tab.start(width, height)
            self.tabs_started += 1
            log.info("tab opened: console pid %s (%d open)", tab.pid, len(self.tabs))
            await self._process_messages(websocket, tab)
        except Exception as exc:  # a browser's garbage must not take the server down
            log.warning("tab ended: %s: %s", exc.__class__.__name__, exc)
        finally:
            await tab.stop()
            self.tabs.discard(tab)
            log.info("tab closed: console pid %s (%d open)", tab.pid, len(self.tabs))
            with contextlib.suppress(Exception):
                await websocket.close()
        return websocket


def console_argv(
    module: str,
    *,
    brokers: str | None = None,
    env_file: str | None = None,
    read_only: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """``python -m <module>`` with the console options that were given to ``evokafka web``."""
    argv = [sys.executable, "-m", module]
    if brokers:
        argv += ["--brokers", brokers]
    if env_file:
        argv += ["--env-file", os.path.abspath(env_file)]
    if read_only:
        argv.append("--read-only")
    return argv + list(extra)
