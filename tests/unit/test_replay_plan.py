"""The replay plan's arithmetic and inputs, and the marks of a re-sent record (pure)."""

from __future__ import annotations

import pytest

from tui.replay_plan import (
    RESENT_AT_HEADER,
    RESENT_HEADER,
    PartitionMove,
    RecordRef,
    ReplayInputError,
    ReplayPlan,
    ReplayTarget,
    resent_headers,
    target_offset,
    with_data,
)


def test_targets_parse_and_clamp() -> None:
    assert ReplayTarget.by("-5") == ReplayTarget("by", -5)
    assert ReplayTarget.to_offset("12") == ReplayTarget("offset", 12)
    assert ReplayTarget.to_offset("0=3, 2=9").per_partition == ((0, 3), (2, 9))
    assert ReplayTarget.to_offset("earliest").kind == "earliest"
    for bad in ("5", "-0", "-x", ""):
        with pytest.raises(ReplayInputError, match="bad --by"):
            ReplayTarget.by(bad)
    with pytest.raises(ReplayInputError, match="bad --to-offset"):
        ReplayTarget.to_offset("a=1")
    assert target_offset(ReplayTarget.by("-5"), 0, 20, 0, 30) == 15
    assert target_offset(ReplayTarget.by("-50"), 0, 20, 10, 30) == 10  # not before the beginning
    assert target_offset(ReplayTarget.by("-5"), 0, None, 0, 30) == 25  # never committed: from the end
    assert target_offset(ReplayTarget.to_offset("99"), 0, 20, 0, 30) == 30
    assert target_offset(ReplayTarget.to_offset("1=4"), 0, 20, 0, 30) == 20  # partition not named: stays
    assert target_offset(ReplayTarget.to_offset("latest"), 0, 20, 0, 30) == 30


def test_plan_counts_and_refusals() -> None:
    moves = (PartitionMove("t", 0, 20, 15, 0, 20), PartitionMove("t", 1, 3, 8, 0, 10))
    plan = ReplayPlan("g", "Empty", (), ReplayTarget.by("-5"), moves)
    assert (plan.again, plan.skipped, plan.refusal) == (5, 5, None)
    live = ReplayPlan("g", "Stable", ("consumer-1",), plan.target, moves)
    assert live.live and "1 active member" in (live.refusal or "")
    still = ReplayPlan("g", "Empty", (), plan.target, (PartitionMove("t", 0, 4, 4, 0, 9),))
    assert still.refusal == "nothing to move: the group is already there"
    assert plan.to_json()["partitions"][0]["again"] == 5


def test_record_refs_resent_headers_and_edits() -> None:
    ref = RecordRef.parse("evolution.acme.messages.upsert:2:41")
    assert (ref.topic, ref.partition, ref.offset, str(ref)) == ("evolution.acme.messages.upsert", 2, 41,
                                                                "evolution.acme.messages.upsert:2:41")
    with pytest.raises(ReplayInputError):
        RecordRef.parse("topic:x:1")
    headers = resent_headers(ref, [("event", b"e"), (RESENT_HEADER, b"old"), ("none", None)], "2026-01-01T00:00:00.000Z")
    assert headers == (("event", b"e"), ("none", b""), (RESENT_HEADER, str(ref).encode()),
                       (RESENT_AT_HEADER, b"2026-01-01T00:00:00.000Z"))
    assert with_data(b'{"event":"x","data":1}', {"n": 2}) == b'{"event":"x","data":{"n":2}}'
    with pytest.raises(ReplayInputError, match="not a JSON envelope"):
        with_data(b"\xff", 1)
