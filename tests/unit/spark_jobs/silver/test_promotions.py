"""Promotion events land in silver as one row per change, with the state after it."""

from __future__ import annotations

from pyspark.sql import SparkSession

from shoplake.events.pricing import PromotionCreated, PromotionDeleted, PromotionUpdated
from spark_jobs.silver import promotions
from tests.support.lake import at, bronze, event

STATE = {
    "promotion_id": "p-1",
    "name": "Running week: 15% off",
    "kind": "percentage",
    "value": 1500,
    "scope": "category",
    "scope_values": ["shoes/running"],
    "starts_at": at(60),
    "ends_at": at(60 * 24 * 7),
}


def test_each_change_is_a_row_with_its_state(spark: SparkSession) -> None:
    created = PromotionCreated.model_validate(STATE)
    extended = PromotionUpdated.model_validate(
        {**STATE, "ends_at": at(60 * 24 * 10), "changed": ["ends_at"]}
    )
    rows = bronze(
        spark,
        [
            event(created, "e1", 0),
            event(extended, "e2", 5),
            event(PromotionDeleted(promotion_id="p-1"), "e3", 9),
            event(created, "e1", 0),  # delivered twice
        ],
    )
    found = {r.event_id: r for r in promotions.transform(rows).collect()}
    assert sorted(found) == ["e1", "e2", "e3"]
    assert [found[e].action for e in ("e1", "e2", "e3")] == ["CREATED", "UPDATED", "DELETED"]
    assert found["e1"].scope_values == ["shoes/running"] and found["e1"].value == 1500
    assert found["e2"].ends_at == at(60 * 24 * 10).replace(tzinfo=None)
    assert found["e2"].changed == ["ends_at"] and found["e3"].name is None
