"""A durable cluster: ``moto_server`` (S3 on loopback) and Tansu brokers storing on one bucket.

Several brokers sharing the bucket form one cluster (each answers metadata as the only node), and a broker
killed (-9) and started again keeps its data. Each process is started by its owner and stopped by its own
handle, never by name. Used by the fault tests (tests/faults) and ``evokafka bench --scenario faults``; needs
``moto_server`` (PyPI ``moto[server]``, a test extra): :func:`s3_available` says whether it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType

from tui.demo.broker import EmbeddedBroker, free_port, wait_for_port

BUCKET = "tansu"
START_TIMEOUT_S = 30.0


def moto_server() -> str | None:
    """The ``moto_server`` beside this interpreter or on PATH, or None."""
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return str(beside)
    return shutil.which("moto_server")


def s3_available() -> bool:
    """Whether a durable cluster can be started here."""
    return moto_server() is not None


class S3Server:
    """``moto_server`` on a free loopback port, with the bucket made."""

    # Bench and tests alike: the process is ours, stopped by its handle.

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What a broker needs to store on this bucket."""
        return {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self) -> S3Server:
        server = moto_server()
        if server is None:
            raise RuntimeError("moto_server is not installed (pip install 'moto[server]')")
        with open(self.log_path, "ab") as out:
            self._process = subprocess.Popen(
                [server, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        if not wait_for_port("127.0.0.1", self.port, START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"moto_server did not start on port {self.port}")
        # CreateBucket is a plain PUT on the bucket's path (moto does not check signatures).
        request = urllib.request.Request(f"{self.endpoint}/{BUCKET}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status >= 300:
                self.stop()
                raise RuntimeError(f"moto_server refused to make the bucket ({answer.status})")
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


class DurableBroker(EmbeddedBroker):
    """One Tansu broker storing on the S3 bucket; :meth:`kill` is a ``kill -9``, :meth:`start` brings it back
    with its data (the embedded broker's process handling, with S3 storage)."""

    def __init__(self, s3: S3Server, log_path: Path, *, port: int | None = None) -> None:
        super().__init__(port, start_timeout=START_TIMEOUT_S, log_path=log_path, storage=f"s3://{BUCKET}/",
                         env=s3.env())
        self.s3 = s3
        self.starts = 0

    def start(self) -> DurableBroker:
        if not self.running:
            super().start()
            self.starts += 1
        return self

    def restart(self) -> DurableBroker:
        """Kill (no flush) and start again on the same port and bucket: the data is still there."""
        self.kill()
        return self.start()


class DurableCluster:
    """An S3 server and ``size`` brokers on its bucket."""

    def __init__(self, directory: Path, size: int = 3) -> None:
        self.s3 = S3Server(directory / "moto.log")
        self.brokers = [DurableBroker(self.s3, directory / f"tansu{n}.log") for n in range(size)]

    @property
    def bootstrap(self) -> str:
        """Every broker, comma-separated (``KAFKA_BROKERS=a,b,c``)."""
        return ",".join(b.bootstrap for b in self.brokers)

    def start(self) -> DurableCluster:
        self.s3.start()
        try:
            for broker in self.brokers:
                broker.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for broker in self.brokers:
            broker.kill()
        self.s3.stop()

    def __enter__(self) -> DurableCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
