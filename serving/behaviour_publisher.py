"""Behaviour events straight to Kafka without ever blocking a request.

Requests put events on a bounded in-memory queue; one background thread owns the Kafka producer,
which batches them. When Kafka is away the queue fills and further events are dropped and
counted: behaviour analytics tolerate a gap, a shopper's page must not wait for it.
"""

from __future__ import annotations

import logging
import queue
import threading

from kafka import KafkaProducer
from kafka.errors import KafkaError
from prometheus_client import Counter

from shoplake.config import Settings
from shoplake.events import CloudEvent, topic_for

log = logging.getLogger(__name__)

PUBLISHED = Counter("shoplake_behaviour_events_published_total", "behaviour events sent to Kafka")
DROPPED = Counter("shoplake_behaviour_events_dropped_total", "behaviour events dropped", ["reason"])


class BehaviourPublisher:
    def __init__(self, settings: Settings, capacity: int = 10_000) -> None:
        self.settings = settings
        self._queue: queue.Queue[CloudEvent | None] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._run, name="behaviour-publisher", daemon=True)
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def publish(self, event: CloudEvent) -> bool:
        """Queue the event; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            DROPPED.labels("queue_full").inc()
            return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _producer(self) -> KafkaProducer | None:
        try:
            producer = KafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                acks=1,
                linger_ms=20,
                batch_size=64 * 1024,
                compression_type="gzip",
                max_block_ms=2_000,
                client_id="shoplake-behaviour",
            )
        except KafkaError as exc:
            log.warning("behaviour publisher: Kafka unavailable (%s)", exc)
            return None
        self.connected = True
        return producer

    def _run(self) -> None:
        producer: KafkaProducer | None = None
        while True:
            event = self._queue.get()
            if event is None:
                break
            if producer is None:
                producer = self._producer()
            if producer is None:
                DROPPED.labels("kafka_unavailable").inc()
                continue
            try:
                producer.send(
                    topic_for(event.domain), key=event.subject.encode(), value=event.to_json()
                ).add_callback(lambda _meta: PUBLISHED.inc()).add_errback(
                    lambda _exc: DROPPED.labels("send_failed").inc()
                )
            except KafkaError:
                DROPPED.labels("send_failed").inc()
        if producer is not None:
            producer.flush(timeout=5)
            producer.close(timeout=5)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the queue is empty (tests and shutdown)."""
        deadline = threading.Event()
        waited = 0.0
        while not self._queue.empty() and waited < timeout:
            deadline.wait(0.05)
            waited += 0.05
