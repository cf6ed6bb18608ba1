"""Evolution API's Kafka endpoints, answered by evokafka from the cluster registry (aiohttp).

``POST /kafka/set/<instance>``, ``GET /kafka/find/<instance>`` and ``GET /instance/fetchInstances`` take Evolution
API 2.3.6's requests and give its answers, in its order of checks:

1. the body, when it is sent as JSON, is parsed first (Express's ``json()`` runs before any route): invalid JSON is
   400 with the parser's message as a string (and, as Evolution's error handler has it, ``error`` "Internal
   Server Error");
2. the instance must exist: 404 ``["The "X" instance does not exist"]`` (before the key is looked at);
3. the key: no ``apikey`` header, or neither the global key nor the instance's own token: 401 ``"Unauthorized"``;
4. the body against Evolution's schema: 400 with ``[[validator lines]]`` (:mod:`tui.evolution.schema`);
5. set: 201 and the stored row, events as sent; find: 200 and the row or ``null``.

``fetchInstances`` takes ``instanceName``, ``instanceId`` or ``number``; a caller with an instance's token sees that
instance only. Errors are ``{"status", "error", "response": {"message"}}``; unknown routes ``Cannot GET /x``.

Where evokafka differs, on purpose: it never answers 500 to input (too deep JSON, bad header bytes, a body
without ``kafka`` — all of which Evolution answers 500 or differently — are 400/401 in its shapes); an unknown
charset is 400 (Evolution: 415); a cluster that does not answer is 503; URLs over 8 KiB are 414; read-only mode
answers ``/kafka/set`` with 403; evokafka holds no WhatsApp session, so every instance is ``close``; every answer
carries the header ``X-Evokafka`` so a client can tell.
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
from tui.evolution.client import EVOKAFKA_HEADER
from tui.evolution.models import error_json, instance_id, instance_json, kafka_record_json
from tui.evolution.schema import SetBodyError, check_set_body
from tui.instance_settings import InstanceSettings

log = logging.getLogger("tui.evolution.server")

INTEGRATION = "EVOKAFKA"
"""The ``integration`` field of every instance ``evokafka serve`` lists."""
MAX_URL = 8192
"""Longer request targets are answered 414."""
MAX_DEPTH = 200
"""Deeper JSON bodies are refused (400) before they are parsed."""


class SettingsStore(Protocol):
    """What the server needs from :class:`tui.kafka.registry.InstanceRegistry`."""

    def get(self, instance: str) -> InstanceSettings | None:
        """The instance's settings, or None."""
        ...

    def all(self) -> dict[str, InstanceSettings]:
        """Every instance's settings."""
        ...

    async def set(self, instance: str, settings: InstanceSettings) -> InstanceSettings:
        """Store ``settings`` as given (events as sent, token kept); ReadOnlyError when read-only."""
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


CONFIG_KEY: web.AppKey[ServeConfig] = web.AppKey("config", ServeConfig)

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    414: "URI Too Long",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_UNAVAILABLE: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


def _answer(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers={EVOKAFKA_HEADER: __version__}
    )


def _error(status: int, message: Any, error: str | None = None) -> web.Response:
    return _answer(status, error_json(status, error or _REASONS[status], message))


class _BodyError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _unavailable(exc: BaseException) -> bool:
    from tui.kafka.registry import RegistryError  # the registry's own failures: the cluster, not the input

    return isinstance(exc, (*_UNAVAILABLE, RegistryError)) or exc.__class__.__module__.startswith("aiokafka")


@web.middleware
async def _evolution_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure in Evolution's error shape; the cluster being unavailable is 503; no traceback ever."""
    if len(request.raw_path) > MAX_URL:
        return _error(414, [f"request target longer than {MAX_URL} bytes"])
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return _error(404, [f"Cannot {request.method.upper()} {request.raw_path}"])
    except web.HTTPException:
        raise
    except _BodyError as exc:
        return _error(400, exc.message, "Internal Server Error")  # Evolution's handler: no ``error`` on it
    except PermissionError as exc:  # tui.kafka.admin.ReadOnlyError: the registry itself is read-only
        return _error(403, [str(exc)])
    except Exception as exc:
        if _unavailable(exc):
            log.warning("%s %s: cluster unavailable: %s", request.method, request.path, exc.__class__.__name__)
            return _error(503, [f"the Kafka cluster is not available ({exc.__class__.__name__})"])
        log.warning("%s %s failed: %s", request.method, request.path, exc.__class__.__name__)
        return _error(500, "Internal Server Error")


def _depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


async def _body(request: web.Request) -> Any:
    """The JSON body as Express's ``json()`` reads it: only for a JSON content type; ``{}`` otherwise."""
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        return {}
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise _BodyError(f'unsupported charset "{charset.upper()}"')
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BodyError("body is not valid UTF-8") from None
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return {}
    if stripped[0] not in "[{":  # body-parser's strict mode: objects and arrays only
        raise _BodyError(f"Unexpected token '{stripped[0]}', \"{stripped[:20]}\" is not valid JSON")
    if _depth(stripped) > MAX_DEPTH:
        raise _BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        position = getattr(exc, "pos", 0)
        raise _BodyError(f"Unexpected token in JSON at position {position}") from None


def _given_key(request: web.Request) -> bytes | None:
    given = request.headers.get("apikey")
    if not given:
        return None
    # Header bytes that are not UTF-8 arrive as surrogates: compare bytes, never fail on them.
    return given.encode("utf-8", "surrogateescape")


def _matches(given: bytes, key: str) -> bool:
    # Constant time: the answer's timing must not tell how much of a guessed key was right.
    return bool(key) and hmac.compare_digest(given, key.encode("utf-8"))


def _is_global(request: web.Request, given: bytes | None) -> bool:
    config = request.app[CONFIG_KEY]
    if config.apikey is None:
        return True
    return given is not None and _matches(given, config.apikey.get_secret_value())


def _token_of(request: web.Request, instance: str) -> str:
    settings = request.app[STORE_KEY].get(instance)
    return settings.token if settings is not None else ""


def _known(request: web.Request, instance: str) -> bool:
    return instance in request.app[CONFIG_KEY].declared or request.app[STORE_KEY].get(instance) is not None


def _unauthorized() -> web.Response:
    return _error(401, "Unauthorized")


async def _guards(request: web.Request, instance: str, *, creating: bool = False) -> web.Response | None:
    """Evolution's guards in its order: the instance exists (404), then the key (401)."""
    if not _known(request, instance) and not (creating and request.app[CONFIG_KEY].allow_new):
        return _error(404, [f'The "{instance}" instance does not exist'])
    given = _given_key(request)
    if request.app[CONFIG_KEY].apikey is not None and given is None:
        return _unauthorized()
    if _is_global(request, given) or (given is not None and _matches(given, _token_of(request, instance))):
        return None
    return _unauthorized()


async def _set(request: web.Request) -> web.StreamResponse:
    instance = request.match_info["instance"]
    body = await _body(request)
    if refused := await _guards(request, instance, creating=True):
        return refused
    if request.app[CONFIG_KEY].read_only:
        return _error(403, ["evokafka serve runs read-only: /kafka/set is refused"])
    try:
        asked = check_set_body(body)
    except SetBodyError as exc:
        return _error(400, [exc.messages])
    store = request.app[STORE_KEY]
    current = store.get(instance)
    wanted = InstanceSettings.from_request(asked.enabled, asked.events).with_sent(asked.events)
    stored = await store.set(instance, wanted.with_token(current.token if current else ""))
    log.info("kafka/set %s: enabled=%s events=%d", instance, stored.enabled, len(asked.events))
    return _answer(201, kafka_record_json(instance, stored))


async def _find(request: web.Request) -> web.StreamResponse:
    instance = request.match_info["instance"]
    await _body(request)
    if refused := await _guards(request, instance):
        return refused
    settings = request.app[STORE_KEY].get(instance)
    has_record = settings is not None and settings.has_record
    return _answer(200, kafka_record_json(instance, settings) if settings is not None and has_record else None)


async def _fetch_instances(request: web.Request) -> web.StreamResponse:
    await _body(request)
    store = request.app[STORE_KEY]
    known = store.all()
    names = sorted(set(known) | request.app[CONFIG_KEY].declared)
    given = _given_key(request)
    if request.app[CONFIG_KEY].apikey is not None and given is None:
        return _unauthorized()
    wanted, by_id, number = (request.query.get(k) or None for k in ("instanceName", "instanceId", "number"))
    if not _is_global(request, given):
        assert given is not None
        # An instance's token: that instance only (``number`` is not looked at, as in Evolution).
        mine = [n for n in names if _matches(given, known[n].token if n in known else "")]
        mine = [n for n in mine if (wanted is None or n == wanted) and (by_id is None or instance_id(n) == by_id)]
        if not mine:
            return _unauthorized()
        names = mine
    elif by_id is not None or number is not None:
        found = [n for n in names if by_id is not None and instance_id(n) == by_id]
        if not found:  # evokafka holds no WhatsApp numbers: a number matches no instance
            return _error(404, [f'Instance "{by_id if by_id is not None else number}" not found'])
        names = found
    elif wanted is not None:
        if wanted not in names:
            return _error(404, [f'Instance "{wanted}" not found'])
        names = [wanted]
    return _answer(200, [instance_json(name, known.get(name), INTEGRATION) for name in names])


async def _unknown(request: web.Request) -> web.StreamResponse:
    await _body(request)
    return _error(404, [f"Cannot {request.method.upper()} {request.raw_path}"])


def create_app(store: SettingsStore, config: ServeConfig) -> web.Application:
    """The aiohttp application answering Evolution's Kafka endpoints from ``store``."""
    app = web.Application(middlewares=[_evolution_errors], client_max_size=16 * 1024 * 1024)
    app[STORE_KEY] = store
    app[CONFIG_KEY] = config
    app.router.add_post("/kafka/set/{instance}", _set)
    app.router.add_get("/kafka/find/{instance}", _find)
    app.router.add_get("/instance/fetchInstances", _fetch_instances)
    app.router.add_route("*", "/{tail:.*}", _unknown)
    return app


class _OneLine(logging.Filter):
    """aiohttp's own complaints about malformed requests: one line, never a traceback on stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1].__class__.__name__}"
            record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


class EvolutionServer:
    """The app, listening: ``await server.start()`` then :attr:`url`; ``await server.stop()``."""

    def __init__(self, store: SettingsStore, config: ServeConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.app = create_app(store, config)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        for name in ("aiohttp.server", "aiohttp.web", "aiohttp.access"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, _OneLine) for f in logger.filters):
                logger.addFilter(_OneLine())

    async def start(self) -> str:
        """Listen (port 0: any free port, then :attr:`port` is the real one); returns :attr:`url`.

        ``OSError`` when the address cannot be used (in use, not allowed).
        """
        # Long request lines reach the middleware (414 in Evolution's shape) instead of aiohttp's parser error.
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, max_line_size=65536)
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
