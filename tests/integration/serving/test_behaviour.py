"""Behaviour events over HTTP: validated batches that arrive on Kafka with the token's user."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from serving.app import create_app
from shoplake.config import Settings
from shoplake.events import CloudEvent, parse_data
from shoplake.events.behaviour import ProductViewed, RecommendationClicked, SearchPerformed
from tests.support.callers import Caller

TOPIC = "shop.behaviour.v1"


class _Offsets:
    """The end of every partition of the topic, recorded before the test posts."""

    def __init__(self, settings: Settings) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        partitions = self.consumer.partitions_for_topic(TOPIC) or set()
        known = [TopicPartition(TOPIC, p) for p in partitions]
        self.start: dict[TopicPartition, int] = self.consumer.end_offsets(known) if known else {}

    def events_of_session(self, session_id: str, expected: int) -> list[CloudEvent]:
        """The events keyed by `session_id` written after the recorded end (up to 30 s)."""
        found: list[CloudEvent] = []
        deadline = time.monotonic() + 30
        assigned: set[TopicPartition] = set()
        while len(found) < expected and time.monotonic() < deadline:
            self.consumer.topics()  # refresh metadata: the topic may have just been created
            partitions = {
                TopicPartition(TOPIC, p) for p in self.consumer.partitions_for_topic(TOPIC) or ()
            }
            if partitions != assigned:
                self.consumer.assign(list(partitions))
                for tp in partitions - assigned:
                    self.consumer.seek(tp, self.start.get(tp, 0))
                assigned = partitions
            for records in self.consumer.poll(timeout_ms=500).values():
                found.extend(
                    CloudEvent.from_json(r.value) for r in records if r.key == session_id.encode()
                )
        return found

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def offsets(api_settings: Settings) -> Iterator[_Offsets]:
    recorded = _Offsets(api_settings)
    yield recorded
    recorded.close()


def _session() -> str:
    return f"s-{uuid.uuid4().hex}"


def _batch(session_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "ProductViewed", "session_id": session_id, "sku": "T-1", "referrer": "/home"},
        {
            "type": "SearchPerformed",
            "session_id": session_id,
            "query": "running shoes",
            "filters": {"brand": "Acme"},
            "result_count": 0,
            "zero_results": True,
            "channel": "ios",
        },
        {
            "type": "RecommendationClicked",
            "session_id": session_id,
            "sku": "T-2",
            "slot": 3,
            "placement": "pdp-similar",
            "model_version": "7",
        },
    ]


def test_an_anonymous_batch_is_accepted_and_arrives_on_kafka(
    client: TestClient, offsets: _Offsets
) -> None:
    session_id = _session()
    response = client.post("/v1/events/behaviour", json={"events": _batch(session_id)})

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 3, "dropped": 0}
    events = offsets.events_of_session(session_id, expected=3)
    assert sorted(e.type for e in events) == [
        "shop.behaviour.ProductViewed.v1",
        "shop.behaviour.RecommendationClicked.v1",
        "shop.behaviour.SearchPerformed.v1",
    ]
    assert all(e.subject == session_id and e.source == "/serving/behaviour" for e in events)
    by_type = {type(data): data for data in (parse_data(e) for e in events)}
    viewed = by_type[ProductViewed]
    assert isinstance(viewed, ProductViewed)
    assert (viewed.sku, viewed.referrer, viewed.user_id) == ("T-1", "/home", None)
    search = by_type[SearchPerformed]
    assert isinstance(search, SearchPerformed)
    assert (search.query, search.filters, search.channel) == (
        "running shoes",
        {"brand": "Acme"},
        "ios",
    )
    click = by_type[RecommendationClicked]
    assert isinstance(click, RecommendationClicked) and click.slot == 3


def test_the_user_id_comes_from_the_token_and_never_from_the_body(
    client: TestClient, customer: Caller, offsets: _Offsets
) -> None:
    session_id = _session()
    event = {"type": "ProductViewed", "session_id": session_id, "sku": "T-9"}
    spoofed = client.post(
        "/v1/events/behaviour",
        json={"events": [{**event, "user_id": "someone-else"}]},
        headers=customer.headers,
    )
    assert spoofed.status_code == 422
    assert "user_id" in str(spoofed.json()["error"]["details"])

    response = client.post(
        "/v1/events/behaviour", json={"events": [event]}, headers=customer.headers
    )
    assert response.status_code == 202
    [arrived] = offsets.events_of_session(session_id, expected=1)
    assert arrived.data["user_id"] == customer.user_id


@pytest.mark.parametrize(
    "events",
    [
        [],
        [{"type": "ProductViewed", "session_id": "s", "sku": "A"}] * 101,
        [{"type": "PageScrolled", "session_id": "s"}],
        [{"session_id": "s", "sku": "A"}],
        [{"type": "ProductViewed", "session_id": "", "sku": "A"}],
        [{"type": "ProductViewed", "session_id": "s"}],
        [{"type": "SearchPerformed", "session_id": "s", "query": "q", "zero_results": True}],
        [
            {
                "type": "RecommendationClicked",
                "session_id": "s",
                "sku": "A",
                "slot": -1,
                "placement": "x",
            }
        ],
    ],
)
def test_invalid_batches_are_refused_whole_with_422(
    client: TestClient, events: list[dict[str, Any]]
) -> None:
    response = client.post("/v1/events/behaviour", json={"events": events})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_batch_of_one_hundred_is_accepted(client: TestClient) -> None:
    events = [
        {"type": "ProductViewed", "session_id": _session(), "sku": f"T-{n}"} for n in range(100)
    ]
    response = client.post("/v1/events/behaviour", json={"events": events})
    assert response.status_code == 202 and response.json() == {"accepted": 100, "dropped": 0}


def test_an_invalid_token_is_401_rather_than_anonymous(client: TestClient) -> None:
    response = client.post(
        "/v1/events/behaviour",
        json={"events": _batch(_session())},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401


class _FullQueue:
    """A publisher whose queue takes `room` more events, then refuses (as when Kafka is away)."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.published: list[CloudEvent] = []

    def publish(self, event: CloudEvent) -> bool:
        if len(self.published) >= self.room:
            return False
        self.published.append(event)
        return True


def test_events_the_publisher_cannot_queue_are_counted_as_dropped(client: TestClient) -> None:
    app: Any = client.app
    real = app.state.behaviour
    app.state.behaviour = _FullQueue(room=1)
    try:
        response = client.post("/v1/events/behaviour", json={"events": _batch(_session())})
    finally:
        app.state.behaviour = real
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "dropped": 2}


def test_behaviour_is_rate_limited(settings: Settings) -> None:
    tight = settings.model_copy(update={"rate_limit_behaviour_per_minute": 2})
    address = (f"10.8.{uuid.uuid4().int % 250}.9", 5000)
    with TestClient(create_app(tight), client=address) as client:
        statuses = [
            client.post("/v1/events/behaviour", json={"events": _batch(_session())}).status_code
            for _ in range(4)
        ]
    assert statuses == [202, 202, 429, 429]
