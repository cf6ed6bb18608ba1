"""An async client for Evolution API's REST endpoints that evokafka needs (aiohttp).

``GET /instance/fetchInstances``, ``GET /kafka/find/<instance>``, ``POST /kafka/set/<instance>``, every call with
the ``apikey`` header. Every failure is an :class:`EvolutionError` subclass with a one-line message that names
the server (without any credentials in its URL) and never contains the API key.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import SecretStr

from tui.evolution.models import (
    EvolutionInstance,
    EvolutionShapeError,
    KafkaRecord,
    error_message,
    parse_instances,
    parse_kafka_find,
)

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("tui.evolution")

DEFAULT_TIMEOUT_S = 10.0
EVOKAFKA_HEADER = "X-Evokafka"
"""Set by ``evokafka serve`` on every answer: the server is evokafka, not Evolution API itself."""


class EvolutionError(Exception):
    """Anything that went wrong talking to Evolution API; ``str()`` is one line for the operator."""


class EvolutionConfigError(EvolutionError):
    """The URL or key given to the client cannot work (not http/https, empty key)."""


class EvolutionAuthError(EvolutionError):
    """401: the server refused the API key."""


class EvolutionForbiddenError(EvolutionError):
    """403: the key is known but the call is not allowed (e.g. ``evokafka serve --read-only``)."""


class EvolutionNotFoundError(EvolutionError):
    """404: no such instance (the server's own message is kept)."""


class EvolutionBadRequestError(EvolutionError):
    """400: the server refused the request body (e.g. an event name it does not know)."""


class EvolutionUnreachableError(EvolutionError):
    """The server could not be reached: connection refused, unknown host, connection dropped."""


class EvolutionTLSError(EvolutionError):
    """The TLS handshake failed (certificate not trusted, not a TLS server, …)."""


class EvolutionTimeoutError(EvolutionError):
    """The server did not answer within the timeout."""


class EvolutionKafkaDisabledError(EvolutionError):
    """The server answers its Kafka endpoints with an empty body: Kafka is off there (``KAFKA_ENABLED``)."""


class EvolutionResponseError(EvolutionError):
    """An answer that is not usable: not JSON, not Evolution's shape, or an unexpected status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def display_url(url: str) -> str:
    """``url`` as shown to people: scheme, host, port and path; any ``user:password@`` removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class EvolutionClient:
    """Evolution API over HTTP(S): ``async with EvolutionClient(url, key) as client: await client.…``.

    ``timeout`` bounds each whole call (connect, send, read) in seconds. ``tls`` is passed to aiohttp as is
    (``True``: verify with the system's trust store; an :class:`ssl.SSLContext` for a private CA; ``False`` to
    skip verification).
    """

    def __init__(
        self,
        url: str,
        apikey: SecretStr,
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        tls: ssl.SSLContext | bool = True,
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EvolutionConfigError(f"Evolution API URL {url!r} is not http(s)://host[:port]")
        if not apikey.get_secret_value():
            raise EvolutionConfigError("Evolution API key is empty (set EVOLUTION_API_KEY)")
        self.url = url.strip().rstrip("/")
        self.display_url = display_url(self.url)
        self._apikey = apikey
        self.timeout = timeout
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self.server_is_evokafka: bool | None = None
        """After the first answer: whether the server is ``evokafka serve`` (None: not known yet)."""

    def __repr__(self) -> str:
        return f"EvolutionClient(url={self.display_url!r}, apikey='********', timeout={self.timeout})"

    async def __aenter__(self) -> EvolutionClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp is imported on first use: only an Evolution API source needs it (the console starts faster).
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # Never read credentials from ~/.netrc or proxies from the environment behind the user's back.
                trust_env=False,
            )
        return self._session

    # --- the three calls ------------------------------------------------------------------------------------

    async def fetch_instances(self) -> list[EvolutionInstance]:
        """``GET /instance/fetchInstances``: every instance the key can see."""
        body = await self._call("GET", "/instance/fetchInstances", what="list instances")
        try:
            return parse_instances(body)
        except EvolutionShapeError as exc:
            raise EvolutionResponseError(f"{self.display_url}: unexpected fetchInstances answer: {exc}") from None

    async def find_kafka(self, instance: str) -> KafkaRecord | None:
        """``GET /kafka/find/<instance>``: its Kafka record, or None when it has none."""
        body = await self._call("GET", f"/kafka/find/{quote(instance, safe='')}", what=f"read {instance!r}")
        try:
            return parse_kafka_find(body)
        except EvolutionShapeError as exc:
            raise EvolutionResponseError(f"{self.display_url}: unexpected kafka/find answer: {exc}") from None

    async def set_kafka(self, instance: str, enabled: bool, events: Iterable[str] = ()) -> KafkaRecord:
        """``POST /kafka/set/<instance>`` with ``{"kafka": {"enabled", "events"}}``; the record as stored."""
        payload = {"kafka": {"enabled": enabled, "events": list(events)}}
        body = await self._call(
            "POST", f"/kafka/set/{quote(instance, safe='')}", json_body=payload, what=f"set {instance!r}"
        )
        try:
            if body is None:
                raise EvolutionShapeError("answered null (is Kafka enabled on the server? KAFKA_ENABLED)")
            return KafkaRecord.from_json(body)
        except EvolutionShapeError as exc:
            raise EvolutionResponseError(f"{self.display_url}: unexpected kafka/set answer: {exc}") from None

    # --- one request, every failure mapped ------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, what: str, json_body: Any = None) -> Any:
        try:
            return await self._request(method, path, what=what, json_body=json_body)
        except EvolutionError as exc:
            # A server may echo what it was sent; the key must never reach a message or a log.
            secret = self._apikey.get_secret_value()
            if secret in str(exc):
                exc.args = (str(exc).replace(secret, "********"),)
            raise

    async def _request(self, method: str, path: str, *, what: str, json_body: Any = None) -> Any:
        import aiohttp

        url = self.url + path
        headers = {"apikey": self._apikey.get_secret_value(), "Accept": "application/json"}
        where = self.display_url
        try:
            async with self._http().request(method, url, json=json_body, headers=headers, ssl=self._tls) as resp:
                status = resp.status
                text = await resp.text(errors="replace")
                content_type = resp.content_type
                self.server_is_evokafka = EVOKAFKA_HEADER in resp.headers
        except aiohttp.ClientConnectorCertificateError as exc:
            raise EvolutionTLSError(
                f"{where}: TLS certificate not trusted ({_one_line(str(exc.certificate_error))})"
            ) from None
        except aiohttp.ClientSSLError as exc:
            reason = getattr(exc.os_error, "reason", None) or exc.os_error.__class__.__name__
            raise EvolutionTLSError(f"{where}: TLS handshake failed ({reason})") from None
        except ssl.SSLError as exc:
            raise EvolutionTLSError(f"{where}: TLS handshake failed ({exc.reason or exc.__class__.__name__})") from None
        except aiohttp.ClientConnectorDNSError:
            raise EvolutionUnreachableError(f"{where}: unknown host") from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or exc.os_error.__class__.__name__
            raise EvolutionUnreachableError(f"{where}: cannot connect ({reason})") from None
        except TimeoutError:
            raise EvolutionTimeoutError(f"{where}: no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise EvolutionUnreachableError(
                f"{where}: connection failed ({exc.__class__.__name__}: {_one_line(str(exc))})"
            ) from None
        log.debug("%s %s%s → %s", method, where, path, status)
        body, is_json = _parse_json(text)
        if status >= 400:
            raise _status_error(status, body if is_json else None, text, where, what)
        if not is_json and not text.strip() and path.startswith("/kafka/") and status < 300:
            # Evolution's EventController answers set/find with nothing at all when its Kafka is off.
            raise EvolutionKafkaDisabledError(
                f"Evolution API at {where} has Kafka disabled: KAFKA_ENABLED is not true there"
            )
        if not is_json:
            raise EvolutionResponseError(
                f"{where}: answered {status} with {content_type or 'no content type'}, not JSON"
                + (f": {_one_line(text, 60)}" if text.strip() else " (empty body)"),
                status,
            )
        return body


def _parse_json(text: str) -> tuple[Any, bool]:
    try:
        return json.loads(text), True
    except ValueError:
        return None, False


def _status_error(status: int, body: Any, text: str, where: str, what: str) -> EvolutionError:
    message = error_message(body) if body is not None else None
    said = f": {message}" if message else ""
    if status == 401:
        return EvolutionAuthError(f"{where}: API key refused (401 Unauthorized); check EVOLUTION_API_KEY")
    if status == 403:
        return EvolutionForbiddenError(f"{where}: cannot {what} (403 Forbidden){said}")
    if status == 404:
        return EvolutionNotFoundError(f"{where}: cannot {what} (404 Not Found){said}")
    if status == 400:
        return EvolutionBadRequestError(f"{where}: cannot {what} (400 Bad Request){said}")
    if body is None and text.strip():
        said = f": {_one_line(text, 60)}"
    return EvolutionResponseError(f"{where}: cannot {what} (HTTP {status}){said}", status)
