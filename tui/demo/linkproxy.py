"""A loopback TCP proxy that can cut the network link and restore it, while the broker keeps its data.

Killing the in-memory broker loses every record; a real network fault does not. The proxy sits between the
clients and the broker (the broker advertises the proxy's port, so metadata sends clients back through it):
:meth:`LinkProxy.cut` drops every open connection and refuses new ones (a reset: clients notice at once),
:meth:`LinkProxy.cut_silently` keeps every connection open and accepts new ones but forwards nothing, in either
direction (a pulled cable or a dropping firewall: clients notice only by the silence), and
:meth:`LinkProxy.restore` ends either kind (after a silent cut, what was held flows on, as TCP retransmits
would deliver it). Used by the fault tests and by ``evokafka bench``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket


class LinkProxy:
    """Forwards ``127.0.0.1:port`` to ``target_host:target_port``; the link can be cut and restored."""

    def __init__(self, target_host: str, target_port: int, listen_port: int | None = None) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = "127.0.0.1"
        self._port = listen_port or 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._cut = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.connections = 0
        """Connections accepted since start (for tests and the bench)."""

    @property
    def port(self) -> int:
        """The port clients connect to (fixed at the first :meth:`start`, kept across cut and restore)."""
        if not self._port:
            raise RuntimeError("LinkProxy is not started")
        return self._port

    @property
    def is_cut(self) -> bool:
        """Whether the link is cut (either kind)."""
        return self._cut or not self._flowing.is_set()

    @property
    def is_silent(self) -> bool:
        """Whether the link is cut silently (connections held, nothing forwarded)."""
        return not self._flowing.is_set()

    async def start(self) -> LinkProxy:
        """Listen (on a free port when none was given)."""
        await self._listen()
        self._cut = False
        return self

    async def stop(self) -> None:
        """Close the listener and every connection."""
        await self._drop_all()
        self._flowing.set()

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones, as a pulled cable would."""
        self._cut = True
        await self._drop_all()

    async def cut_silently(self) -> None:
        """Forward nothing any more, in either direction, and answer nothing, but keep every connection open
        and accept new ones: no reset, no FIN, only silence."""
        self._flowing.clear()

    async def restore(self) -> None:
        """Accept connections again, on the same port; after a silent cut, let what was held flow on."""
        if self._server is None:
            await self._listen()
        self._cut = False
        self._flowing.set()

    async def __aenter__(self) -> LinkProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        # reuse_address: restoring binds the same port again while old sockets sit in TIME_WAIT.
        self._server = await asyncio.start_server(
            self._accept, self.host, self._port, reuse_address=True, family=socket.AF_INET
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _drop_all(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _abort(writer)
        pipes = list(self._pipes)
        for task in pipes:
            task.cancel()
        for task in pipes:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=2.0)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._cut:
            _abort(client_writer)
            return
        self.connections += 1
        self._writers.add(client_writer)
        # Silent: the connection is accepted (the kernel did that already) but nothing goes upstream yet.
        await self._flowing.wait()
        if self._cut:
            _abort(client_writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            _abort(client_writer)
            return
        self._writers.update((client_writer, upstream_writer))
        pipes = (
            asyncio.create_task(_pump(client_reader, upstream_writer, self._flowing)),
            asyncio.create_task(_pump(upstream_reader, client_writer, self._flowing)),
        )
        self._pipes.update(pipes)
        try:
            # When either side closes, close both: a half-open link would hang the client.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            for writer in (client_writer, upstream_writer):
                _abort(writer)
                self._writers.discard(writer)
            self._pipes.difference_update(pipes)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
    with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
        while True:
            await flowing.wait()
            chunk = await reader.read(65536)
            # A chunk read just before a silent cut is held too: nothing crosses a cut link.
            await flowing.wait()
            if not chunk:
                return
            writer.write(chunk)
            await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    # abort(), not close(): a cut link sends no orderly FIN after buffered data.
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
    else:
        with contextlib.suppress(Exception):
            transport.abort()
