"""The history simulator: the same seed gives the same history, a longer one begins with the
same days, the platform's rules hold in it, and the structure it plants is there to find."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from demo.history.calendar import holidays
from demo.history.simulate import Simulation
from demo.history.world import SEGMENTS, HistoryParams, build_world
from shoplake.config import REPO_ROOT
from shoplake.events import REGISTRY
from tests.support.history import END, MemorySink, simulate


@pytest.fixture(scope="module")
def history() -> tuple[Simulation, MemorySink]:
    return simulate(days=28, users=400, products=120, seed=5)


def test_a_seed_gives_the_same_history_and_another_seed_another() -> None:
    _, first = simulate(days=3, users=60, products=30, seed=9)
    _, again = simulate(days=3, users=60, products=30, seed=9)
    _, other = simulate(days=3, users=60, products=30, seed=10)
    assert first.digest() == again.digest()
    assert first.digest() != other.digest()


def test_a_longer_history_begins_with_the_same_days_and_extending_writes_only_the_new_ones() -> (
    None
):
    _, short = simulate(days=4, users=60, products=30, seed=2)
    longer_end = END + timedelta(days=1)
    _, longer = simulate(days=4, users=60, products=30, seed=2, extend_to=longer_end)
    written = {e.id for e in short.events}
    assert [e for e in longer.events if e.time < END - timedelta(minutes=5)] == [
        e for e in short.events if e.time < END - timedelta(minutes=5)
    ]
    _, extension = simulate(
        days=4, users=60, products=30, seed=2, extend_to=longer_end, emit_from=END
    )
    new = {e.id for e in extension.events}
    assert new and not new & written
    assert written | new == {e.id for e in longer.events}


def test_every_event_is_of_the_contract_and_in_the_past(
    history: tuple[Simulation, MemorySink],
) -> None:
    simulation, sink = history
    assert {e.type for e in sink.events} <= set(REGISTRY)
    assert max(e.time for e in sink.events) <= simulation.end + timedelta(seconds=5)
    # Behaviour goes straight to Kafka; every commerce fact has its outbox row.
    through_outbox = {e.id for e in sink.outbox}
    straight = {e.type.split(".")[1] for e in sink.events if e.id not in through_outbox}
    assert straight == {"behaviour"}


def test_orders_add_up_and_follow_the_state_machine(history: tuple[Simulation, MemorySink]) -> None:
    simulation, sink = history
    assert simulation.orders
    for state in simulation.orders.values():
        lines = sum(line["total_cents"] for line in state.lines)
        assert state.subtotal_cents == sum(
            line["quantity"] * line["unit_price_cents"] for line in state.lines
        )
        assert state.aggregate.total_cents == state.subtotal_cents - state.discount_cents
        assert state.aggregate.total_cents <= lines
        if state.payment and state.payment.status in ("captured", "refunded"):
            assert state.payment.amount_cents == state.aggregate.total_cents
    # Every status change the sink saw was a legal one (the order aggregate would refuse others)
    # and a refund always follows a return or a capture.
    refunded = {e.data["order_id"] for e in sink.of("PaymentRefunded")}
    captured = {e.data["order_id"] for e in sink.of("PaymentCaptured")}
    assert refunded <= captured


def test_stock_never_goes_negative_and_sold_out_products_lose_demand() -> None:
    # Three months of a small catalog: long enough for deliveries to matter.
    simulation, sink = simulate(days=90, users=300, products=60, seed=5)
    assert all(row["on_hand_after"] >= row["reserved_after"] >= 0 for row in sink.movements)
    assert sink.of("OutOfStock") and sink.of("BackInStock")
    assert simulation.counts.lost_demand, "some demand met an empty shelf"
    # Stockouts concentrate on the products whose supplier was late.
    out = simulation.counts.stockout_days
    fragile = [p.sku for p in simulation.world.products if p.fragile_from]
    others = [p.sku for p in simulation.world.products if not p.fragile_from]
    assert sum(out[s] for s in fragile) / len(fragile) > sum(out[s] for s in others) / len(others)


def test_shoppers_look_at_what_their_segment_likes(history: tuple[Simulation, MemorySink]) -> None:
    simulation, sink = history
    segment_of = {s.user_id: s.segment for s in simulation.world.shoppers}
    seen: dict[int, Counter[tuple[str, ...]]] = defaultdict(Counter)
    for event in sink.of("ProductViewed"):
        user = event.data["user_id"]
        if user is not None:
            product = simulation.world.by_sku[event.data["sku"]]
            seen[segment_of[user]][product.category] += 1
    for index, segment in enumerate(SEGMENTS):
        if not seen[index] or len(segment.categories) > 5:
            continue  # bargain hunters like everything
        liked = sum(n for c, n in seen[index].items() if c in segment.categories)
        assert liked / sum(seen[index].values()) > 0.6, segment.name


def test_complements_are_bought_together(history: tuple[Simulation, MemorySink]) -> None:
    simulation, _ = history
    pairs = {(p.sku, p.complement) for p in simulation.world.products if p.complement}
    together = with_anchor = 0
    for state in simulation.orders.values():
        skus = {line["sku"] for line in state.lines}
        for anchor, partner in pairs:
            if anchor in skus:
                with_anchor += 1
                together += partner in skus
    assert with_anchor and together / with_anchor > 0.2


def test_weekends_are_busier_than_midweek(history: tuple[Simulation, MemorySink]) -> None:
    _, sink = history
    by_weekday = Counter(e.time.weekday() for e in sink.of("ProductViewed"))
    assert by_weekday[5] + by_weekday[6] > by_weekday[1] + by_weekday[2]


def test_a_promotion_lifts_its_products(history: tuple[Simulation, MemorySink]) -> None:
    simulation, sink = history
    promotion = next(p for p in simulation.world.promotions if p.name.startswith("Running week"))
    covered = {p.sku for p in simulation.world.products if promotion.covers(p)}
    span = promotion.ends_at - promotion.starts_at
    during = sum(
        1
        for e in sink.of("CartItemAdded")
        if e.data["sku"] in covered and promotion.starts_at <= e.time < promotion.ends_at
    )
    before = sum(
        1
        for e in sink.of("CartItemAdded")
        if e.data["sku"] in covered and promotion.starts_at - span <= e.time < promotion.starts_at
    )
    assert during > before * 1.2


def test_the_ground_truth_writes_down_what_was_planted() -> None:
    world = build_world(HistoryParams(days=30, users=50, products=40, seed=4, end=END))
    truth = world.ground_truth()
    assert {s["name"] for s in truth["segments"]} == {s.name for s in SEGMENTS}
    assert len(truth["user_segments"]) == 50
    assert truth["complements"] and truth["promotions"]
    assert set(truth["price_bands"].values()) <= {"budget", "mid", "premium"}


def test_the_holiday_calendar_is_the_marts_seed() -> None:
    seed = (REPO_ROOT / "dbt" / "seeds" / "shopping_holidays.csv").read_text().splitlines()[1:]
    planted = sorted(
        f"{day.isoformat()},{name}"
        for year in range(2024, 2030)
        for day, (name, _) in holidays(year).items()
    )
    assert sorted(seed) == planted
