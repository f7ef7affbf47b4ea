"""A deterministic demo catalog: one seed, the same products, for demo, tests and benchmarks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

# category path -> (nouns, brands, price range in cents, facetable attributes)
CATEGORIES: dict[
    tuple[str, ...], tuple[list[str], list[str], tuple[int, int], dict[str, list[str]]]
] = {
    ("shoes", "running"): (
        ["running shoe", "trail runner", "racing flat"],
        ["Stride", "Fleetfoot", "Apex"],
        (4_999, 17_999),
        {"color": ["black", "blue", "red", "white"], "size": ["40", "41", "42", "43", "44"]},
    ),
    ("shoes", "hiking"): (
        ["hiking boot", "approach shoe", "trekking boot"],
        ["Summit", "Apex", "Ridgeline"],
        (7_999, 24_999),
        {"color": ["brown", "grey", "green"], "size": ["40", "41", "42", "43", "44", "45"]},
    ),
    ("apparel", "jackets"): (
        ["rain jacket", "down jacket", "softshell jacket", "windbreaker"],
        ["Northwind", "Summit", "Ridgeline"],
        (5_999, 39_999),
        {"color": ["black", "navy", "orange", "olive"], "size": ["S", "M", "L", "XL"]},
    ),
    ("apparel", "tshirts"): (
        ["t-shirt", "merino tee", "running top"],
        ["Stride", "Northwind", "Basics Co"],
        (1_499, 5_999),
        {"color": ["white", "black", "grey", "blue"], "size": ["S", "M", "L", "XL"]},
    ),
    ("outdoor", "tents"): (
        ["backpacking tent", "family tent", "bivy shelter"],
        ["Basecamp", "Ridgeline"],
        (9_999, 59_999),
        {"capacity": ["1", "2", "3", "4"], "season": ["3-season", "4-season"]},
    ),
    ("outdoor", "backpacks"): (
        ["daypack", "hiking backpack", "travel pack"],
        ["Basecamp", "Summit", "Northwind"],
        (3_999, 21_999),
        {"volume": ["20l", "30l", "45l", "65l"], "color": ["black", "green", "red"]},
    ),
    ("electronics", "headphones"): (
        ["wireless headphones", "earbuds", "studio headphones"],
        ["Sonique", "Bassline", "Clarion"],
        (2_999, 34_999),
        {"color": ["black", "white", "silver"], "connectivity": ["bluetooth", "wired"]},
    ),
    ("electronics", "watches"): (
        ["gps watch", "fitness tracker", "smartwatch"],
        ["Pulse", "Clarion", "Apex"],
        (4_999, 49_999),
        {"color": ["black", "silver", "rose"], "gps": ["yes", "no"]},
    ),
    ("home", "kitchen"): (
        ["coffee grinder", "chef knife", "cast iron pan", "kettle"],
        ["Hearth", "Copperline", "Basics Co"],
        (1_999, 19_999),
        {"material": ["steel", "iron", "copper", "ceramic"]},
    ),
    ("home", "lighting"): (
        ["desk lamp", "floor lamp", "string lights", "headlamp"],
        ["Lumen", "Hearth", "Basecamp"],
        (999, 14_999),
        {"color": ["black", "white", "brass"], "power": ["battery", "mains"]},
    ),
}
ADJECTIVES = ["lightweight", "waterproof", "classic", "ultra", "pro", "everyday", "compact", "warm"]


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    description: str
    brand: str
    category_path: list[str]
    price_cents: int
    currency: str = "EUR"
    attributes: dict[str, Any] = field(default_factory=dict)
    image_urls: list[str] = field(default_factory=list)

    def as_create_body(self) -> dict[str, Any]:
        """The body of POST /v1/admin/products."""
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "brand": self.brand,
            "category_path": self.category_path,
            "price_cents": self.price_cents,
            "currency": self.currency,
            "attributes": self.attributes,
            "image_urls": self.image_urls,
            "status": "active",
        }


def generate(count: int, seed: int = 42) -> list[DemoProduct]:
    """`count` products spread over every category; prices end in 99 like real ones."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    categories = list(CATEGORIES)
    products = []
    for n in range(count):
        path = categories[n % len(categories)]
        nouns, brands, (low, high), facets = CATEGORIES[path]
        noun, brand, adjective = rng.choice(nouns), rng.choice(brands), rng.choice(ADJECTIVES)
        attributes = {name: rng.choice(values) for name, values in facets.items()}
        colour = attributes.get("color")
        name = f"{brand} {adjective} {noun}" + (f" in {colour}" if colour else "")
        price = (rng.randrange(low, high) // 100) * 100 + 99
        sku = f"{path[0][:3].upper()}-{path[1][:3].upper()}-{n:06d}"
        products.append(
            DemoProduct(
                sku=sku,
                name=name.capitalize() if not name[0].isupper() else name,
                description=f"A {adjective} {noun} by {brand}, made for {path[1]}.",
                brand=brand,
                category_path=list(path),
                price_cents=price,
                attributes=attributes,
                image_urls=[f"https://img.shoplake.dev/{sku}.jpg"],
            )
        )
    return products
