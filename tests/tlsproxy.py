"""A TLS-terminating proxy on loopback, and a throwaway certificate authority, for the TLS tests.

Tansu 0.6.0 has no TLS listener (README: "The embedded broker's quirks"), so the tests put this proxy in front of a plaintext broker
and start the broker with ``EmbeddedBroker(advertised_port=proxy.port)``: every client connection, bootstrap
and metadata-advertised alike, then goes through TLS. Certificates are made by the ``openssl`` command line
(the ``cryptography`` package is not installed here) in a temporary folder per test.

The proxy runs its own event loop in a thread, so that synchronous tests (the CLI in a subprocess) and
asynchronous ones can both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()[-400:]}")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


class CertificateAuthority:
    """A throwaway CA made by the test; issues server and client certificates."""

    def __init__(self, folder: Path, name: str = "evokafka-test-ca") -> None:
        self.folder = folder
        self.name = name
        folder.mkdir(parents=True, exist_ok=True)
        self.cert = folder / f"{name}.pem"
        self.key = folder / f"{name}.key"
        _openssl(
            "req", "-x509", *_KEY_ARGS, "-keyout", self.key.name, "-out", self.cert.name, "-days", "90",
            "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder,
        )
        (folder / "index.txt").write_text("")
        (folder / "serial").write_text("1000\n")
        (folder / "ca.cnf").write_text(
            "[ca]\ndefault_ca = CA_default\n"
            "[CA_default]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
            "default_md = sha256\npolicy = policy_any\nunique_subject = no\n"
            "[policy_any]\ncommonName = supplied\n"
        )

    def issue(
        self,
        name: str,
        *,
        sans: tuple[str, ...] = ("IP:127.0.0.1", "DNS:localhost"),
        client: bool = False,
        expired: bool = False,
    ) -> Issued:
        """A certificate for ``name`` signed by this CA; ``expired`` makes one whose dates lie in the past."""
        key, csr, cert = f"{name}.key", f"{name}.csr", f"{name}.pem"
        _openssl("req", *_KEY_ARGS, "-keyout", key, "-out", csr, "-subj", f"/CN={name}", cwd=self.folder)
        usage = "clientAuth" if client else "serverAuth"
        ext = self.folder / f"{name}.ext"
        lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", f"extendedKeyUsage={usage}"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        ext.write_text("\n".join(lines) + "\n")
        if expired:
            _openssl(
                "ca", "-config", "ca.cnf", "-batch", "-notext", "-cert", self.cert.name, "-keyfile", self.key.name,
                "-in", csr, "-out", cert, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                "-extfile", ext.name,
                cwd=self.folder,
            )
        else:
            _openssl(
                "x509", "-req", "-in", csr, "-CA", self.cert.name, "-CAkey", self.key.name, "-CAcreateserial",
                "-days", "90", "-out", cert, "-extfile", ext.name,
                cwd=self.folder,
            )
        return Issued(self.folder / cert, self.folder / key)


def self_signed(folder: Path, name: str = "self-signed", sans: str = "IP:127.0.0.1,DNS:localhost") -> Issued:
    """A server certificate signed by its own key: no CA vouches for it."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", *_KEY_ARGS, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "90",
        "-subj", f"/CN={name}", "-addext", f"subjectAltName={sans}",
        cwd=folder,
    )
    return Issued(folder / f"{name}.pem", folder / f"{name}.key")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TlsProxy:
    """Accepts TLS on ``port`` and forwards the plaintext to ``target_host:target_port``.

    With ``client_ca`` the proxy requires a client certificate signed by that CA, and records the subject
    of each one presented in :attr:`client_subjects`.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        server: Issued,
        *,
        client_ca: Path | None = None,
        listen_port: int | None = None,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = listen_port or _free_port()
        self.client_subjects: list[str] = []
        self.handshake_failures = 0
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(server.cert), str(server.key))
        if client_ca is not None:
            self._context.load_verify_locations(cafile=str(client_ca))
            self._context.verify_mode = ssl.CERT_REQUIRED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> TlsProxy:
        """Listen (in a thread of its own) and return once the port accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            # A refused handshake is what several tests provoke: count it instead of logging a traceback.
            loop.set_exception_handler(self._on_loop_error)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self._context)
                )
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="tls-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("TLS proxy did not start")
        if failure:
            raise failure[0]
        return self

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        self.handshake_failures += 1

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        if peer:
            subject = dict(item[0] for item in peer.get("subject", ()))
            self.client_subjects.append(str(subject.get("commonName", "")))
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def stop(self) -> None:
        """Stop listening, close every connection and end the thread."""
        loop, server = self._loop, self._server
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if server is not None:
                server.close()
                # Connections still open would keep wait_closed() waiting: abort their transports.
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5)
        self._thread = None

    def __enter__(self) -> TlsProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
