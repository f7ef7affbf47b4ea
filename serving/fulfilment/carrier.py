"""The carrier contract fulfilment depends on; the sandbox carrier lives beside it.

A carrier registers a parcel (a tracking number and the URL shoppers follow it at), takes it
over from the warehouse, and reports scans, numbered from 1 in the order it made them. Every
call is idempotent: registering a shipment again answers the same tracking number, handing a
parcel over twice changes nothing, and scans are always the whole list so far (the caller
applies the ones it has not seen). Tracking is polled (`serving.fulfilment.service.track`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from serving.fulfilment.domain import Parcel, Scan


@dataclass(frozen=True)
class ParcelRequest:
    shipment_id: str
    order_id: str
    warehouse_id: str
    ship_to: dict[str, Any]
    parcel: Parcel


@dataclass(frozen=True)
class Registration:
    carrier: str
    tracking_number: str
    tracking_url: str


class CarrierError(Exception):
    """The carrier could not be reached or refused the call; nothing was changed here."""


class Carrier(Protocol):
    name: str

    def register(self, request: ParcelRequest) -> Registration:
        """A tracking number for the shipment (the same one when asked again)."""
        ...

    def hand_over(self, tracking_number: str) -> None:
        """The parcel left the warehouse with the carrier."""
        ...

    def scans(self, tracking_number: str) -> list[Scan]:
        """Every scan of the parcel so far, oldest first, numbered from 1."""
        ...
