"""The consumers' shared loop (`shoplake.kafka.consume`), on an in-memory consumer."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest
from kafka import KafkaConsumer

from shoplake.kafka import consume


class FakeConsumer:
    """What the loop uses of a KafkaConsumer: its assignment, and close."""

    def __init__(self, assigned: bool = True) -> None:
        self.assigned = assigned
        self.closed = False

    def assignment(self) -> set[Any]:
        return {("topic", 0)} if self.assigned else set()

    def close(self) -> None:
        self.closed = True


class Connections:
    def __init__(self, assigned: bool = True) -> None:
        self.made: list[FakeConsumer] = []
        self.assigned = assigned

    def __call__(self) -> KafkaConsumer:
        consumer = FakeConsumer(self.assigned)
        self.made.append(consumer)
        return cast(KafkaConsumer, consumer)


class LateAssignments(Connections):
    """The first member never gets its partitions (kafka-python's lost rejoin); the next do."""

    def __call__(self) -> KafkaConsumer:
        consumer = super().__call__()
        self.made[-1].assigned = len(self.made) > 1
        return consumer


def test_a_bounded_run_stops_once_idle_after_the_work_is_done() -> None:
    work = [3, 2, 0, 0]
    steps: list[int] = []

    def step(_consumer: KafkaConsumer) -> int:
        done = work.pop(0) if work else 0
        steps.append(done)
        return done

    connections = Connections()
    consume(connections, step, name="t", stop=threading.Event(), stop_after_idle_s=0.05)
    assert steps[:2] == [3, 2] and sum(steps) == 5
    assert len(connections.made) == 1 and connections.made[0].closed


def test_a_failure_closes_the_consumer_and_the_next_one_goes_on() -> None:
    calls = {"n": 0}

    def step(_consumer: KafkaConsumer) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("broker gone")
        return 1 if calls["n"] == 2 else 0

    connections = Connections()
    consume(connections, step, name="t", stop=threading.Event(), stop_after_idle_s=0.05)
    first, second = connections.made
    assert first.closed and second.closed
    assert calls["n"] >= 3


def test_a_bounded_run_without_a_partition_gives_up_with_a_clear_error() -> None:
    with pytest.raises(TimeoutError, match="orders: no partition assigned in 0s"):
        consume(
            Connections(assigned=False),
            lambda _c: 0,
            name="orders",
            stop=threading.Event(),
            stop_after_idle_s=0.05,
            join_timeout_s=0.1,
        )


def test_an_unbounded_run_ends_when_told_to_stop() -> None:
    stop = threading.Event()

    def step(_consumer: KafkaConsumer) -> int:
        stop.set()
        return 0

    connections = Connections(assigned=False)
    consume(connections, step, name="t", stop=stop, join_timeout_s=0.0)
    assert connections.made[0].closed


def test_a_bounded_run_left_without_partitions_joins_again_with_a_new_consumer() -> None:
    connections = LateAssignments()
    consume(
        connections,
        lambda _c: 0,
        name="t",
        stop=threading.Event(),
        stop_after_idle_s=0.05,
        join_timeout_s=5.0,
        rejoin_after_s=0.1,
    )
    first, second = connections.made
    assert first.closed and not first.assigned
    assert second.assigned and second.closed


def test_a_service_left_without_partitions_joins_again_with_a_new_consumer() -> None:
    """An unbounded run (a live service) must not sit forever on a member kafka-python left
    without partitions: it reconnects, and the next member gets them."""
    stop = threading.Event()

    connections = LateAssignments()

    def step(consumer: KafkaConsumer) -> int:
        if consumer.assignment():
            stop.set()  # the new member has its partitions: the service works again
        return 0

    consume(connections, step, name="t", stop=stop, rejoin_after_s=0.1)
    first, second = connections.made
    assert first.closed and not first.assigned
    assert second.assigned and second.closed


def test_a_consumer_that_had_its_partitions_is_not_replaced_while_idle() -> None:
    stop = threading.Event()
    steps = {"n": 0}

    def step(_consumer: KafkaConsumer) -> int:
        steps["n"] += 1
        if steps["n"] >= 200:
            stop.set()
        return 0

    connections = Connections(assigned=True)
    consume(connections, step, name="t", stop=stop, rejoin_after_s=0.0)
    assert len(connections.made) == 1


def test_a_member_that_rightly_has_nothing_rejoins_ever_less_often() -> None:
    """More members than partitions: one member has none however often it joins; each rejoin in
    a row waits twice as long, so it does not rebalance its group at a fixed rate."""
    stop = threading.Event()
    connections = Connections(assigned=False)
    timer = threading.Timer(0.75, stop.set)
    timer.start()
    try:
        consume(connections, lambda _c: 0, name="t", stop=stop, rejoin_after_s=0.05)
    finally:
        timer.cancel()
    # Rejoins after 0.05, 0.1, 0.2 and 0.4 s of waiting (0.75 s in all): 5 members, not 15.
    assert 3 <= len(connections.made) <= 5
