"""What search facets on: declared once here, from the demo catalog's facetable attributes."""

from __future__ import annotations

from dataclasses import dataclass

from shoplake.demo_catalog import CATEGORIES

# The attribute names the catalog marks facetable: each becomes a keyword field
# `facets.<name>`, a `attr.<name>` filter and a facet in every answer.
FACETABLE_ATTRIBUTES: tuple[str, ...] = tuple(
    sorted({name for *_, attributes in CATEGORIES.values() for name in attributes})
)


@dataclass(frozen=True)
class PriceRange:
    key: str
    from_cents: int | None
    to_cents: int | None  # exclusive


PRICE_RANGES: tuple[PriceRange, ...] = (
    PriceRange("under-25", None, 2_500),
    PriceRange("25-50", 2_500, 5_000),
    PriceRange("50-100", 5_000, 10_000),
    PriceRange("100-200", 10_000, 20_000),
    PriceRange("200-plus", 20_000, None),
)
