"""Cluster administration: topics (list, describe, create), cluster id and brokers. Honours read-only."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tui.kafka import metadata
from tui.kafka.options import ClusterUnreachableError as ClusterUnreachableError
from tui.kafka.options import ConnectionOptions, ReadOnlyError, start_client, stop_quietly

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

CONNECT_ANSWER_S = 1.0
"""How long after connecting the topic list the connection was answered with stands for "now"."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic to create."""

    name: str
    partitions: int = 1
    replication: int = 1
    configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What the cluster says about itself."""

    cluster_id: str | None
    brokers: list[str]
    controller: int | None


class Admin:
    """A thin, typed layer over aiokafka's admin client, started with the connection timeout."""

    def __init__(self, options: ConnectionOptions, *, read_only: bool = False) -> None:
        self.options = options
        self._read_only = read_only
        self._client: AIOKafkaAdminClient | None = None
        self._connected_at: float | None = None
        """When the client connected, until a read or a write through it (see :meth:`topics`)."""

    async def start(self) -> Admin:
        """Connect; :class:`ClusterUnreachableError` after ``KAFKA_CONNECTION_TIMEOUT`` (at least 1 s)."""
        client = self.options.admin_client()
        await start_client(client, self.options, timeout=max(self.options.connect_timeout_s, 1.0))
        self._client = client
        self._connected_at = time.monotonic()
        return self

    async def close(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        if client is not None:
            await stop_quietly(client, timeout=max(self.options.connect_timeout_s, 1.0))

    async def __aenter__(self) -> Admin:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def read_only(self) -> bool:
        """Writes refused: asked for here, by the options, or by the process's read-only scope."""
        return self._read_only or self.options.refuses_writes

    @property
    def client(self) -> AIOKafkaAdminClient:
        """The started aiokafka admin client."""
        if self._client is None:
            raise RuntimeError("Admin is not started")
        return self._client

    async def topics(self) -> dict[str, int]:
        """Every topic with its partition count (internal ``__consumer_offsets`` left out).

        Asked of the cluster; the first call within :data:`CONNECT_ANSWER_S` of connecting, with nothing written
        since, takes the list the connection was answered with when it holds one (at tens of thousands of
        topics each answer is megabytes to decode, and a command that connects to list topics paid twice).
        """
        known = self._connect_answer()
        if known is not None:
            return {name: count for name, count in known.items() if name != "__consumer_offsets"}
        every = await metadata.every_topic_of(self.client)
        return {name: count for name, count in every.items() if name != "__consumer_offsets"}

    async def topic_names(self) -> set[str]:
        """Every topic name (fast: from metadata; the connection's answer as :meth:`topics` says)."""
        known = self._connect_answer()
        names: Iterable[str] = known if known is not None else await self.client.list_topics()
        return {n for n in names if n != "__consumer_offsets"}

    def _connect_answer(self) -> dict[str, int] | None:
        """The topics the connection was answered with, on the first read within :data:`CONNECT_ANSWER_S` of
        connecting with nothing written since; else None (ask the cluster)."""
        connected, self._connected_at = self._connected_at, None
        if connected is None or time.monotonic() - connected >= CONNECT_ANSWER_S:
            return None
        return metadata.connect_answer(self.client)

    async def create_topics(self, specs: Iterable[TopicSpec]) -> list[str]:
        """Create the topics that do not exist yet; returns the names created. Refused when read-only."""
        wanted = list(specs)
        if not wanted:
            return []
        if self.read_only:
            raise ReadOnlyError(f"create topics {', '.join(s.name for s in wanted[:3])}")
        existing = await self.topic_names()
        self._connected_at = None
        missing = [s for s in wanted if s.name not in existing]
        if not missing:
            return []
        from aiokafka.admin import NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        new = [
            NewTopic(s.name, num_partitions=s.partitions, replication_factor=s.replication, topic_configs=dict(s.configs))
            for s in missing
        ]
        created: list[str] = []
        try:
            response = await self.client.create_topics(new)
        except TopicAlreadyExistsError:
            return []
        errors = _create_errors(response)
        for spec in missing:
            code = errors.get(spec.name, 0)
            if code in (0, 36):  # 36: TOPIC_ALREADY_EXISTS, someone else was faster
                if code == 0:
                    created.append(spec.name)
            else:
                raise RuntimeError(f"cannot create topic {spec.name}: error code {code}")
        return created

    async def delete_topics(self, names: Iterable[str]) -> None:
        """Delete topics. Refused when read-only."""
        doomed = list(names)
        if not doomed:
            return
        if self.read_only:
            raise ReadOnlyError(f"delete topics {', '.join(doomed[:3])}")
        self._connected_at = None
        await self.client.delete_topics(doomed)

    async def cluster(self) -> ClusterInfo:
        """Cluster id, brokers and controller (one metadata request that names no real topic: the console asks
        every few seconds, and the answer for every topic is megabytes at tens of thousands of topics)."""
        info: Any = await metadata.cluster_only(self.client)
        brokers = [f"{b['host']}:{b['port']}" for b in info.get("brokers", [])]
        return ClusterInfo(info.get("cluster_id"), brokers, info.get("controller_id"))


def _create_errors(response: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in getattr(response, "topic_errors", []) or []:
        name, code = item[0], item[1]
        out[str(name)] = int(code)
    return out
