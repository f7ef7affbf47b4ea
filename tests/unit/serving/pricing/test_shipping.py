"""The shipping rate table: bands by weight, the price per started kilogram above the heaviest
band, free shipping over a threshold, the rest-of-world entry, and words that explain it."""

from __future__ import annotations

import pytest

from serving.pricing.shipping import (
    NoShippingRate,
    ShippingRule,
    parcel_weight_g,
    quote_shipping,
    unit_weight_g,
)
from shoplake.config import ShippingBand, ShippingRate

RATES = {
    "NL": ShippingRate(
        bands=[ShippingBand(up_to_g=2_000, cents=495), ShippingBand(up_to_g=10_000, cents=695)],
        per_extra_kg_cents=50,
        free_over_cents=5_000,
    ),
    "*": ShippingRate(bands=[ShippingBand(up_to_g=1_000, cents=2_000)], per_extra_kg_cents=300),
}


def quote(country: str, weight_g: int, goods_cents: int = 1_000) -> tuple[int, ShippingRule, str]:
    found = quote_shipping(
        RATES, country=country, weight_g=weight_g, goods_cents=goods_cents, currency="EUR"
    )
    return found.amount_cents, found.rule, found.zone


@pytest.mark.parametrize(
    ("weight_g", "cents"),
    [
        (1, 495),
        (2_000, 495),
        (2_001, 695),
        (10_000, 695),
        (10_001, 745),
        (11_000, 745),
        (11_001, 795),
        (25_500, 1_495),
    ],
)
def test_a_parcel_costs_its_band_and_each_started_kilogram_above_the_heaviest(
    weight_g: int, cents: int
) -> None:
    amount, rule, zone = quote("NL", weight_g)
    assert amount == cents and zone == "NL"
    assert rule is (ShippingRule.BAND if weight_g <= 10_000 else ShippingRule.OVER_HEAVIEST_BAND)


def test_goods_worth_the_threshold_ship_free_and_just_below_they_pay() -> None:
    assert quote("NL", 500, goods_cents=5_000)[:2] == (0, ShippingRule.FREE_OVER)
    assert quote("NL", 500, goods_cents=4_999)[:2] == (495, ShippingRule.BAND)


def test_other_countries_use_the_rest_of_the_world_and_without_it_there_is_no_rate() -> None:
    assert quote("JP", 1_500) == (2_300, ShippingRule.OVER_HEAVIEST_BAND, "*")
    with pytest.raises(NoShippingRate):
        quote_shipping({"NL": RATES["NL"]}, country="JP", weight_g=1, goods_cents=1, currency="EUR")


def test_the_quote_says_why_in_integers() -> None:
    found = quote_shipping(RATES, country="JP", weight_g=2_345, goods_cents=0, currency="EUR")
    assert found.description == (
        "2.345 kg to JP (rest of the world): 20.00 EUR up to 1.000 kg plus 2 started kg at 3.00 EUR"
    )
    free = quote_shipping(RATES, country="NL", weight_g=1, goods_cents=6_050, currency="EUR")
    assert free.description == "free to NL: goods of 60.50 EUR reach the 50.00 EUR threshold"


def test_a_products_weight_attribute_counts_when_it_is_a_sensible_whole_number() -> None:
    assert unit_weight_g({"weight_g": 300}, 500) == 300
    for odd in (0, -5, 2.5, "300", True, None, 10**9):
        assert unit_weight_g({"weight_g": odd}, 500) == 500
    assert parcel_weight_g([({"weight_g": 300}, 2), ({}, 3)], 500) == 2_100


def test_the_default_table_rejects_bands_out_of_order() -> None:
    with pytest.raises(ValueError, match="ascending"):
        ShippingRate(
            bands=[ShippingBand(up_to_g=2_000, cents=1), ShippingBand(up_to_g=1_000, cents=2)]
        )
