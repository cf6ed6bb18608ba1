"""Replay a consumer group safely: plan the offset reset (a dry run, always), then move the group.

:func:`plan_replay` asks the group's state and members (DescribeGroups), its committed offsets (the way
:mod:`tui.kafka.lag` asks them: a consumer of the group calling ``committed()``, since aiokafka's admin cannot
decode this broker's OffsetFetch answer), the partitions' begin and end offsets and, for a time, the first
offset at or after it (:func:`tui.kafka.streams.offset_for_time`, a binary search over the records, since the
test broker answers offsets-for-times with 0). :func:`reset_group` moves the group: refused in read-only mode
and for a live group (Kafka resets only a group without members). It commits the new offsets as Kafka's own
reset tool does (an OffsetCommit outside any generation); a broker that refuses that for a group that had
members (the test broker does) gets them from a short-lived member of the group instead, which joins,
commits and leaves — possible only because nobody else is in the group.

Never imports Textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError

from tui.kafka.admin import Admin
from tui.kafka.metadata import every_topic
from tui.kafka.options import ConnectionOptions, ReadOnlyError, start_client, stop_quietly
from tui.kafka.streams import consumer, offset_for_time
from tui.replay_plan import PartitionMove, ReplayPlan, ReplayTarget, target_offset

JOIN_TIMEOUT_S = 30.0
"""How long the short-lived member may take to join the group and get every partition (a first join on the
test broker can take seconds)."""


class ReplayError(RuntimeError):
    """The replay cannot be planned or done (unknown topic, live group, the cluster refused)."""


async def group_members(options: ConnectionOptions, group: str) -> tuple[str, tuple[str, ...]]:
    """The group's state and its active members (client id, else member id)."""
    async with Admin(options) as admin:
        described: list[Any] = await asyncio.wait_for(
            admin.client.describe_consumer_groups([group]), timeout=max(options.request_timeout_ms / 1000, 1.0)
        )
    for response in described:
        for entry in response.groups:
            error_code, name, state, _protocol_type, _protocol, members = entry[:6]
            if name != group:
                continue
            if error_code:
                raise ReplayError(f"cannot describe group {group}: error code {error_code}")
            return str(state or "Unknown"), tuple(str(m[1] or m[0]) for m in members)
    return "Dead", ()


async def _committed(client: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]:
    found = await asyncio.gather(*(client.committed(tp) for tp in partitions))
    return dict(zip(partitions, found, strict=True))


def _group_consumer(options: ConnectionOptions, group: str, **extra: Any) -> AIOKafkaConsumer:
    # Built at the one door of writes: a read-only process cannot commit the group's offsets, whoever asks.
    return options.group_consumer(group, **{"auto_offset_reset": "earliest", **extra})


async def plan_replay(
    options: ConnectionOptions, group: str, topics: Sequence[str], target: ReplayTarget
) -> ReplayPlan:
    """The dry run: per partition of ``topics``, the group's committed offset and where ``target`` puts it.

    :class:`ReplayError` for an unknown topic or a group that cannot be described.
    """
    if not group.strip():
        raise ReplayError("a consumer group id is needed")
    state, members = await group_members(options, group)
    reader = consumer(options)
    await start_client(reader, options)
    committer = _group_consumer(options, group)
    try:
        await start_client(committer, options)
        cluster = await every_topic(reader)
        missing = [t for t in topics if not cluster.partitions_for_topic(t)]
        if missing:
            raise ReplayError(f"no such topic: {', '.join(missing)}")
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
        reader.assign(partitions)
        begin = await reader.beginning_offsets(partitions)
        end = await reader.end_offsets(partitions)
        committed = await _committed(committer, partitions)
        moves: list[PartitionMove] = []
        for tp in partitions:
            if target.kind == "time":
                offset = await offset_for_time(reader, tp, target.value, begin[tp], end[tp])
            else:
                offset = target_offset(target, tp.partition, committed[tp], begin[tp], end[tp])
            moves.append(PartitionMove(tp.topic, tp.partition, committed[tp], offset, begin[tp], end[tp]))
    finally:
        await stop_quietly(committer, timeout=max(options.connect_timeout_s, 1.0))
        await stop_quietly(reader, timeout=max(options.connect_timeout_s, 1.0))
    return ReplayPlan(group, state, members, target, tuple(moves))


async def reset_group(options: ConnectionOptions, plan: ReplayPlan, *, read_only: bool) -> ReplayPlan:
    """Move the group as ``plan`` says, then return the plan as the group stands after (committed = target).

    :class:`~tui.kafka.admin.ReadOnlyError` in read-only mode; :class:`ReplayError` when the group became live
    since the plan, or the cluster refused.
    """
    if read_only:
        raise ReadOnlyError(f"reset the offsets of group {plan.group}")
    state, members = await group_members(options, plan.group)
    if members:
        raise ReplayError(ReplayPlan(plan.group, state, members, plan.target, plan.moves).refusal or "group is live")
    offsets = {TopicPartition(m.topic, m.partition): m.target for m in plan.moves if m.moves}
    if offsets:
        try:
            await _commit_outside_generation(options, plan.group, offsets)
        except CommitFailedError:
            await _commit_as_member(options, plan.group, offsets)
    after = _group_consumer(options, plan.group)
    await start_client(after, options)
    try:
        committed = await _committed(after, [TopicPartition(m.topic, m.partition) for m in plan.moves])
    finally:
        await stop_quietly(after, timeout=max(options.connect_timeout_s, 1.0))
    moved = tuple(
        PartitionMove(m.topic, m.partition, committed[TopicPartition(m.topic, m.partition)], m.target, m.begin, m.end)
        for m in plan.moves
    )
    wrong = [m for m in moved if m.committed != m.target]
    if wrong:
        where = ", ".join(f"{m.topic}[{m.partition}] at {m.committed} (wanted {m.target})" for m in wrong[:3])
        raise ReplayError(f"the group did not move as planned: {where}")
    return ReplayPlan(plan.group, state, (), plan.target, moved)


async def _commit_outside_generation(
    options: ConnectionOptions, group: str, offsets: dict[TopicPartition, int]
) -> None:
    client = _group_consumer(options, group)
    await start_client(client, options)
    try:
        client.assign(list(offsets))
        await client.commit(offsets)
    finally:
        await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0))


async def _commit_as_member(options: ConnectionOptions, group: str, offsets: dict[TopicPartition, int]) -> None:
    client = _group_consumer(options, group)
    await start_client(client, options)
    try:
        client.subscribe(topics=sorted({tp.topic for tp in offsets}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOIN_TIMEOUT_S
        # Joining happens in the client's background; wait (bounded) until it holds every partition to move.
        while not set(offsets) <= client.assignment():
            if loop.time() > deadline:
                raise ReplayError(f"could not join group {group} within {JOIN_TIMEOUT_S:.0f} s to reset it")
            await asyncio.sleep(0.05)
        await client.commit(offsets)
    finally:
        await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0))
