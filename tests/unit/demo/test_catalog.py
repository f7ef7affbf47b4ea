"""The demo catalog is deterministic and facets on exactly the attributes search declares."""

from __future__ import annotations

from demo.catalog import CATEGORIES, generate
from shoplake.search.facets import FACETABLE_ATTRIBUTES


def test_the_demo_catalog_uses_exactly_the_facetable_attributes() -> None:
    used = {name for *_, attributes in CATEGORIES.values() for name in attributes}
    assert used == set(FACETABLE_ATTRIBUTES)


def test_the_same_seed_generates_the_same_catalog() -> None:
    assert generate(50, seed=1) == generate(50, seed=1)
    assert generate(50, seed=1) != generate(50, seed=2)
