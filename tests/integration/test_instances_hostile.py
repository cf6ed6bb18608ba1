"""What an Evolution API server says about its instances (WhatsApp profile names, numbers) is foreign text:
``instances list`` and ``show`` print escapes and bidi controls in it escaped, never raw."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tui.config import KafkaSettings
from tui.demo.broker import free_port

pytestmark = pytest.mark.broker

HOSTILE = "Loja\x1b]0;pwned\x07 \u202egnp.exe\x1b[2J"


@pytest.fixture
async def evolution_url() -> AsyncIterator[str]:
    instance = {
        "id": "i1", "name": "loja", "connectionStatus": "open", "ownerJid": f"{HOSTILE}@s.whatsapp.net",
        "profileName": HOSTILE, "integration": "WHATSAPP-BAILEYS", "number": HOSTILE, "token": "t",
    }

    async def fetch(_: web.Request) -> web.Response:
        return web.json_response([instance])

    async def find(_: web.Request) -> web.Response:
        return web.json_response(None)

    app = web.Application()
    app.router.add_get("/instance/fetchInstances", fetch)
    app.router.add_get("/kafka/find/{name}", find)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def run(settings: KafkaSettings, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_"))}
    env.update(KAFKA_BROKERS=",".join(settings.brokers), EVOLUTION_API_URL=url, EVOLUTION_API_KEY="k")
    return subprocess.run(
        [sys.executable, "-m", "tui", "instances", *args], capture_output=True, text=True, env=env, timeout=60,
        check=False,
    )


async def test_list_and_show_escape_what_the_server_says(settings: KafkaSettings, evolution_url: str) -> None:
    for args in (["list"], ["show", "loja"]):
        done = await asyncio.to_thread(run, settings, evolution_url, *args)
        assert done.returncode == 0, done.stderr
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in done.stdout, (args, done.stdout)
        assert "\\x1b]0;pwned" in done.stdout and "\\u202e" in done.stdout, done.stdout
