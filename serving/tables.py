"""Every table of the serving domains, imported so that Alembic sees the whole schema."""

from serving.accounts import tables as accounts
from serving.catalog import tables as catalog
from serving.checkout import tables as checkout
from serving.fulfilment import tables as fulfilment
from serving.inbound import tables as inbound
from serving.inventory import tables as inventory
from serving.orders import tables as orders
from serving.payments import tables as payments
from serving.pricing import tables as pricing
from serving.returns import tables as returns
from serving.wishlist import tables as wishlist
from shoplake import outbox
from shoplake.archive import batches as archive_batches
from shoplake.notifications import tables as notifications

__all__ = [
    "accounts",
    "archive_batches",
    "catalog",
    "checkout",
    "fulfilment",
    "inbound",
    "inventory",
    "notifications",
    "orders",
    "outbox",
    "payments",
    "pricing",
    "returns",
    "wishlist",
]
