"""Kafka helpers every layer shares: topics made on demand, a producer that waits for acks, and
the one loop every consumer runs.

The local broker creates a topic on its first write (`auto.create.topics.enable`, three
partitions), so a new domain's topic needs no set-up step; `ensure_topics` makes topics
explicitly where a caller needs its own partition count or the topic before anyone writes (a
consumer that subscribes first). Managed clusters usually disable auto-creation: create
`shop.<domain>.v1` there with the partitions its consumers need.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from shoplake.config import Settings
from shoplake.events import CloudEvent, topic_for

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings, topics: Iterable[str], partitions: int = 3) -> None:
    """Create the topics that do not exist yet (idempotent, safe when several callers race)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(topic, num_partitions=partitions, replication_factor=1)
            for topic in sorted(set(topics) - existing)
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
    finally:
        admin.close()


def produce_events(
    settings: Settings, events: Iterable[CloudEvent], topic: str | None = None
) -> int:
    """Send events keyed by subject (to their domain's topic unless `topic` is given) and wait
    until the broker has acknowledged every one; the number sent."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5
    )
    try:
        futures = [
            producer.send(
                topic or topic_for(event.domain), key=event.subject.encode(), value=event.to_json()
            )
            for event in events
        ]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)
    return len(futures)


# A bounded run (one that stops when idle) that has no partition after this long gives up with
# an error instead of waiting forever: a topic that does not exist, a stuck group.
JOIN_TIMEOUT_S = 120.0
# kafka-python 3.0 now and then never completes the rejoin that follows a first, empty
# assignment (the group's metadata was not there yet): the member sits without partitions and
# stops heartbeating. Any run, bounded or not, whose consumer has had none this long after
# connecting starts afresh: a live service would otherwise sit idle until restarted. Each
# rejoin in a row doubles the wait (up to REJOIN_MAX_S), so a member that rightly has nothing
# (a group with more members than partitions) does not rebalance its group every 20 s.
REJOIN_AFTER_S = 20.0
REJOIN_MAX_S = 320.0


def consume(
    connect: Callable[[], KafkaConsumer],
    step: Callable[[KafkaConsumer], int],
    *,
    name: str,
    stop: threading.Event,
    stop_after_idle_s: float | None = None,
    join_timeout_s: float = JOIN_TIMEOUT_S,
    rejoin_after_s: float = REJOIN_AFTER_S,
) -> None:
    """The consumers' loop: `step` polls, handles and commits, and says how much it did.

    Runs until `stop` is set, or, with `stop_after_idle_s`, until nothing was done for that long
    once partitions are assigned. Any failure closes the consumer (its uncommitted records are
    fetched again by the next one) and reconnects with a backoff up to 10 s, so a consumer lives
    through broker, database and search restarts. A bounded run raises TimeoutError when no
    partition came within `join_timeout_s`; any run reconnects when its consumer had none
    `rejoin_after_s` after connecting (see REJOIN_AFTER_S)."""
    consumer: KafkaConsumer | None = None
    connected_at = 0.0
    assigned = False  # has this connection's consumer had a partition yet
    rejoin_wait = rejoin_after_s
    backoff = 0.5
    last_activity: float | None = None
    started = time.monotonic()
    try:
        while not stop.is_set():
            try:
                if consumer is None:
                    consumer = connect()
                    connected_at = time.monotonic()
                    assigned = False
                done = step(consumer)
                backoff = 0.5
                now = time.monotonic()
                if not assigned and consumer.assignment():
                    assigned, rejoin_wait = True, rejoin_after_s
                if done or (last_activity is None and assigned):
                    last_activity = now
            except Exception as exc:  # keep consuming through every dependency's restart
                log.warning("%s: %s; retrying in %.1fs", name, exc, backoff)
                if consumer is not None:
                    consumer.close()
                    consumer = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue  # a failing dependency is not idleness: the work is still there
            if not assigned and now - connected_at > rejoin_wait:
                log.warning(
                    "%s: no partition %.0fs after joining; joining again", name, now - connected_at
                )
                consumer.close()
                consumer = None
                rejoin_wait = min(rejoin_wait * 2, REJOIN_MAX_S)
            if stop_after_idle_s is None:
                continue
            if last_activity is not None and now - last_activity >= stop_after_idle_s:
                break
            if last_activity is None and now - started > join_timeout_s:
                raise TimeoutError(f"{name}: no partition assigned in {join_timeout_s:.0f}s")
    finally:
        if consumer is not None:
            consumer.close()
