"""The purchase order's rules: its status machine and what it may receive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from serving.inbound import domain
from serving.inbound.domain import InboundError, InboundErrorCode, PoLine, PoStatus, PurchaseOrder

NOW = datetime(2026, 11, 5, tzinfo=UTC)


def _po(status: PoStatus = PoStatus.SUBMITTED) -> PurchaseOrder:
    return PurchaseOrder(
        id="po-1",
        number=42,
        supplier_id="s-1",
        warehouse_id="WH-1",
        currency="EUR",
        status=status,
        lines=(PoLine("A", 10, 300), PoLine("B", 5, 1000)),
    )


def test_the_reference_and_totals() -> None:
    po = _po()
    assert po.reference == "PO-000042"
    assert (po.total_cost_cents, po.units_remaining) == (8000, 15)


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in PoStatus for a in ("submit", "receive", "close", "acknowledge")],
)
def test_every_action_from_every_status(status: PoStatus, action: str) -> None:
    po = _po(status)
    allowed = {
        "submit": {PoStatus.DRAFT},
        "receive": set(domain.RECEIVABLE),
        "close": set(PoStatus) - {PoStatus.CLOSED},
        "acknowledge": {PoStatus.SUBMITTED, PoStatus.ACKNOWLEDGED},
    }[action]
    calls: dict[str, Callable[[], object]] = {
        "submit": lambda: domain.submit(po, NOW),
        "receive": lambda: domain.receive(po, {"A": 1}),
        "close": lambda: domain.close(po, NOW),
        "acknowledge": lambda: domain.acknowledge(po, None, NOW),
    }
    if status in allowed:
        calls[action]()
    else:
        with pytest.raises(InboundError) as refused:
            calls[action]()
        assert refused.value.code is InboundErrorCode.ILLEGAL_TRANSITION


def test_receipts_count_up_to_what_was_ordered() -> None:
    partial = domain.receive(_po(), {"A": 4})
    assert partial.status is PoStatus.PARTIALLY_RECEIVED
    assert [line.quantity_received for line in partial.lines] == [4, 0]
    with pytest.raises(InboundError) as over:
        domain.receive(partial, {"A": 7})
    assert over.value.code is InboundErrorCode.OVER_RECEIPT
    assert over.value.details == {"A": {"requested": 7, "remaining": 6}}
    with pytest.raises(InboundError) as unknown:
        domain.receive(partial, {"C": 1})
    assert unknown.value.code is InboundErrorCode.UNKNOWN_LINE
    full = domain.receive(partial, {"A": 6, "B": 5})
    assert full.status is PoStatus.RECEIVED and full.units_remaining == 0


def test_closing_counts_the_units_short() -> None:
    closed, short = domain.close(domain.receive(_po(), {"B": 5}), NOW)
    assert (closed.status, short, closed.closed_at) == (PoStatus.CLOSED, 10, NOW)


def test_acknowledging_again_changes_nothing_unless_the_date_moves() -> None:
    acked, changed = domain.acknowledge(_po(), date(2026, 11, 20), NOW)
    assert changed and acked.status is PoStatus.ACKNOWLEDGED
    assert acked.expected_arrival == date(2026, 11, 20)
    assert domain.acknowledge(acked, None, NOW) == (acked, False)
    moved, changed = domain.acknowledge(acked, date(2026, 11, 22), NOW)
    assert changed and moved.expected_arrival == date(2026, 11, 22)


def test_a_sku_twice_in_one_request_is_refused() -> None:
    assert domain.merge_units([("A", 1), ("B", 2)]) == {"A": 1, "B": 2}
    with pytest.raises(InboundError) as twice:
        domain.merge_units([("A", 1), ("A", 2)])
    assert twice.value.code is InboundErrorCode.DUPLICATE_SKU
