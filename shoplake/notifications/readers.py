"""The columns of other domains' tables that the notification consumer reads.

`serving` owns users (accounts), wishlist items (wishlist) and orders (orders); the consumer in
`streaming` may not import serving, so what it selects is declared here as lightweight table
clauses (not registered on the metadata: serving's Tables are the real ones), and a unit test
holds serving's tables to these columns (tests/unit/serving/notifications/test_contract.py).
Products are read through `shoplake.catalog.products_read`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

users_read = sa.table(
    "users",
    sa.column("id", UUID(as_uuid=False)),
    sa.column("email", sa.Text),
    sa.column("display_name", sa.Text),
)

wishlist_items_read = sa.table(
    "wishlist_items",
    sa.column("user_id", UUID(as_uuid=False)),
    sa.column("sku", sa.Text),
)

orders_read = sa.table(
    "orders",
    sa.column("id", sa.Text),
    sa.column("user_id", UUID(as_uuid=False)),
    sa.column("currency", sa.Text),
    sa.column("total_cents", sa.BigInteger),
)
