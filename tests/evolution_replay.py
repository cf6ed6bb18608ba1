"""A stand-in for Evolution API 2.3.6 built only from recorded exchanges (``tests/fixtures/evolution/*.json``).

It imports nothing from ``tui``: what it answers is what the fixtures say Evolution answers, so a drift between
evokafka's client or server and Evolution shows as a failing test instead of being confirmed by shared code.

Each incoming request is matched against the first unused exchange with the same method, path (query included),
``apikey`` header and body (JSON equality; events compared as a set where the exchange says
``"match": "events-as-set"``); its recorded answer is sent. A request nothing matches is answered 599 with a line
saying so, which no client mistakes for Evolution.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "evolution"


def load(name: str) -> dict[str, Any]:
    """One fixture file, parsed."""
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def _same_body(recorded: dict[str, Any], exchange: dict[str, Any], body: bytes) -> bool:
    if "raw" in recorded:
        return body.decode("utf-8", "replace") == recorded["raw"]
    if "json" not in recorded:
        return not body.strip()
    try:
        sent = json.loads(body)
    except ValueError:
        return False
    if exchange.get("match") == "events-as-set":
        try:
            mine, theirs = sent["kafka"], recorded["json"]["kafka"]
            return bool(mine["enabled"] == theirs["enabled"] and sorted(mine["events"]) == sorted(theirs["events"]))
        except (KeyError, TypeError):
            return False
    return bool(sent == recorded["json"])


class Replay:
    """The recorded exchanges of one fixture, served in order."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        self.exchanges = fixture["exchanges"]
        self.used: list[bool] = [False] * len(self.exchanges)
        self.unmatched: list[str] = []
        """Requests nothing recorded answers (a test should see none)."""

    def _find(self, request: web.Request, body: bytes) -> dict[str, Any] | None:
        for index, exchange in enumerate(self.exchanges):
            recorded = exchange["request"]
            if self.used[index] or recorded["method"] != request.method or recorded["path"] != request.raw_path:
                continue
            if recorded.get("headers", {}).get("apikey") != request.headers.get("apikey"):
                continue
            if _same_body(recorded, exchange, body):
                self.used[index] = True
                return exchange
        return None

    async def handle(self, request: web.Request) -> web.Response:
        """Answer with the recorded response of the first matching exchange."""
        body = await request.read()
        exchange = self._find(request, body)
        if exchange is None:
            line = f"no recorded exchange for {request.method} {request.raw_path} {body[:200]!r}"
            self.unmatched.append(line)
            return web.Response(status=599, text=line)
        response = exchange["response"]
        if response.get("empty"):
            return web.Response(status=response["status"], content_type="application/json")
        return web.Response(
            status=response["status"], text=json.dumps(response["body"]), content_type="application/json"
        )


@asynccontextmanager
async def replay_server(fixture: dict[str, Any]) -> AsyncIterator[tuple[str, Replay]]:
    """Serve ``fixture`` on a free loopback port: ``(url, replay)``."""
    replay = Replay(fixture)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", replay.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", replay
    finally:
        await runner.cleanup()


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def compare(exchange: dict[str, Any], row_fields: list[str], status: int, text: str) -> list[str]:
    """How an answer (``status``, body ``text``) differs from the recorded one; empty when it matches."""
    response = exchange["response"]
    problems: list[str] = []
    if status != response["status"]:
        problems.append(f"status {status}, Evolution {response['status']}")
    if response.get("empty"):
        if text.strip():
            problems.append(f"body {text[:80]!r}, Evolution an empty body")
        return problems
    try:
        body = json.loads(text)
    except ValueError:
        return [*problems, f"body is not JSON: {text[:80]!r}"]
    recorded = response["body"]
    mode = exchange["compare"]
    if mode == "exact" and body != recorded:
        problems.append(f"body {body!r}, Evolution {recorded!r}")
    elif mode == "shape" and _shape(body) != _shape(recorded):
        problems.append(f"shape {_shape(body)!r}, Evolution {_shape(recorded)!r}")
    elif mode == "row":
        if not isinstance(body, dict) or set(body) != set(recorded):
            problems.append(f"row keys {sorted(body) if isinstance(body, dict) else body!r}, Evolution {sorted(recorded)}")
        elif (body["enabled"], body["events"]) != (recorded["enabled"], recorded["events"]):
            problems.append(f"row {body['enabled']} {body['events']}, Evolution {recorded['enabled']} {recorded['events']}")
    elif mode == "rows":
        names = [r.get("name") for r in body] if isinstance(body, list) else body
        if not isinstance(names, list) or sorted(map(str, names)) != sorted(r["name"] for r in recorded):
            problems.append(f"instances {names!r}, Evolution {[r['name'] for r in recorded]}")
        elif any(set(row_fields) - set(r) for r in body):
            problems.append(f"rows lack fields {sorted(set(row_fields) - set(body[0]))}")
    return problems
