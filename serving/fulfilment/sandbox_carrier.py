"""The sandbox carrier: tracking numbers and a scripted journey for every parcel, no network.

Parcels live in a SQLite file under the state dir (`sandbox-carrier/parcels.sqlite3`), so the
API, the tracking poller and the demo, in as many processes as they like, see the same
parcels. Once handed over, a parcel is scanned every `sandbox_carrier_scan_interval_s`:
in transit (at the sorting hub), out for delivery, delivered (in the recipient's city). A
recipient whose address line 2 contains `sandbox:failed-attempt` is not home the first time:
out for delivery, failed attempt, out for delivery again, delivered — the address plays the
part the test tokens play for the sandbox payment gateway. `fast_forward` makes every scan of
a parcel due now (what a carrier's sandbox "simulate" button does).

Tracking numbers follow the UPU S10 layout (2 letters, 8 serial digits, a check digit, 2
letters): e.g. `SB000000164XX`; never a digit run long enough to look like a card.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from serving.fulfilment.carrier import ParcelRequest, Registration
from serving.fulfilment.domain import Scan, ShipmentStatus

FAILED_ATTEMPT_MARK = "sandbox:failed-attempt"
S = ShipmentStatus
_NORMAL = (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED)
_NOT_HOME = (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.OUT_FOR_DELIVERY, S.DELIVERED)
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)

_SCHEMA = """
create table if not exists parcels (
    serial integer primary key autoincrement,
    shipment_id text not null unique,
    tracking_number text unique,
    scenario text not null,
    hub text not null,
    city text not null,
    registered_at real not null,
    handed_over_at real
)
"""


def s10_check_digit(serial: int) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    digits = [int(d) for d in f"{serial:08d}"]
    check = 11 - sum(d * w for d, w in zip(digits, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def tracking_number_for(serial: int) -> str:
    return f"SB{serial:08d}{s10_check_digit(serial)}XX"


class SandboxCarrier:
    name = "sandbox"

    def __init__(self, state_dir: Path, *, scan_interval_s: float, tracking_url: str) -> None:
        self.path = state_dir / "sandbox-carrier" / "parcels.sqlite3"
        self.scan_interval_s = scan_interval_s
        self.tracking_url = tracking_url
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("pragma journal_mode=wal")
            db.execute("begin immediate")
            yield db
            db.execute("commit")
        except BaseException:
            if db.in_transaction:
                db.execute("rollback")
            raise
        finally:
            db.close()

    def _registration(self, tracking_number: str) -> Registration:
        url = self.tracking_url.format(tracking_number=tracking_number)
        return Registration(self.name, tracking_number, url)

    def register(self, request: ParcelRequest) -> Registration:
        scenario = (
            "not_home"
            if FAILED_ATTEMPT_MARK in str(request.ship_to.get("line2") or "")
            else "normal"
        )
        with self._db() as db:
            known = db.execute(
                "select tracking_number from parcels where shipment_id = ?",
                (request.shipment_id,),
            ).fetchone()
            if known is not None:
                return self._registration(known[0])
            cursor = db.execute(
                "insert into parcels (shipment_id, scenario, hub, city, registered_at) "
                "values (?, ?, ?, ?, ?)",
                (
                    request.shipment_id,
                    scenario,
                    f"sorting hub near {request.warehouse_id}",
                    str(request.ship_to.get("city") or "destination"),
                    time.time(),
                ),
            )
            serial = int(cursor.lastrowid or 0) % 100_000_000
            tracking_number = tracking_number_for(serial)
            db.execute(
                "update parcels set tracking_number = ? where shipment_id = ?",
                (tracking_number, request.shipment_id),
            )
        return self._registration(tracking_number)

    def hand_over(self, tracking_number: str) -> None:
        with self._db() as db:
            db.execute(
                "update parcels set handed_over_at = coalesce(handed_over_at, ?) "
                "where tracking_number = ?",
                (time.time(), tracking_number),
            )

    def scans(self, tracking_number: str) -> list[Scan]:
        with self._db() as db:
            row = db.execute(
                "select scenario, hub, city, handed_over_at from parcels where tracking_number = ?",
                (tracking_number,),
            ).fetchone()
        if row is None or row[3] is None:
            return []
        scenario, hub, city, handed_over_at = row
        journey = _NOT_HOME if scenario == "not_home" else _NORMAL
        interval = self.scan_interval_s
        elapsed = time.time() - float(handed_over_at)
        due = len(journey) if interval <= 0 else min(len(journey), int(elapsed // interval))
        return [
            Scan(
                seq=n,
                status=status,
                location=hub if status is S.IN_TRANSIT else city,
                at=datetime.fromtimestamp(float(handed_over_at) + n * interval, UTC),
            )
            for n, status in enumerate(journey[:due], start=1)
        ]

    def fast_forward(self, tracking_number: str) -> None:
        """Make every scan of the parcel due now (it must have been handed over)."""
        journey = len(_NOT_HOME)
        with self._db() as db:
            db.execute(
                "update parcels set handed_over_at = ? "
                "where tracking_number = ? and handed_over_at is not null",
                (time.time() - (journey + 1) * self.scan_interval_s, tracking_number),
            )
