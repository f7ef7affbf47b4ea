"""HTTP route of behaviour events: batches from web and mobile clients, straight to Kafka."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from serving.access import Public
from serving.behaviour import service
from serving.behaviour.schemas import BehaviourAccepted, BehaviourBatch, to_event_data
from serving.deps import BehaviourRateLimit, OptionalUser

router = APIRouter(prefix="/v1/events", tags=["behaviour"], dependencies=[Public])

SOURCE = "/serving/behaviour"


@router.post("/behaviour", status_code=status.HTTP_202_ACCEPTED, dependencies=[BehaviourRateLimit])
def collect_behaviour(
    body: BehaviourBatch, user: OptionalUser, request: Request
) -> BehaviourAccepted:
    """Queue the events for Kafka without waiting for it; anonymous callers are welcome.

    Behaviour analytics tolerate a gap, a shopper's page must not wait: when the publisher's
    queue is full, events are dropped and counted in the answer.
    """
    user_id = user.user_id if user is not None else None
    accepted = service.collect(
        request.app.state.behaviour,
        request.app.state.redis,
        request.app.state.settings,
        [to_event_data(item, user_id) for item in body.events],
        SOURCE,
    )
    return BehaviourAccepted(accepted=accepted, dropped=len(body.events) - accepted)
