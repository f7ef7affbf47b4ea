"""Shipping cost: a rate table by destination country and parcel weight, in integer minor units.

Pure, like the promotion engine. A destination uses its country's entry of the table, or the
`*` entry for every other country. The weight is the sum of the units' weights (a product's
`attributes.weight_g`, else the default weight per unit). The price is that of the lightest
band the weight fits in; above the heaviest band, each started kilogram over it adds
`per_extra_kg_cents`; goods worth `free_over_cents` or more (after discounts) ship free. Every
quote says which rule priced it, in words a shopper can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shoplake.config import ShippingRate

REST_OF_WORLD = "*"
MAX_UNIT_WEIGHT_G = 1_000_000


class ShippingRule(StrEnum):
    BAND = "band"
    OVER_HEAVIEST_BAND = "over_heaviest_band"
    FREE_OVER = "free_over"


@dataclass(frozen=True)
class ShippingQuote:
    country: str
    zone: str  # the table entry used: the country itself, or "*"
    weight_g: int
    amount_cents: int
    rule: ShippingRule
    description: str


class NoShippingRate(LookupError):
    """The table has no entry for the country and no `*` entry."""


def unit_weight_g(attributes: Mapping[str, Any], default_g: int) -> int:
    """A product's `weight_g` attribute when it is a sensible whole number, else the default."""
    weight = attributes.get("weight_g")
    if isinstance(weight, int) and not isinstance(weight, bool) and 0 < weight <= MAX_UNIT_WEIGHT_G:
        return weight
    return default_g


def parcel_weight_g(units: Iterable[tuple[Mapping[str, Any], int]], default_g: int) -> int:
    """The weight of (attributes, quantity) lines."""
    return sum(unit_weight_g(attributes, default_g) * quantity for attributes, quantity in units)


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"


def _kg(grams: int) -> str:
    return f"{grams // 1000}.{grams % 1000:03d} kg"


def quote_shipping(
    rates: Mapping[str, ShippingRate],
    *,
    country: str,
    weight_g: int,
    goods_cents: int,
    currency: str,
) -> ShippingQuote:
    """The cost of sending `weight_g` grams of goods worth `goods_cents` to `country`."""
    zone = country if country in rates else REST_OF_WORLD
    rate = rates.get(zone)
    if rate is None:
        raise NoShippingRate(country)
    where = country if zone == country else f"{country} (rest of the world)"
    if rate.free_over_cents is not None and goods_cents >= rate.free_over_cents:
        return ShippingQuote(
            country,
            zone,
            weight_g,
            0,
            ShippingRule.FREE_OVER,
            f"free to {where}: goods of {_money(goods_cents, currency)} reach the "
            f"{_money(rate.free_over_cents, currency)} threshold",
        )
    for band in rate.bands:
        if weight_g <= band.up_to_g:
            return ShippingQuote(
                country,
                zone,
                weight_g,
                band.cents,
                ShippingRule.BAND,
                f"{_kg(weight_g)} to {where}: parcels up to {_kg(band.up_to_g)} cost "
                f"{_money(band.cents, currency)}",
            )
    heaviest = rate.bands[-1]
    started_kg = -(-(weight_g - heaviest.up_to_g) // 1000)  # ceiling, in integers
    amount = heaviest.cents + started_kg * rate.per_extra_kg_cents
    return ShippingQuote(
        country,
        zone,
        weight_g,
        amount,
        ShippingRule.OVER_HEAVIEST_BAND,
        f"{_kg(weight_g)} to {where}: {_money(heaviest.cents, currency)} up to "
        f"{_kg(heaviest.up_to_g)} plus {started_kg} started kg at "
        f"{_money(rate.per_extra_kg_cents, currency)}",
    )
