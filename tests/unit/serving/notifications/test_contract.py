"""serving's users, wishlist and orders tables keep the columns the notification consumer reads
through the kernel (shoplake.notifications.readers)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serving.accounts.tables import users
from serving.orders.tables import orders
from serving.wishlist.tables import wishlist_items
from shoplake.notifications.readers import orders_read, users_read, wishlist_items_read


@pytest.mark.parametrize(
    ("promised", "table"),
    [(users_read, users), (wishlist_items_read, wishlist_items), (orders_read, orders)],
    ids=["users", "wishlist_items", "orders"],
)
def test_every_promised_column_exists_with_the_promised_type(
    promised: sa.TableClause, table: sa.Table
) -> None:
    assert promised.name == table.name
    for column in promised.c:
        assert column.name in table.c, column.name
        actual = table.c[column.name].type
        assert type(actual) is type(column.type), (column.name, actual, column.type)
        assert repr(actual) == repr(column.type), (column.name, actual, column.type)
