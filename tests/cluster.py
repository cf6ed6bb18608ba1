"""The durable three-broker cluster of the fault tests: :mod:`tui.demo.durable` (moto_server + Tansu on S3),
shared with ``evokafka bench --scenario faults``; here only what the tests add to it."""

from __future__ import annotations

from tui.demo.durable import DurableBroker, DurableCluster


def kill_all(cluster: DurableCluster) -> None:
    """``kill -9`` every broker of ``cluster`` (the bucket keeps their data)."""
    for broker in cluster.brokers:
        broker.kill()


def start_all(cluster: DurableCluster) -> list[DurableBroker]:
    """Start every broker again on its port and the same bucket."""
    return [broker.start() for broker in cluster.brokers]
