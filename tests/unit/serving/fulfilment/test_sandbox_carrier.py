"""The sandbox carrier: S10 tracking numbers, the same one for the same shipment, scans due by
the clock of the parcel's hand-over, and a failed first attempt for `sandbox:failed-attempt`."""

from __future__ import annotations

from pathlib import Path

from serving.fulfilment.carrier import ParcelRequest
from serving.fulfilment.domain import Parcel, ShipmentStatus
from serving.fulfilment.sandbox_carrier import (
    FAILED_ATTEMPT_MARK,
    SandboxCarrier,
    s10_check_digit,
    tracking_number_for,
)

S = ShipmentStatus
PARCEL = Parcel(500, 100, 100, 100)


def _request(shipment_id: str, line2: str = "") -> ParcelRequest:
    address = {"full_name": "Ada", "line1": "1 Row", "line2": line2, "city": "London"}
    return ParcelRequest(shipment_id, "o-1", "WH-1", address, PARCEL)


def test_tracking_numbers_carry_the_s10_check_digit() -> None:
    assert s10_check_digit(47312482) == 9  # the UPU's own example, RR 47312482 9 GB
    assert tracking_number_for(47312482) == "SB473124829XX"
    assert len({tracking_number_for(n) for n in range(1, 200)}) == 199


def test_registering_again_answers_the_same_number_and_nothing_is_scanned_before_handover(
    tmp_path: Path,
) -> None:
    carrier = SandboxCarrier(
        tmp_path, scan_interval_s=60, tracking_url="https://t/{tracking_number}"
    )
    first = carrier.register(_request("s-1"))
    assert carrier.register(_request("s-1")) == first
    assert carrier.register(_request("s-2")).tracking_number != first.tracking_number
    assert first.tracking_url == f"https://t/{first.tracking_number}"
    assert carrier.scans(first.tracking_number) == []
    carrier.hand_over(first.tracking_number)
    assert carrier.scans(first.tracking_number) == []  # the first scan is a minute away
    carrier.fast_forward(first.tracking_number)
    assert [s.status for s in carrier.scans(first.tracking_number)] == [
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
    ]
    # Another process (a new adapter on the same state dir) sees the same parcels.
    again = SandboxCarrier(tmp_path, scan_interval_s=60, tracking_url="https://t/{tracking_number}")
    assert [s.seq for s in again.scans(first.tracking_number)] == [1, 2, 3]


def test_a_recipient_not_home_gets_a_failed_attempt_then_the_parcel(tmp_path: Path) -> None:
    carrier = SandboxCarrier(tmp_path, scan_interval_s=0, tracking_url="{tracking_number}")
    number = carrier.register(_request("s-1", line2=f"back door, {FAILED_ATTEMPT_MARK}"))
    carrier.hand_over(number.tracking_number)
    scans = carrier.scans(number.tracking_number)
    assert [s.status for s in scans] == [
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.FAILED_ATTEMPT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
    ]
    assert scans[0].location.startswith("sorting hub") and scans[-1].location == "London"
    assert carrier.scans("SB000000000XX") == []  # a number it never issued
