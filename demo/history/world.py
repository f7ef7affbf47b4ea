"""The world a history is simulated in, and the structure it plants for analysts and models.

Everything here is drawn from the seed alone (and the history's size and dates), before a single
day is simulated: the catalog with its long-tailed popularity and price bands, the taste
segments, the shoppers, the complements, the promotions, the price changes and the fragile
supply that will run out of stock. `ground_truth()` writes it down, so that tests can check that
the marts and the models find what was planted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from demo.catalog import ADJECTIVES, CATEGORIES
from demo.history.calendar import holidays

Category = tuple[str, ...]
BANDS = ("budget", "mid", "premium")
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("FR", 0.24),
    ("DE", 0.24),
    ("ES", 0.12),
    ("IT", 0.12),
    ("NL", 0.1),
    ("GB", 0.1),
)
COUNTRIES += (("BE", 0.08),)
WAREHOUSES = ("WH-1", "WH-2")
# Which categories go with which: buying from the first makes one of the second likely.
COMPLEMENT_CATEGORIES: dict[Category, tuple[Category, ...]] = {
    ("shoes", "running"): (("apparel", "tshirts"), ("electronics", "watches")),
    ("shoes", "hiking"): (("outdoor", "backpacks"),),
    ("outdoor", "tents"): (("outdoor", "backpacks"), ("home", "lighting")),
    ("apparel", "jackets"): (("apparel", "tshirts"),),
    ("electronics", "watches"): (("electronics", "headphones"),),
    ("home", "kitchen"): (("home", "lighting"),),
}
COMPLEMENT_PROBABILITY = 0.35


@dataclass(frozen=True)
class Segment:
    """A taste: which categories, brands and price bands its shoppers look at, and how much a
    price change moves them (elasticity of the add-to-cart rate)."""

    name: str
    share: float
    categories: dict[Category, float]
    brands: tuple[str, ...]
    bands: tuple[float, float, float]
    elasticity: float


SEGMENTS = (
    Segment(
        "trail runners",
        0.20,
        {
            ("shoes", "running"): 0.4,
            ("apparel", "tshirts"): 0.2,
            ("electronics", "watches"): 0.2,
            ("shoes", "hiking"): 0.1,
        },
        ("Stride", "Fleetfoot", "Pulse"),
        (0.8, 1.5, 0.8),
        1.8,
    ),
    Segment(
        "mountain hikers",
        0.18,
        {
            ("shoes", "hiking"): 0.3,
            ("outdoor", "tents"): 0.2,
            ("outdoor", "backpacks"): 0.2,
            ("apparel", "jackets"): 0.2,
        },
        ("Summit", "Ridgeline", "Basecamp"),
        (0.4, 1.0, 2.5),
        1.2,
    ),
    Segment(
        "home cooks",
        0.17,
        {("home", "kitchen"): 0.55, ("home", "lighting"): 0.3},
        ("Hearth", "Copperline"),
        (0.8, 1.5, 0.8),
        2.0,
    ),
    Segment(
        "audiophiles",
        0.12,
        {("electronics", "headphones"): 0.55, ("electronics", "watches"): 0.25},
        ("Sonique", "Clarion"),
        (0.4, 1.0, 2.5),
        1.0,
    ),
    Segment(
        "bargain hunters",
        0.18,
        {category: 0.1 for category in CATEGORIES},
        ("Basics Co",),
        (3.0, 1.0, 0.3),
        3.0,
    ),
    Segment(
        "city commuters",
        0.15,
        {
            ("apparel", "jackets"): 0.3,
            ("outdoor", "backpacks"): 0.2,
            ("electronics", "headphones"): 0.2,
            ("home", "lighting"): 0.15,
        },
        ("Northwind", "Lumen"),
        (0.8, 1.5, 0.8),
        1.6,
    ),
)


@dataclass
class Product:
    sku: str
    name: str
    description: str
    brand: str
    category: Category
    noun: str
    base_price_cents: int
    band: int  # index into BANDS
    popularity: float
    attributes: dict[str, str]
    warehouses: tuple[str, ...]
    price_cents: int = 0
    version: int = 1
    complement: str | None = None
    fragile_from: date | None = None  # its supplier is late in this window
    fragile_until: date | None = None

    def __post_init__(self) -> None:
        self.price_cents = self.price_cents or self.base_price_cents


@dataclass(frozen=True)
class Shopper:
    user_id: str
    email: str
    country: str
    registered_at: datetime
    segment: int
    activity: float  # relative rate of sessions


@dataclass(frozen=True)
class Promotion:
    promotion_id: str
    name: str
    kind: str  # percentage | fixed
    value: int  # basis points, or cents for fixed
    scope: str  # sku | category | cart
    scope_values: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    coupon_code: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def covers(self, product: Product) -> bool:
        if self.scope == "sku":
            return product.sku in self.scope_values
        if self.scope == "category":
            path = "/".join(product.category)
            return any(path == v or path.startswith(v + "/") for v in self.scope_values)
        return False

    def active(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class PriceChange:
    sku: str
    at: datetime
    new_price_cents: int


@dataclass(frozen=True)
class HistoryParams:
    """The size of a history and where it ends; the seed makes it the same every time."""

    days: int = 180
    users: int = 5000
    products: int = 2000
    seed: int = 7
    end: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    # Sessions per registered shopper per day; ~1M interactions at the default size.
    session_rate: float = 0.27

    def __post_init__(self) -> None:
        if self.days < 1 or self.users < 10 or self.products < 20:
            raise ValueError("a history needs at least 1 day, 10 users and 20 products")
        if self.end.tzinfo is None:
            raise ValueError("the end of a history must carry a timezone")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    @property
    def prefix(self) -> str:
        """Every SKU, e-mail and reference of the history carries it: `H7` for seed 7."""
        return f"H{self.seed}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "users": self.users,
            "products": self.products,
            "seed": self.seed,
            "end": self.end.isoformat(),
            "session_rate": self.session_rate,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HistoryParams:
        return cls(**{**values, "end": datetime.fromisoformat(values["end"])})


# The bits `uuid.UUID(int=..., version=4)` sets: the variant (RFC 4122) and the version.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from the simulation's generator (so the seed fixes it): the text
    of `uuid.UUID(int=rng.getrandbits(128), version=4)`, without building the object."""
    return uuid4_text(rng.getrandbits(128))


def uuid4_text(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))` for a 128-bit integer."""
    h = ((bits & _UUID4_CLEAR) | _UUID4_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class World:
    params: HistoryParams
    products: list[Product]
    shoppers: list[Shopper]
    promotions: list[Promotion]
    price_changes: list[PriceChange]
    # Per segment, the cumulative probability of viewing each product (in `products` order).
    view_cdf: np.ndarray
    by_sku: dict[str, Product] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_sku = {p.sku: p for p in self.products}

    def ground_truth(self) -> dict[str, Any]:
        """What the history planted, for the tests that check the marts and models find it."""
        p = self.params
        days = {p.start.date() + timedelta(days=n) for n in range((p.end - p.start).days + 1)}
        peaks = {
            day.isoformat(): {"name": name, "factor": factor}
            for year in {d.year for d in days}
            for day, (name, factor) in holidays(year).items()
            if day in days
        }
        return {
            "params": p.as_dict(),
            "segments": [
                {
                    "name": s.name,
                    "share": s.share,
                    "categories": {"/".join(c): w for c, w in s.categories.items()},
                    "brands": list(s.brands),
                    "price_bands": dict(zip(BANDS, s.bands, strict=True)),
                    "elasticity": s.elasticity,
                }
                for s in SEGMENTS
            ],
            "user_segments": {u.user_id: SEGMENTS[u.segment].name for u in self.shoppers},
            "complements": [
                {"sku": prod.sku, "complement": prod.complement, "probability": 0.35}
                for prod in self.products
                if prod.complement
            ],
            "popularity": {prod.sku: round(prod.popularity, 6) for prod in self.products},
            "price_bands": {prod.sku: BANDS[prod.band] for prod in self.products},
            "promotions": [
                {
                    "promotion_id": promo.promotion_id,
                    "name": promo.name,
                    "kind": promo.kind,
                    "value": promo.value,
                    "scope": promo.scope,
                    "scope_values": list(promo.scope_values),
                    "starts_at": promo.starts_at.isoformat(),
                    "ends_at": promo.ends_at.isoformat(),
                }
                for promo in self.promotions
            ],
            "price_changes": [
                {"sku": c.sku, "at": c.at.isoformat(), "new_price_cents": c.new_price_cents}
                for c in self.price_changes
            ],
            "fragile_supply": [
                {
                    "sku": prod.sku,
                    "from": prod.fragile_from.isoformat(),
                    "until": prod.fragile_until.isoformat(),
                }
                for prod in self.products
                if prod.fragile_from and prod.fragile_until
            ],
            "holidays": peaks,
            "weekly_factors": [0.95, 0.9, 0.95, 1.0, 1.05, 1.2, 1.15],
            "trend": {"from": 0.8, "to": 1.25},
        }


def _price_ending_99(cents: float) -> int:
    return max(99, int(cents) // 100 * 100 + 99)


def _catalog(params: HistoryParams, rng: random.Random) -> list[Product]:
    categories = list(CATEGORIES)
    ranks = list(range(params.products))
    rng.shuffle(ranks)  # popularity rank, independent of the category
    products = []
    for n in range(params.products):
        category = categories[n % len(categories)]
        nouns, brands, (low, high), facets = CATEGORIES[category]
        noun, brand, adjective = rng.choice(nouns), rng.choice(brands), rng.choice(ADJECTIVES)
        # Prices spread over the category's range, a third per band.
        band = rng.choices((0, 1, 2), weights=(0.4, 0.4, 0.2))[0]
        span = (high - low) / 3
        price = _price_ending_99(low + span * band + rng.random() * span)
        attributes = {name: rng.choice(values) for name, values in facets.items()}
        colour = attributes.get("color")
        name = f"{brand} {adjective} {noun}" + (f" in {colour}" if colour else "")
        sku = f"{params.prefix}-{category[0][:3].upper()}-{category[1][:3].upper()}-{n:06d}"
        products.append(
            Product(
                sku=sku,
                name=name,
                description=f"A {adjective} {noun} by {brand}, made for {category[1]}.",
                brand=brand,
                category=category,
                noun=noun,
                base_price_cents=price,
                band=band,
                # Long-tailed (Zipf-like): a few products take most of the attention.
                popularity=1.0 / (ranks[n] + 1) ** 0.9,
                attributes=attributes,
                warehouses=WAREHOUSES if ranks[n] < params.products // 4 else WAREHOUSES[:1],
            )
        )
    return products


def _complements(products: list[Product], rng: random.Random) -> None:
    """A quarter of the products get one complement from a category that goes with theirs,
    the same brand's when there is one, else a popular one."""
    by_category: dict[Category, list[Product]] = {}
    for product in products:
        by_category.setdefault(product.category, []).append(product)
    for product in products:
        partners = COMPLEMENT_CATEGORIES.get(product.category)
        if not partners or rng.random() > 0.25:
            continue
        candidates = by_category[rng.choice(partners)]
        same_brand = [c for c in candidates if c.brand == product.brand]
        pool = same_brand or sorted(candidates, key=lambda c: -c.popularity)[:20]
        product.complement = rng.choice(pool).sku


def _shoppers(params: HistoryParams, rng: random.Random) -> list[Shopper]:
    countries, country_weights = zip(*COUNTRIES, strict=True)
    shares = [s.share for s in SEGMENTS]
    shoppers = []
    for n in range(params.users):
        if rng.random() < 0.4:  # registered before the history starts
            registered = params.start - timedelta(seconds=rng.uniform(3600, 120 * 86400))
        else:  # sign-ups accelerate over the history (the growth trend)
            registered = params.start + timedelta(days=params.days * rng.random() ** 0.7)
        shoppers.append(
            Shopper(
                user_id=new_uuid(rng),
                email=f"{params.prefix.lower()}-{n:06d}@history.shoplake.dev",
                country=rng.choices(countries, weights=country_weights)[0],
                registered_at=registered.replace(microsecond=0),
                segment=rng.choices(range(len(SEGMENTS)), weights=shares)[0],
                activity=rng.lognormvariate(0.0, 0.8) / 1.377,  # mean 1
            )
        )
    return shoppers


def _promotions(
    params: HistoryParams, products: list[Product], rng: random.Random
) -> list[Promotion]:
    start, days = params.start, params.days

    def window(at: float, length_days: float) -> tuple[datetime, datetime]:
        begin = (start + timedelta(days=days * at)).replace(hour=0, minute=0, second=0)
        return begin, begin + timedelta(days=length_days)

    headphones = sorted(
        (p for p in products if p.category == ("electronics", "headphones")),
        key=lambda p: -p.popularity,
    )
    plan: list[tuple[str, str, int, str, tuple[str, ...], tuple[float, float]]] = [
        ("Running week: 15% off", "percentage", 1500, "category", ("shoes/running",), (0.12, 10)),
        (
            "Outdoor weekend: 20% off",
            "percentage",
            2000,
            "category",
            ("outdoor/tents", "outdoor/backpacks"),
            (0.3, 4),
        ),
        (
            "Headphone deals: 25% off",
            "percentage",
            2500,
            "sku",
            tuple(p.sku for p in headphones[:6]),
            (0.5, 7),
        ),
        ("Kitchen days: 10% off", "percentage", 1000, "category", ("home/kitchen",), (0.7, 14)),
    ]
    promotions = []
    for name, kind, value, scope, values, (at, length) in plan:
        begins, ends = window(at, length)
        promotions.append(Promotion(new_uuid(rng), name, kind, value, scope, values, begins, ends))
    # Black Friday to Cyber Monday, on every category, when the history covers it.
    for year in sorted({params.start.year, params.end.year}):
        for day, (name, _) in holidays(year).items():
            if name == "Black Friday" and params.start.date() < day < params.end.date():
                begins = datetime(day.year, day.month, day.day, tzinfo=UTC)
                promotions.append(
                    Promotion(
                        new_uuid(rng),
                        f"Black Friday {year}: 20% off everything",
                        "percentage",
                        2000,
                        "category",
                        tuple(sorted({c[0] for c in CATEGORIES})),
                        begins,
                        begins + timedelta(days=4),
                    )
                )
    # A welcome coupon for first orders, the whole history long.
    promotions.append(
        Promotion(
            new_uuid(rng),
            "Welcome: 10 EUR off a first order",
            "fixed",
            1000,
            "cart",
            (),
            start - timedelta(days=30),
            params.end + timedelta(days=365),
            coupon_code=f"{params.prefix}WELCOME10",
        )
    )
    return [
        Promotion(
            p.promotion_id,
            p.name,
            p.kind,
            p.value,
            p.scope,
            p.scope_values,
            p.starts_at,
            p.ends_at,
            p.coupon_code,
            created_at=min(p.starts_at, start) - timedelta(days=3),
        )
        for p in promotions
    ]


def _price_changes(
    params: HistoryParams, products: list[Product], rng: random.Random
) -> list[PriceChange]:
    changes = []
    for product in products:
        if rng.random() < 0.08:
            at = params.start + timedelta(days=params.days * rng.uniform(0.1, 0.9))
            factor = rng.choice((0.85, 0.9, 1.1, 1.15))
            changes.append(
                PriceChange(
                    product.sku,
                    at.replace(microsecond=0),
                    _price_ending_99(product.base_price_cents * factor),
                )
            )
    return sorted(changes, key=lambda c: c.at)


def _fragile_supply(params: HistoryParams, products: list[Product], rng: random.Random) -> None:
    """One product in ten has a supplier that is late for two to four weeks: it will sell out."""
    for product in products:
        if rng.random() < 0.1:
            begins = params.start.date() + timedelta(days=int(params.days * rng.uniform(0.1, 0.8)))
            product.fragile_from = begins
            product.fragile_until = begins + timedelta(days=rng.randint(14, 28))


def _view_cdf(products: list[Product]) -> np.ndarray:
    cdf = np.empty((len(SEGMENTS), len(products)))
    popularity = np.array([p.popularity for p in products])
    for s, segment in enumerate(SEGMENTS):
        taste = np.array(
            [
                (segment.categories.get(p.category, 0.0) + 0.02)
                * (3.0 if p.brand in segment.brands else 1.0)
                * segment.bands[p.band]
                for p in products
            ]
        )
        weights = popularity * taste
        cdf[s] = np.cumsum(weights / weights.sum())
    return cdf


def build_world(params: HistoryParams) -> World:
    rng = random.Random(f"world:{params.seed}")  # noqa: S311 - simulated data, not secrets
    products = _catalog(params, rng)
    _complements(products, rng)
    _fragile_supply(params, products, rng)
    shoppers = _shoppers(params, rng)
    promotions = _promotions(params, products, rng)
    price_changes = _price_changes(params, products, rng)
    return World(params, products, shoppers, promotions, price_changes, _view_cdf(products))
