"""Evolution API's Kafka endpoints, answered by evokafka from the cluster registry (aiohttp).

``POST /kafka/set/<instance>``, ``GET /kafka/find/<instance>`` and ``GET /instance/fetchInstances`` take Evolution
API's requests and give its answers (shapes in :mod:`tui.evolution.models`), with its ``apikey`` header check
and its error body ``{"status", "error", "response": {"message"}}``. So the integration document's ``curl``
and any Evolution client work against evokafka.

Where evokafka differs from Evolution, on purpose:

- the key is checked before the instance is looked up (Evolution says 404 before 401, which tells anyone
  which instances exist);
- "enabled, no events" means the whole catalog, and the answer lists it: ``groups.update`` and
  ``send.message.update`` included, which Evolution's own "all" misses;
- an instance is known when the registry has an entry for it or it was declared (``--instance``), or any name
  is accepted on ``/kafka/set`` with ``allow_new``; evokafka holds no WhatsApp session, so every instance's
  ``connectionStatus`` is ``close``;
- every answer carries the header ``X-Evokafka`` so a client can tell.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from aiohttp import web
from pydantic import SecretStr

from tui import __version__
from tui.catalog import UnknownEventError
from tui.evolution.client import EVOKAFKA_HEADER
from tui.evolution.models import error_json, instance_json, kafka_record_json
from tui.instance_settings import InstanceSettings, InstanceSettingsError, parse_set_body
from tui.topology import InstanceNameError, validate_instance

log = logging.getLogger("tui.evolution.server")

INTEGRATION = "EVOKAFKA"
"""The ``integration`` field of every instance ``evokafka serve`` lists."""


class SettingsStore(Protocol):
    """What the server needs from :class:`tui.kafka.registry.InstanceRegistry`."""

    def get(self, instance: str) -> InstanceSettings | None:
        """The instance's settings, or None."""
        ...

    def all(self) -> dict[str, InstanceSettings]:
        """Every instance's settings."""
        ...

    async def set_request(self, instance: str, enabled: bool, events: Iterable[str]) -> InstanceSettings:
        """Store ``/kafka/set`` settings; ReadOnlyError / InstanceNameError / UnknownEventError."""
        ...


STORE_KEY: web.AppKey[SettingsStore] = web.AppKey("store", SettingsStore)


class ServeConfig:
    """How the server answers: the key, read-only, which instances exist."""

    def __init__(
        self,
        apikey: SecretStr | None,
        *,
        read_only: bool = False,
        instances: Iterable[str] = (),
        allow_new: bool = False,
        prefix: str = "evolution",
    ) -> None:
        self.apikey = apikey
        self.read_only = read_only
        self.declared = set(instances)
        self.allow_new = allow_new
        self.prefix = prefix
        for name in self.declared:
            validate_instance(name, prefix)


CONFIG_KEY: web.AppKey[ServeConfig] = web.AppKey("config", ServeConfig)


def _answer(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers={EVOKAFKA_HEADER: __version__}
    )


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


def _error(status: int, message: str | list[str]) -> web.Response:
    return _answer(status, error_json(status, _REASONS[status], message))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _evolution_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure in Evolution's error shape: unknown routes as its ``Cannot GET /x``, no traceback ever."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _error(404, [f"Cannot {request.method} {request.path}"])
    except web.HTTPMethodNotAllowed:
        return _error(404, [f"Cannot {request.method} {request.path}"])
    except web.HTTPException:
        raise
    except Exception as exc:
        log.warning("%s %s failed: %s: %s", request.method, request.path, exc.__class__.__name__, exc)
        return _error(500, f"{exc.__class__.__name__}: {exc}")


def _authorized(request: web.Request) -> bool:
    config = request.app[CONFIG_KEY]
    if config.apikey is None:
        return True
    given = request.headers.get("apikey", "")
    # Constant time: the answer's timing must not tell how much of a guessed key was right.
    return hmac.compare_digest(given.encode(), config.apikey.get_secret_value().encode())


def _known(request: web.Request, instance: str) -> bool:
    return instance in request.app[CONFIG_KEY].declared or request.app[STORE_KEY].get(instance) is not None


def _not_found(instance: str) -> web.Response:
    return _error(404, [f'The "{instance}" instance does not exist'])


async def _set(request: web.Request) -> web.StreamResponse:
    instance = request.match_info["instance"]
    config = request.app[CONFIG_KEY]
    if not _authorized(request):
        return _error(401, "Unauthorized")
    if config.read_only:
        return _error(403, ["evokafka serve runs read-only: /kafka/set is refused"])
    if not _known(request, instance) and not config.allow_new:
        return _not_found(instance)
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        return _error(400, ["body is not JSON"])
    try:
        asked = parse_set_body(body)
        stored = await request.app[STORE_KEY].set_request(instance, asked.enabled, asked.events)
    except (InstanceSettingsError, UnknownEventError, InstanceNameError) as exc:
        return _error(400, [str(exc)])
    except PermissionError as exc:  # tui.kafka.admin.ReadOnlyError: the registry itself is read-only
        return _error(403, [str(exc)])
    log.info("kafka/set %s: enabled=%s events=%d", instance, stored.enabled, len(stored.events))
    return _answer(201, kafka_record_json(instance, stored))


async def _find(request: web.Request) -> web.StreamResponse:
    instance = request.match_info["instance"]
    if not _authorized(request):
        return _error(401, "Unauthorized")
    if not _known(request, instance):
        return _not_found(instance)
    settings = request.app[STORE_KEY].get(instance)
    return _answer(200, None if settings is None else kafka_record_json(instance, settings))


async def _fetch_instances(request: web.Request) -> web.StreamResponse:
    if not _authorized(request):
        return _error(401, "Unauthorized")
    store = request.app[STORE_KEY]
    known = store.all()
    names = sorted(set(known) | request.app[CONFIG_KEY].declared)
    wanted = request.query.get("instanceName")
    if wanted is not None:
        if wanted not in names:
            return _error(404, f'Instance "{wanted}" not found')
        names = [wanted]
    return _answer(200, [instance_json(name, known.get(name), INTEGRATION) for name in names])


def create_app(store: SettingsStore, config: ServeConfig) -> web.Application:
    """The aiohttp application answering Evolution's Kafka endpoints from ``store``."""
    app = web.Application(middlewares=[_evolution_errors])
    app[STORE_KEY] = store
    app[CONFIG_KEY] = config
    app.router.add_post("/kafka/set/{instance}", _set)
    app.router.add_get("/kafka/find/{instance}", _find)
    app.router.add_get("/instance/fetchInstances", _fetch_instances)
    return app


class EvolutionServer:
    """The app, listening: ``await server.start()`` then :attr:`url`; ``await server.stop()``."""

    def __init__(self, store: SettingsStore, config: ServeConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.app = create_app(store, config)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Listen (port 0: any free port, then :attr:`port` is the real one); returns :attr:`url`.

        ``OSError`` when the address cannot be used (in use, not allowed).
        """
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.url

    @property
    def url(self) -> str:
        """``http://host:port`` the server listens on."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and finish the requests in flight (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
