"""The listeners type: who is told of a change, and how they stop being told."""

from __future__ import annotations

from tui.listeners import Listeners


def test_every_listener_is_told_in_order_until_it_unsubscribes() -> None:
    seen: list[str] = []
    listeners: Listeners[int] = Listeners()
    stop_a = listeners.add(lambda v: seen.append(f"a{v}"))
    listeners.add(lambda v: seen.append(f"b{v}"))
    listeners.notify(1)
    stop_a()
    stop_a()  # twice is harmless
    listeners.notify(2)
    assert seen == ["a1", "b1", "b2"]
    assert len(listeners) == 1


def test_a_listener_that_unsubscribes_while_told_does_not_skip_the_next() -> None:
    seen: list[str] = []
    listeners: Listeners[str] = Listeners()
    stops: list[object] = []

    def first(value: str) -> None:
        seen.append("first " + value)
        stop = stops[0]
        assert callable(stop)
        stop()

    stops.append(listeners.add(first))
    listeners.add(lambda v: seen.append("second " + v))
    listeners.notify("x")
    listeners.notify("y")
    assert seen == ["first x", "second x", "second y"]


def test_a_listener_that_raises_is_reported_and_the_others_are_still_told() -> None:
    errors: list[BaseException] = []
    listeners: Listeners[int] = Listeners(errors.append)
    seen: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("observer bug")

    listeners.add(broken)
    listeners.add(seen.append)
    listeners.notify(7)
    assert seen == [7] and [str(e) for e in errors] == ["observer bug"]
