"""ReconnectPolicy: the reference's backoff (first delay, doubling, cap 2^5 x first, attempt limit)."""

from __future__ import annotations

import itertools

import pytest

from tui.config import load_settings
from tui.kafka.reconnect import ReconnectPolicy


def test_reference_defaults_from_settings() -> None:
    policy = ReconnectPolicy.from_settings(load_settings(None, environ={}))
    assert policy.initial_delay_ms == 5000
    assert policy.max_attempts == 10
    assert policy.max_delay_ms == 5000 * 32
    assert policy.delays() == [5000, 10000, 20000, 40000, 80000, 160000, 160000, 160000, 160000, 160000]


def test_settings_change_the_schedule() -> None:
    settings = load_settings(
        None, environ={"KAFKA_RECONNECT_INITIAL_DELAY_MS": "50", "KAFKA_RECONNECT_MAX_ATTEMPTS": "3"}
    )
    assert ReconnectPolicy.from_settings(settings).delays() == [50, 100, 200]


def test_delays_double_then_stay_at_the_cap() -> None:
    policy = ReconnectPolicy(100, 9)
    delays = policy.delays()
    assert delays[:6] == [100, 200, 400, 800, 1600, 3200]
    assert delays[6:] == [3200, 3200, 3200]
    assert max(delays) == policy.max_delay_ms == 3200
    assert all(b == min(2 * a, 3200) for a, b in itertools.pairwise(delays))


def test_next_delay_counts_attempts_and_is_exhausted_after_max() -> None:
    policy = ReconnectPolicy(10, 3)
    assert policy.attempt == 0 and not policy.exhausted
    assert policy.next_delay() == 10
    assert policy.attempt == 1
    assert policy.next_delay() == 20
    assert policy.next_delay() == 40
    assert policy.exhausted
    assert policy.next_delay() is None
    assert policy.attempt == 3


def test_reset_starts_over() -> None:
    policy = ReconnectPolicy(10, 2)
    policy.next_delay()
    policy.next_delay()
    assert policy.exhausted
    policy.reset()
    assert policy.attempt == 0
    assert policy.next_delay() == 10


@pytest.mark.parametrize(("initial", "attempts"), [(0, 1), (1, 0), (-5, 3)])
def test_nonsense_is_refused(initial: int, attempts: int) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(initial, attempts)


def test_delay_for_counts_from_one() -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(10, 3).delay_for(0)
