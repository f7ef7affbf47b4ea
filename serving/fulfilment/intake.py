"""What the fulfilment consumer hands order events to: one unit of work per event.

The consumer loop is streaming's (`streaming.fulfilment_consumer`); it knows nothing of serving
and calls an object with these two methods, which `shoplake stream fulfilment` (the CLI root)
and the demo build from this class.
"""

from __future__ import annotations

import redis
from sqlalchemy import Engine

from serving.fulfilment import service
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings


class ShipmentIntake:
    def __init__(self, engine: Engine, settings: Settings, client: redis.Redis | None = None):
        self.engine = engine
        self.settings = settings
        self.client = client

    def _unit(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, redis_client=self.client, settings=self.settings)

    def order_confirmed(self, event_id: str, order_id: str) -> int:
        """Shipments for the order; the number created (0 for a redelivered event)."""
        return len(service.create_for_order(self._unit(), event_id, order_id))

    def order_closed(self, event_id: str, order_id: str, reason: str) -> int:
        """Cancel what had not left the warehouse; the number of shipments cancelled."""
        return service.close_for_order(self._unit(), event_id, order_id, reason)
