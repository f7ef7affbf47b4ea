"""What search facets on, declared once here: the index mapping, the query and the API use it."""

from __future__ import annotations

from dataclasses import dataclass

# The product attributes merchandising facets on: each becomes a keyword field `facets.<name>`,
# an `attr.<name>` filter and a facet in every answer. Changing the list changes the mapping
# (`shoplake search reindex` builds the new one). The demo catalog uses exactly these
# (tests/unit/demo/test_catalog.py).
FACETABLE_ATTRIBUTES: tuple[str, ...] = (
    "capacity",
    "color",
    "connectivity",
    "gps",
    "material",
    "power",
    "season",
    "size",
    "volume",
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
